"""Invitations, referral letters and reminders against a real SMTP server on loopback.

The server is aiosmtpd's ``Controller``, started and stopped synchronously by a
fixture (no sleeping); its handler keeps every message it accepts and can be
told to refuse some, as a real server would with 451 or 550.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from smtp import free_port, smtp_running
from typer.testing import CliRunner

from consult.cli.main import app
from consult.errors import ConsultError
from consult.project import SmtpSection
from consult.sampling.codes import display
from consult.sampling.invitations import invite, remind
from consult.sampling.mailer import OutboxMailer, SmtpMailer
from consult.sampling.referrals import personal_link
from consult.sampling.seeds import add_seed
from consult.sampling.setup import FieldingSetup
from consult.sampling.waves import close_wave, open_wave
from consult.store import Store, fielding
from consult.store.responses import IngestRecord, RespondentRecord, write_ingest

T0 = datetime(2014, 9, 8, 9, 0, tzinfo=UTC)
SETUP = FieldingSetup(title="Test consultation", languages=("en", "fr"), child_codes=2,
                      link_template="https://survey.example.org/s?code={code}",
                      sender="team@consult.example.org")
runner = CliRunner()


# --------------------------------------------------------------------------- the SMTP server


@dataclass
class Recorder:
    """An aiosmtpd handler that keeps accepted messages and refuses on request."""

    received: list[EmailMessage] = field(default_factory=list)
    refuse_recipients: dict[str, str] = field(default_factory=dict)  # address → reply at RCPT
    data_reply: str | None = None  # a reply to give at DATA instead of accepting

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.refuse_recipients:
            return self.refuse_recipients[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_reply is not None:
            return self.data_reply
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(message)
        return "250 Message accepted for delivery"

    def recipients(self) -> list[str]:
        return sorted(str(m["To"].addresses[0].addr_spec) for m in self.received)


@dataclass
class SmtpServer:
    handler: Recorder
    port: int

    @property
    def settings(self) -> SmtpSection:
        return SmtpSection(host="127.0.0.1", port=self.port, security="none",
                           sender=SETUP.sender)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    handler = Recorder()
    with smtp_running(handler) as port:
        yield SmtpServer(handler, port)


# --------------------------------------------------------------------------- the consultation


def seed(store: Store, name: str, language: str = "en") -> str:
    email = f"{name.split()[0].lower()}@example.org"
    return add_seed(store, name, email, language=language, languages=SETUP.languages,
                    now=T0).code


def respond(store: Store, code: str, *, finished: bool = True) -> None:
    record = RespondentRecord(source="web", source_id=uuid.uuid4().hex, referral_code=code,
                              submitted_at=T0 if finished else None, finished=finished)
    write_ingest(store, IngestRecord("web", "form", uuid.uuid4().hex, 1), [record])


def mailer(server: SmtpServer) -> SmtpMailer:
    return SmtpMailer(server.settings)


# --------------------------------------------------------------------------- invitations


def test_invitations_are_sent_once_however_often_invite_runs(store: Store,
                                                             smtp_server: SmtpServer) -> None:
    ana, jean = seed(store, "Ana Lima"), seed(store, "Jean Roy", "fr")
    open_wave(store, 0, child_codes=2, now=T0)

    first = invite(store, SETUP, mailer(smtp_server), now=T0)
    assert (first.invitations_queued, len(first.delivery.sent), first.delivery.failures) == (2, 2, ())
    assert smtp_server.handler.recipients() == ["ana@example.org", "jean@example.org"]

    again = invite(store, SETUP, mailer(smtp_server), now=T0 + timedelta(hours=1))
    assert (again.invitations_queued, again.delivery.sent) == (0, ())
    assert len(smtp_server.handler.received) == 2

    by_to = {str(m["To"].addresses[0].addr_spec): m for m in smtp_server.handler.received}
    english, french = by_to["ana@example.org"], by_to["jean@example.org"]
    assert english["Subject"] == "Invitation: Test consultation"
    assert english["From"] == "team@consult.example.org"
    assert str(english["To"]) == "Ana Lima <ana@example.org>"
    assert personal_link(SETUP.link_template, ana) in english.get_content()
    assert display(ana) in english.get_content()
    assert french["Subject"] == "Invitation : Test consultation"
    assert "Bonjour Jean Roy," in french.get_content()
    assert personal_link(SETUP.link_template, jean) in french.get_content()
    logged = {m.code: m for m in fielding.messages(store)}
    assert {(m.status, m.attempts, m.sent_at, m.transport) for m in logged.values()} == {
        ("sent", 1, T0, f"smtp://127.0.0.1:{smtp_server.port}")}
    assert str(english["Message-ID"]).strip() == logged[ana].message_id


def test_a_refused_message_is_recorded_and_retried_on_the_next_run(
        store: Store, smtp_server: SmtpServer) -> None:
    seed(store, "Ana Lima")
    seed(store, "Jean Roy")
    open_wave(store, 0, child_codes=2, now=T0)
    smtp_server.handler.refuse_recipients["jean@example.org"] = "550 5.1.1 No such mailbox"
    smtp_server.handler.data_reply = None

    first = invite(store, SETUP, mailer(smtp_server), now=T0)
    assert [m.recipient for m in first.delivery.sent] == ["Ana Lima <ana@example.org>"]
    [failure] = first.delivery.failures
    assert (failure.reason, failure.final) == ("550 5.1.1 No such mailbox", False)
    [failed] = fielding.messages(store, status="failed")
    assert (failed.recipient, failed.attempts, failed.error, failed.sent_at) == (
        "Jean Roy <jean@example.org>", 1, "550 5.1.1 No such mailbox", None)

    # The server now answers "try again" to every message: still recorded, never lost.
    smtp_server.handler.refuse_recipients.clear()
    smtp_server.handler.data_reply = "451 4.3.0 Try again later"
    second = invite(store, SETUP, mailer(smtp_server), now=T0 + timedelta(hours=1))
    assert [f.reason for f in second.delivery.failures] == ["451 4.3.0 Try again later"]
    assert fielding.messages(store, status="failed")[0].attempts == 2

    smtp_server.handler.data_reply = None
    third = invite(store, SETUP, mailer(smtp_server), now=T0 + timedelta(hours=2))
    assert [m.recipient for m in third.delivery.sent] == ["Jean Roy <jean@example.org>"]
    assert smtp_server.handler.recipients() == ["ana@example.org", "jean@example.org"]
    assert {(m.status, m.attempts, m.error) for m in fielding.messages(store)} == {
        ("sent", 1, None), ("sent", 3, None)}


def test_a_message_is_given_up_after_its_last_attempt(store: Store,
                                                     smtp_server: SmtpServer) -> None:
    seed(store, "Ana Lima")
    open_wave(store, 0, child_codes=2, now=T0)
    smtp_server.handler.data_reply = "451 4.3.0 Try again later"
    finals = [invite(store, SETUP, mailer(smtp_server), max_attempts=2,
                     now=T0).delivery.failures[0].final for _ in range(2)]
    assert finals == [False, True]
    smtp_server.handler.data_reply = None
    assert invite(store, SETUP, mailer(smtp_server), max_attempts=2, now=T0).delivery.sent == ()
    [message] = fielding.messages(store)
    assert (message.status, message.attempts) == ("failed", 2)
    assert smtp_server.handler.received == []


def test_a_server_closing_the_connection_stops_the_run_and_keeps_the_rest_queued(
        store: Store, smtp_server: SmtpServer) -> None:
    for name in ("Ana Lima", "Jean Roy", "Kofi Mensah"):
        seed(store, name)
    open_wave(store, 0, child_codes=2, now=T0)
    smtp_server.handler.data_reply = "421 4.3.2 Shutting down"
    delivery = invite(store, SETUP, mailer(smtp_server), now=T0).delivery
    assert (delivery.sent, delivery.not_tried, delivery.connection_lost) == (
        (), 2, "421 4.3.2 Shutting down")
    assert sorted((m.status, m.attempts) for m in fielding.messages(store)) == [
        ("failed", 1), ("queued", 0), ("queued", 0)]
    smtp_server.handler.data_reply = None
    assert len(invite(store, SETUP, mailer(smtp_server), now=T0).delivery.sent) == 3
    assert len(smtp_server.handler.received) == 3


def test_an_unreachable_server_sends_nothing_and_loses_nothing(store: Store,
                                                              smtp_server: SmtpServer) -> None:
    seed(store, "Ana Lima")
    open_wave(store, 0, child_codes=2, now=T0)
    closed_port = SmtpSection(host="127.0.0.1", port=free_port(), sender=SETUP.sender)
    with pytest.raises(ConsultError) as caught:
        invite(store, SETUP, SmtpMailer(closed_port), now=T0)
    message = str(caught.value)
    assert message.startswith(f"cannot connect to the SMTP server 127.0.0.1:{closed_port.port} (")
    assert message.endswith("); check [smtp] host, port and security in consult.toml; nothing "
                            "was sent and every message stays queued")
    assert [(m.status, m.attempts) for m in fielding.messages(store)] == [("queued", 0)]
    assert len(invite(store, SETUP, mailer(smtp_server), now=T0).delivery.sent) == 1


def test_invitations_go_only_to_open_waves(store: Store, smtp_server: SmtpServer) -> None:
    ana = seed(store, "Ana Lima")
    open_wave(store, 0, child_codes=2, now=T0)
    invite(store, SETUP, mailer(smtp_server), now=T0)
    respond(store, ana)
    open_wave(store, 1, child_codes=2, now=T0)
    close_wave(store, 1, now=T0)
    with pytest.raises(ConsultError) as caught:
        invite(store, SETUP, mailer(smtp_server), wave=1, now=T0)
    assert str(caught.value) == ("wave 1 is not open (open waves: 0); open it with: "
                                 "consult wave open 1")
    assert invite(store, SETUP, mailer(smtp_server), now=T0).delivery.sent == ()
    assert smtp_server.handler.recipients() == ["ana@example.org"]


def test_a_respondent_gets_one_letter_with_the_codes_to_pass_on(store: Store,
                                                              smtp_server: SmtpServer) -> None:
    ana = seed(store, "Ana Lima")
    open_wave(store, 0, child_codes=2, now=T0)
    invite(store, SETUP, mailer(smtp_server), now=T0)
    respond(store, ana)
    open_wave(store, 1, child_codes=2, now=T0)
    result = invite(store, SETUP, mailer(smtp_server), wave=1, now=T0)
    assert (result.invitations_queued, result.referrals_queued) == (0, 1)
    letter = smtp_server.handler.received[-1]
    children = [i.code for i in fielding.invitees(store, [1])]
    assert len(children) == 2
    assert letter["Subject"] == "Thank you, and links for your colleagues: Test consultation"
    for code in children:
        assert f"{personal_link(SETUP.link_template, code)}   (code {display(code)})" in \
            letter.get_content()
    assert invite(store, SETUP, mailer(smtp_server), wave=1, now=T0).delivery.sent == ()


# --------------------------------------------------------------------------- reminders


def test_reminders_go_only_to_invitees_without_a_completed_response(
        store: Store, smtp_server: SmtpServer) -> None:
    done, stopped, silent = (seed(store, n) for n in ("Ana Lima", "Jean Roy", "Kofi Mensah"))
    open_wave(store, 0, child_codes=2, now=T0)
    invite(store, SETUP, mailer(smtp_server), now=T0)
    respond(store, done)
    respond(store, stopped, finished=False)
    smtp_server.handler.received.clear()

    early = remind(store, SETUP, mailer(smtp_server), after_days=7, max_reminders=2,
                   now=T0 + timedelta(days=6))
    assert (early.reminders_queued, smtp_server.handler.received) == (0, [])

    first = remind(store, SETUP, mailer(smtp_server), after_days=7, max_reminders=2,
                   now=T0 + timedelta(days=7))
    assert first.reminders_queued == 2
    assert smtp_server.handler.recipients() == ["jean@example.org", "kofi@example.org"]
    reminder = smtp_server.handler.received[0]
    assert reminder["Subject"] == "Reminder: Test consultation"
    assert "On 2014-09-08 we invited you" in reminder.get_content()

    # The same day again: nothing new. A week later: the second reminder. Then no more.
    assert remind(store, SETUP, mailer(smtp_server), after_days=7, max_reminders=2,
                  now=T0 + timedelta(days=8)).reminders_queued == 0
    respond(store, stopped)  # Jean finishes after the first reminder
    second = remind(store, SETUP, mailer(smtp_server), after_days=7, max_reminders=2,
                    now=T0 + timedelta(days=14))
    assert [m.recipient for m in second.delivery.sent] == ["Kofi Mensah <kofi@example.org>"]
    assert remind(store, SETUP, mailer(smtp_server), after_days=7, max_reminders=2,
                  now=T0 + timedelta(days=60)).reminders_queued == 0
    sent = [(m.code, m.sequence) for m in fielding.messages(store, kinds=["reminder"])]
    assert sorted(sent) == sorted([(stopped, 1), (silent, 1), (silent, 2)])


# --------------------------------------------------------------------------- templates


def test_a_project_template_overrides_the_shipped_one_and_misspellings_fail(
        store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "templates" / "email"
    folder.mkdir(parents=True)
    (folder / "invitation.en.txt.j2").write_text(
        "Subject: Please help, {{ name }}\n\n{{ link }}\n", encoding="utf-8")
    setup = FieldingSetup(**{**SETUP.__dict__, "templates_dir": tmp_path / "templates"})
    ana = seed(store, "Ana Lima")
    seed(store, "Jean Roy", "fr")  # no French override: the shipped French text is used
    open_wave(store, 0, child_codes=2, now=T0)
    invite(store, setup, OutboxMailer(tmp_path / "outbox"), now=T0)
    written = {p.name: message_from_bytes(p.read_bytes(), policy=policy.default)
               for p in (tmp_path / "outbox").iterdir()}
    mine = written[f"invitation-{ana}-0.eml"]
    assert mine["Subject"] == "Please help, Ana Lima"
    assert mine.get_content() == personal_link(SETUP.link_template, ana) + "\n"  # type: ignore[attr-defined]
    assert len(written) == 2

    (folder / "reminder.en.txt.j2").write_text("Subject: Hello {{ nmae }}\n\nx\n",
                                               encoding="utf-8")
    with pytest.raises(ConsultError) as caught:
        remind(store, setup, OutboxMailer(tmp_path / "outbox"), after_days=0, max_reminders=1,
               now=T0 + timedelta(days=1))
    assert str(caught.value) == (f"{folder / 'reminder.en.txt.j2'}: 'nmae' is undefined; the "
                                 "variables a reminder template can use are listed in "
                                 "docs/fielding.md")
    assert fielding.messages(store, kinds=["reminder"]) == []


# --------------------------------------------------------------------------- the command line


def configure_smtp(root: Path, server: SmtpServer, user: str = "") -> None:
    settings = root / "consult.toml"
    text = settings.read_text(encoding="utf-8")
    text = text.replace('host = "localhost"', 'host = "127.0.0.1"')
    text = text.replace("port = 25", f"port = {server.port}")
    text = text.replace('user = ""', f'user = "{user}"')
    settings.write_text(text, encoding="utf-8")


def test_cli_invite_and_remind_over_smtp(fielding_project: Path, smtp_server: SmtpServer) -> None:
    configure_smtp(fielding_project, smtp_server)
    base = ["--project", str(fielding_project)]
    assert runner.invoke(app, [*base, "seeds", "add", "--name", "Ana Lima", "--email",
                               "ana@example.org"]).exit_code == 0
    assert runner.invoke(app, [*base, "wave", "open", "0"]).exit_code == 0

    result = runner.invoke(app, [*base, "invite", "--send"])
    assert result.exit_code == 0, result.output
    assert result.stdout == ("Wave(s) 0.\n"
                             "Queued 1 invitation(s) and 0 referral letter(s).\n"
                             f"Sent 1 message(s) via smtp://127.0.0.1:{smtp_server.port}\n")
    assert smtp_server.handler.recipients() == ["ana@example.org"]

    result = runner.invoke(app, [*base, "remind", "--after-days", "0", "--max", "1", "--send"])
    assert result.exit_code == 0, result.output
    assert "Queued 1 reminder(s).\n" in result.stdout
    assert len(smtp_server.handler.received) == 2

    smtp_server.handler.data_reply = "451 4.3.0 Try again later"
    result = runner.invoke(app, [*base, "remind", "--after-days", "0", "--max", "2", "--send"])
    assert result.exit_code == 1
    assert result.stderr == ("  failed: reminder to Ana Lima <ana@example.org>: 451 4.3.0 Try "
                             "again later (will be retried on the next run)\n")


def test_cli_invite_needs_a_delivery_and_a_password(fielding_project: Path,
                                                    smtp_server: SmtpServer,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    base = ["--project", str(fielding_project)]
    result = runner.invoke(app, [*base, "invite"])
    assert (result.exit_code, result.stderr) == (1, (
        "Error: say how to deliver: --send (over SMTP, [smtp] in consult.toml) or --outbox DIR "
        "(.eml files for any mail client)\n"))
    result = runner.invoke(app, [*base, "invite", "--send", "--outbox", "out/mail"])
    assert result.stderr == "Error: --send and --outbox exclude each other; choose one\n"
    configure_smtp(fielding_project, smtp_server, user="coordinator")
    monkeypatch.delenv("CONSULT_SMTP_PASSWORD", raising=False)
    result = runner.invoke(app, [*base, "invite", "--send"])
    assert result.stderr == (
        "Error: [smtp] user is 'coordinator' but the environment variable CONSULT_SMTP_PASSWORD "
        "is empty; export the SMTP password in it before sending\n")
    result = runner.invoke(app, [*base, "invite", "--outbox", "mail"])
    assert result.stderr == ("Error: no wave is open; open the seeds' wave with: "
                             "consult wave open 0\n")


@pytest.mark.parametrize("command", [["invite"], ["remind"]], ids=" ".join)
def test_cli_help_has_an_example(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Example: consult " + " ".join(command) in result.stdout
