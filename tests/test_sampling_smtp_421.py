"""A server answering 421 stops the run at once, against a real SMTP server on loopback.

The server is aiosmtpd's ``Controller`` (tests/smtp.py); told to, its handler
answers 421 at the next RCPT, as a server shutting down does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from smtp import smtp_running
from typer.testing import CliRunner

from consult.cli.main import app
from consult.project import DATABASE_ENV, SmtpSection, init_project
from consult.sampling.invitations import invite
from consult.sampling.mailer import SmtpMailer
from consult.sampling.seeds import add_seed
from consult.sampling.setup import FieldingSetup
from consult.sampling.waves import open_wave
from consult.store import Store, fielding

T0 = datetime(2014, 9, 8, 9, 0, tzinfo=UTC)
SETUP = FieldingSetup(title="Test consultation", languages=("en", "fr"), child_codes=2,
                      link_template="https://survey.example.org/s?code={code}",
                      sender="team@consult.example.org")
CLOSING = "421 4.3.2 Service not available"
runner = CliRunner()


@dataclass
class Closing:
    """Answers 421 to the next RCPT when ``closing`` is set; accepts everyone otherwise."""

    closing: bool = False
    rcpt_seen: list[str] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        self.rcpt_seen.append(address)
        if self.closing:
            self.closing = False
            return CLOSING
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.accepted += envelope.rcpt_tos
        return "250 Message accepted for delivery"


@pytest.fixture
def server() -> Iterator[tuple[Closing, int]]:
    handler = Closing()
    with smtp_running(handler) as port:
        yield handler, port


def test_a_421_at_rcpt_stops_the_run_before_the_next_message(
        store: Store, server: tuple[Closing, int]) -> None:
    handler, port = server
    for name in ("ana", "jean", "kofi"):
        add_seed(store, name.title(), f"{name}@example.org", languages=SETUP.languages, now=T0)
    open_wave(store, 0, child_codes=2, now=T0)
    handler.closing = True
    mailer = SmtpMailer(SmtpSection(host="127.0.0.1", port=port, security="none",
                                    sender=SETUP.sender))

    delivery = invite(store, SETUP, mailer, now=T0).delivery

    assert (delivery.sent, delivery.not_tried, delivery.connection_lost) == ((), 2, CLOSING)
    assert [f.reason for f in delivery.failures] == [CLOSING]
    assert len(handler.rcpt_seen) == 1  # nobody after the 421 was tried
    closed_on = f"{handler.rcpt_seen[0].split('@')[0].title()} <{handler.rcpt_seen[0]}>"
    by_recipient = {m.recipient: (m.status, m.attempts, m.error)
                    for m in fielding.messages(store)}
    assert by_recipient == {"Ana <ana@example.org>": ("queued", 0, None),
                            "Jean <jean@example.org>": ("queued", 0, None),
                            "Kofi <kofi@example.org>": ("queued", 0, None),
                            closed_on: ("failed", 1, CLOSING)}

    again = invite(store, SETUP, mailer, now=T0).delivery
    assert (len(again.sent), again.failures, again.connection_lost) == (3, (), None)
    assert sorted(handler.accepted) == ["ana@example.org", "jean@example.org", "kofi@example.org"]


def test_cli_names_the_servers_421_reply(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         server: tuple[Closing, int]) -> None:
    handler, port = server
    monkeypatch.delenv(DATABASE_ENV, raising=False)
    root = tmp_path / "consultation"
    init_project(root, title="Test consultation")
    settings = root / "consult.toml"
    settings.write_text(settings.read_text(encoding="utf-8")
                        .replace('host = "localhost"', 'host = "127.0.0.1"')
                        .replace("port = 25", f"port = {port}"), encoding="utf-8")
    base = ["--project", str(root)]
    for name in ("ana", "jean"):
        added = runner.invoke(app, [*base, "seeds", "add", "--name", name.title(),
                                    "--email", f"{name}@example.org"])
        assert added.exit_code == 0, added.output
    assert runner.invoke(app, [*base, "wave", "open", "0"]).exit_code == 0
    handler.closing = True

    result = runner.invoke(app, [*base, "invite", "--send"])

    assert result.exit_code == 1
    assert len(handler.rcpt_seen) == 1
    closed_on = f"{handler.rcpt_seen[0].split('@')[0].title()} <{handler.rcpt_seen[0]}>"
    assert result.stderr == (
        f"  failed: invitation to {closed_on}: {CLOSING} (will be retried on the next run)\n"
        f"Stopped: {CLOSING}; 1 message(s) stay queued: run the command again.\n")
