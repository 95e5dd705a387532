"""Status counts a code as invited only once it left the database (both backends).

A child code is handed out when ``consult links`` writes it, when the web
form's thank-you page shows it, or when a referral letter carrying it is
delivered. The child codes of a respondent ingested from a platform export
(no contact, no thank-you page) are issued by ``invite``'s top-up but reach no
one until then: the audit's wave 2 showed "invited 43, completed 1" where 33
of those codes had never left the database.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from test_web_helpers import Respondent, make_project, running
from typer.testing import CliRunner

from consult.cli.main import app
from consult.project import DATABASE_ENV, init_project, load_project
from consult.sampling.invitations import invite
from consult.sampling.mailer import OutboxMailer
from consult.sampling.nominations import add_nomination, approve_nomination
from consult.sampling.referrals import issue_child_codes, personal_links, record_links_handed_out
from consult.sampling.seeds import add_seed
from consult.sampling.setup import FieldingSetup
from consult.sampling.status import fielding_status
from consult.sampling.waves import open_wave
from consult.store import Store, fielding, migrations, open_store, schema
from consult.store.fielding import MessageDraft
from consult.store.responses import IngestRecord, RespondentRecord, write_ingest
from consult.web.app import create_app

T0 = datetime(2014, 9, 8, 9, 0, tzinfo=UTC)
SETUP = FieldingSetup(title="Test consultation", languages=("en",), child_codes=2,
                      link_template="https://survey.example.org/s?code={code}",
                      sender="team@consult.example.org")
runner = CliRunner()


def ingest(store: Store, code: str, submitted: datetime) -> None:
    """A completed response carrying ``code``, from a platform export (not the web form)."""
    write_ingest(store, IngestRecord("qualtrics", "export.csv", uuid.uuid4().hex, 1), [
        RespondentRecord(source="qualtrics", source_id=uuid.uuid4().hex, referral_code=code,
                         region="Europe", started_at=submitted, submitted_at=submitted,
                         finished=True)])


def invited_seed(store: Store, name: str, *, sent: bool = True) -> str:
    """A seed whose invitation was delivered at T0 (or only queued, ``sent=False``)."""
    code = add_seed(store, name, f"{name.split()[0].lower()}@example.org", languages=["en"],
                    now=T0).code
    contact_id = fielding.find_code(store, code).contact_id  # type: ignore[union-attr]
    fielding.queue_messages(store, [MessageDraft(contact_id or 0, code, "invitation", 0, 0, "en",
                                                 "x@example.org", "s", "b", f"<{code}@x>")], T0)
    if sent:
        [message] = [m for m in fielding.messages(store) if m.code == code]
        fielding.record_sent(store, message.id, T0, "test")
    return code


def wave_counts(store: Store, wave: int) -> dict[str, object]:
    [found] = [w for w in fielding_status(store).to_dict()["waves"] if w["wave"] == wave]
    return {k: found[k] for k in ("invited", "not_handed_out", "started", "completed",
                                  "response_rate", "median_days")}


def children_of(store: Store, parent: str) -> list[fielding.Invitee]:
    return [i for i in fielding.invitees(store) if i.parent_code == parent]


# --------------------------------------------------------------------------- consult links


def test_child_codes_of_an_ingested_respondent_count_only_once_links_writes_them(
        store: Store, tmp_path: Path) -> None:
    ana = invited_seed(store, "Ana Lima")
    open_wave(store, 0, child_codes=2, now=T0)
    ingest(store, ana, T0 + timedelta(days=1))
    open_wave(store, 1, child_codes=2, now=T0 + timedelta(days=2))
    # Ana's codes go out through the platform: the coordinator writes their links.
    assert record_links_handed_out(store, personal_links(store, SETUP.link_template, waves=[1]),
                                   now=T0 + timedelta(days=2)) == 2
    first = children_of(store, ana)[0].code
    ingest(store, first, T0 + timedelta(days=3))  # a wave-1 respondent with no contact
    open_wave(store, 2, child_codes=2, now=T0 + timedelta(days=4))
    # invite's top-up: nothing to e-mail the codes to (no contact), so nothing hands them out.
    result = invite(store, SETUP, OutboxMailer(tmp_path / "outbox"), wave=2,
                    now=T0 + timedelta(days=4))
    assert (result.invitations_queued, result.referrals_queued) == (0, 0)
    grandchildren = children_of(store, first)
    assert len(grandchildren) == 2
    assert all(g.handed_at is None for g in grandchildren)
    assert wave_counts(store, 2) == {"invited": 0, "not_handed_out": 2, "started": 0,
                                     "completed": 0, "response_rate": None,
                                     "median_days": None}
    # Wave 1 by hand: 2 handed out, 1 completed, 1 day from handing out to the answer.
    assert wave_counts(store, 1) == {"invited": 2, "not_handed_out": 0, "started": 1,
                                     "completed": 1, "response_rate": 0.5, "median_days": 1.0}

    written = personal_links(store, SETUP.link_template, waves=[2])
    assert record_links_handed_out(store, written, now=T0 + timedelta(days=5)) == 2
    assert wave_counts(store, 2)["invited"] == 2
    assert wave_counts(store, 2)["not_handed_out"] == 0
    # Writing them again keeps the first moment.
    assert record_links_handed_out(store, written, now=T0 + timedelta(days=9)) == 0
    assert {g.handed_at for g in children_of(store, first)} == {T0 + timedelta(days=5)}
    totals = fielding_status(store).totals
    assert (totals.invited, totals.not_handed_out) == (5, 0)


def test_consult_links_hands_out_the_codes_it_writes(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    db_url: str) -> None:
    monkeypatch.setenv(DATABASE_ENV, db_url)
    root = tmp_path / "consultation"
    init_project(root, title="Test consultation")

    def run(*args: str) -> str:
        result = runner.invoke(app, ["--project", str(root), *args])
        assert result.exit_code == 0, result.output
        return result.stdout

    run("seeds", "add", "--name", "Ana Lima", "--email", "ana@example.org")
    run("wave", "open", "0")
    run("invite", "--outbox", str(tmp_path / "outbox"))
    with open_store(load_project(explicit=root).database_url) as store:
        [ana] = [i.code for i in fielding.invitees(store)]
        ingest(store, ana, datetime.now(UTC))
    run("wave", "open", "1")  # 3 child codes for Ana, e-mailed to no one
    wave_1 = json.loads(run("status", "--json"))["waves"][1]
    assert (wave_1["invited"], wave_1["not_handed_out"]) == (0, 3)
    table = run("status")
    assert " not.handed " in table

    target = tmp_path / "links.csv"
    assert run("links", "--wave", "1", "-o", str(target)) == f"Wrote 3 link(s) to {target}\n"
    wave_1 = json.loads(run("status", "--json"))["waves"][1]
    assert (wave_1["invited"], wave_1["not_handed_out"]) == (3, 0)


def test_links_that_fail_to_be_written_hand_out_nothing(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        sqlite_url: str) -> None:
    monkeypatch.setenv(DATABASE_ENV, sqlite_url)
    root = tmp_path / "consultation"
    init_project(root, title="Test consultation")
    with open_store(sqlite_url) as store:
        add_seed(store, "Ana Lima", "ana@example.org", languages=["en"], now=T0)
    missing = tmp_path / "no such folder" / "links.csv"
    result = runner.invoke(app, ["--project", str(root), "links", "-o", str(missing)])
    assert result.exit_code != 0
    with open_store(sqlite_url) as store:
        assert [i.handed_at for i in fielding.invitees(store)] == [None]


# --------------------------------------------------------------------------- referral letters


def test_a_delivered_referral_letter_hands_out_the_codes_it_carries(store: Store,
                                                                     tmp_path: Path) -> None:
    outbox = OutboxMailer(tmp_path / "outbox")
    open_wave(store, 0, child_codes=2, now=T0)
    ana = add_seed(store, "Ana Lima", "ana@example.org", languages=["en"], now=T0).code
    invite(store, SETUP, outbox, wave=0, now=T0)
    ingest(store, ana, T0 + timedelta(days=1))
    open_wave(store, 1, child_codes=2, now=T0 + timedelta(days=2))
    result = invite(store, SETUP, OutboxMailer(tmp_path / "outbox"), wave=1,
                    now=T0 + timedelta(days=3))
    assert result.referrals_queued == 1
    assert {c.handed_at for c in children_of(store, ana)} == {T0 + timedelta(days=3)}
    # A code issued after the letter went out is not in it.
    [late] = issue_child_codes(store, 3, parent_waves=[0], now=T0 + timedelta(days=4))
    assert fielding.find_code(store, late.code).handed_at is None  # type: ignore[union-attr]
    assert {k: wave_counts(store, 1)[k] for k in ("invited", "not_handed_out")} == {
        "invited": 2, "not_handed_out": 1}


# --------------------------------------------------------------------------- thank-you page


def test_the_thank_you_page_hands_out_the_codes_it_shows(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         db_url: str) -> None:
    monkeypatch.setenv(DATABASE_ENV, db_url)
    project, codes = make_project(tmp_path / "consultation", seeds=2)
    with open_store(project.database_url) as store:
        ingest(store, codes[1], T0)  # answered on a platform: never sees the thank-you page
    with running(create_app(project, secure_cookies=False, secret=b"test-secret")) as url:
        person = Respondent(url)
        thanks = person.complete(codes[0])
        assert thanks.url.path == "/thanks"
        with open_store(project.database_url) as store:
            shown = {c.code: c.handed_at for c in children_of(store, codes[0])}
            # The page's top-up gave the platform respondent codes too, shown to no one.
            unseen = children_of(store, codes[1])
            assert len(shown) == 3 and len(unseen) == 3
            assert all(shown.values()) and all(c.handed_at is None for c in unseen)
            counts = wave_counts(store, 1)
        assert (counts["invited"], counts["not_handed_out"]) == (3, 3)
        assert all(code in thanks.text for code in shown)
        again = person.client.get("/thanks")  # a reload keeps the first moment
        assert again.status_code == 200
        person.close()
    with open_store(project.database_url) as store:
        assert {c.code: c.handed_at for c in children_of(store, codes[0])} == shown


# --------------------------------------------------------------------------- migration 6


def test_migration_6_backfills_so_that_status_is_unchanged(db_url: str) -> None:
    with open_store(db_url) as store:
        ana = invited_seed(store, "Ana Lima")
        invited_seed(store, "Jean Roy", sent=False)  # queued, never delivered
        open_wave(store, 0, child_codes=2, now=T0)
        ingest(store, ana, T0 + timedelta(days=2))
        open_wave(store, 1, child_codes=2, now=T0 + timedelta(days=3))
        pending = add_nomination(store, SETUP, ana, "Marie Curie", "marie@example.org",
                                 now=T0 + timedelta(days=3))
        approve_nomination(store, SETUP, pending.id, now=T0 + timedelta(days=3))  # queued only
        children = [c.code for c in children_of(store, ana) if c.contact_id is None]
        ingest(store, children[0], T0 + timedelta(days=7))
        # Make the database consult left at version 5: no handed_at column.
        with store.engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE referral_codes DROP COLUMN handed_at"))
            conn.execute(sa.delete(schema.schema_version)
                         .where(schema.schema_version.c.version >= 6))
    with open_store(db_url) as upgraded:
        assert upgraded.schema_version() == migrations.LATEST
        handed = {i.code: i.handed_at for i in fielding.invitees(upgraded)}
        issued = {i.code: i.issued_at for i in fielding.invitees(upgraded)}
        # Only child codes without a contact were taken as handed out, at their issue.
        assert {c for c, when in handed.items() if when is not None} == set(children)
        assert all(handed[c] == issued[c] for c in children)
        status = fielding_status(upgraded).to_dict()
        assert migrations.migrate(upgraded.engine) == []
    # The figures of the old rule, by hand. Wave 0: Ana (delivered) invited, Jean (queued)
    # not; 1 completed, 2 days. Wave 1: Ana's 2 codes to pass on (handed on) invited, Marie's
    # (invitation queued) not; 1 completed, 4 days from issue (T0 + 3) to answer (T0 + 7).
    assert [(w["wave"], w["invited"], w["not_handed_out"], w["completed"], w["response_rate"],
             w["median_days"]) for w in status["waves"]] == [
        (0, 1, 1, 1, 1.0, 2.0), (1, 2, 1, 1, 0.5, 4.0)]
    by_seed = {s["name"]: (s["invited"], s["completed"]) for s in status["seeds"]}
    assert by_seed == {"Ana Lima": (3, 2), "Jean Roy": (0, 0)}
