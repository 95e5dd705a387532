"""Fielding records on both backends: codes, waves, the message log, nominations, status."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from consult.errors import ConsultError
from consult.sampling.codes import display, is_valid
from consult.sampling.nominations import (
    add_nomination,
    approve_nomination,
    list_nominations,
    reject_nomination,
)
from consult.sampling.referrals import (
    issue_child_codes,
    personal_link,
    personal_links,
    record_links_handed_out,
)
from consult.sampling.seeds import add_seed
from consult.sampling.setup import FieldingSetup
from consult.sampling.status import fielding_status
from consult.sampling.waves import close_wave, open_wave, require_open
from consult.store import Store, fielding, migrations, open_store, schema
from consult.store.fielding import MessageDraft
from consult.store.responses import IngestRecord, RespondentRecord, write_ingest

T0 = datetime(2014, 9, 8, 9, 0, tzinfo=UTC)
SETUP = FieldingSetup(title="Test consultation", languages=("en", "fr"), child_codes=3,
                      link_template="https://survey.example.org/s?code={code}",
                      sender="team@consult.example.org")


def respond(store: Store, code: str | None, *, finished: bool = True, included: bool = True,
            region: str | None = None, submitted: datetime | None = T0,
            referred_by: str | None = None) -> None:
    """Store one response carrying ``code``, as ingest or the web form would."""
    record = RespondentRecord(
        source="web", source_id=uuid.uuid4().hex, referral_code=code, referred_by=referred_by,
        region=region, started_at=submitted, submitted_at=submitted if finished else None,
        finished=finished, exclusions=() if included else (("preview", "test run"),))
    write_ingest(store, IngestRecord("web", "form", uuid.uuid4().hex, 1), [record])


def seed(store: Store, name: str, **details: str) -> str:
    email = details.pop("email", f"{name.split()[0].lower()}@example.org")
    return add_seed(store, name, email, languages=SETUP.languages, now=T0, **details).code


# --------------------------------------------------------------------------- migration 3


def test_migration_3_adds_the_fielding_tables_to_a_version_2_database(db_url: str) -> None:
    with open_store(db_url) as store, store.engine.begin() as conn:
        # Make the database consult left before fielding: schema 2, a seed in it.
        conn.execute(sa.text("DROP TABLE nominations"))
        conn.execute(sa.text("DROP TABLE messages"))
        conn.execute(sa.text("DROP INDEX ix_referral_codes_parent"))
        conn.execute(sa.delete(schema.schema_version).where(schema.schema_version.c.version >= 3))
        conn.execute(schema.contacts.insert().values(name="Old Seed", email="old@example.org",
                                                     created_at=T0))
    with open_store(db_url) as upgraded:
        assert upgraded.schema_version() == migrations.LATEST
        inspector = sa.inspect(upgraded.engine)
        for table in (schema.messages, schema.nominations):
            found = {c["name"]: c["nullable"] for c in inspector.get_columns(table.name)}
            assert found == {c.name: c.nullable for c in table.columns}, table.name
        assert "ix_referral_codes_parent" in {i["name"] for i in
                                              inspector.get_indexes("referral_codes")}
        assert upgraded.counts()["contacts"] == 1
        assert migrations.migrate(upgraded.engine) == []


def test_the_message_log_refuses_a_second_row_for_the_same_message(store: Store) -> None:
    code = seed(store, "Ana Lima")
    contact_id = fielding.find_code(store, code).contact_id  # type: ignore[union-attr]
    row = {"contact_id": contact_id, "code": code, "kind": "invitation", "sequence": 0, "wave": 0,
           "language": "en", "recipient": "ana@example.org", "subject": "s", "body": "b",
           "message_id": "<1@x>", "status": "queued", "attempts": 0, "created_at": T0}
    with store.engine.begin() as conn:
        conn.execute(schema.messages.insert().values(**row))
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.execute(schema.messages.insert().values(**{**row, "message_id": "<2@x>"}))
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.execute(schema.messages.insert().values(**{**row, "kind": "fax", "sequence": 1}))


# --------------------------------------------------------------------------- codes


def test_each_seed_gets_a_personal_wave_0_code(store: Store) -> None:
    codes = [seed(store, name) for name in ("Ana Lima", "Jean Roy", "Kofi Mensah")]
    assert len(set(codes)) == 3
    assert all(is_valid(code) for code in codes)
    held = {i.code: i for i in fielding.invitees(store)}
    assert {(held[c].wave, held[c].parent_code, held[c].name) for c in codes} == {
        (0, None, "Ana Lima"), (0, None, "Jean Roy"), (0, None, "Kofi Mensah")}


def test_child_codes_go_to_completed_respondents_one_wave_deeper(store: Store) -> None:
    done, partial, excluded, silent = (seed(store, n) for n in
                                       ("Ana Lima", "Jean Roy", "Kofi Mensah", "Li Wei"))
    respond(store, done)
    respond(store, partial, finished=False)
    respond(store, excluded, included=False)

    issued = issue_child_codes(store, 3, now=T0)
    assert {(c.parent_code, c.wave) for c in issued} == {(done, 1)}
    assert len({c.code for c in issued}) == 3 and all(is_valid(c.code) for c in issued)
    assert all(c.contact_id is None for c in issued)
    assert silent not in {c.parent_code for c in issued}

    # Idempotent: asking again issues nothing; a larger N tops up to N.
    assert issue_child_codes(store, 3, now=T0) == []
    assert len(issue_child_codes(store, 5, now=T0)) == 2

    # A recruit who completes with a child code is wave 1; their children are wave 2.
    respond(store, issued[0].code)
    deeper = issue_child_codes(store, 2, parent_waves=[1], now=T0)
    assert {(c.parent_code, c.wave) for c in deeper} == {(issued[0].code, 2)}
    assert issue_child_codes(store, 2, parent_waves=[0], now=T0) == []


def test_personal_links_follow_any_platform_template() -> None:
    assert personal_link("https://x.qualtrics.com/jfe/form/SV_1?code={code}", "K7QM4XRT9") == (
        "https://x.qualtrics.com/jfe/form/SV_1?code=K7QM4XRT9")
    assert personal_link("https://ee.kobotoolbox.org/x/ab?d[/data/code]={code}", "K7QM4XRT9") == (
        "https://ee.kobotoolbox.org/x/ab?d[/data/code]=K7QM4XRT9")
    with pytest.raises(ConsultError) as caught:
        personal_link("https://survey.example.org/s?code=", "K7QM4XRT9")
    assert str(caught.value) == (
        "link template 'https://survey.example.org/s?code=' has no {code}; put {code} where the "
        "code goes, e.g. https://survey.example.org/s/abc?code={code} (see [fielding] "
        "link_template in consult.toml)")


# --------------------------------------------------------------------------- waves


def test_waves_open_in_order_and_close_with_a_date(store: Store) -> None:
    with pytest.raises(ConsultError) as caught:
        require_open(store, None)
    assert str(caught.value) == "no wave is open; open the seeds' wave with: consult wave open 0"
    with pytest.raises(ConsultError) as caught:
        open_wave(store, 1, child_codes=3, now=T0)
    assert str(caught.value) == ("wave 1 cannot open before wave 0; open that first: "
                                 "consult wave open 0")
    first = seed(store, "Ana Lima")
    assert open_wave(store, 0, child_codes=3, now=T0).issued == ()
    with pytest.raises(ConsultError) as caught:
        open_wave(store, 0, child_codes=3, now=T0)
    assert str(caught.value) == "wave 0 is already open (since 2014-09-08)"

    respond(store, first)
    opened = open_wave(store, 1, child_codes=3, now=T0 + timedelta(days=7))
    assert [c.wave for c in opened.issued] == [1, 1, 1]
    assert require_open(store, None) == [0, 1]

    closed = close_wave(store, 0, now=T0 + timedelta(days=30))
    assert closed.closed_at == T0 + timedelta(days=30)
    assert require_open(store, None) == [1]
    with pytest.raises(ConsultError) as caught:
        require_open(store, 0)
    assert str(caught.value) == ("wave 0 is not open (open waves: 1); open it with: "
                                 "consult wave open 0")
    with pytest.raises(ConsultError) as caught:
        close_wave(store, 0)
    assert str(caught.value) == "wave 0 is already closed (on 2014-10-08)"
    with pytest.raises(ConsultError) as caught:
        open_wave(store, 0, child_codes=3)
    assert str(caught.value) == ("wave 0 was closed on 2014-10-08; to reopen it: "
                                 "consult wave open 0 --reopen")
    first_opened = next(w.opened_at for w in fielding.waves(store) if w.number == 0)
    reopened = open_wave(store, 0, child_codes=3, reopen=True, now=T0 + timedelta(days=40))
    assert reopened.reopened
    # Open again, with the date it first opened (the fielding's history), and no closing.
    assert (reopened.wave.opened_at, reopened.wave.closed_at) == (first_opened, None)
    with pytest.raises(ConsultError) as caught:
        close_wave(store, 5)
    assert str(caught.value) == "wave 5 is not open (open waves: 0, 1)"


# --------------------------------------------------------------------------- the message log


def test_queueing_the_same_message_twice_keeps_one(store: Store) -> None:
    code = seed(store, "Ana Lima")
    contact_id = fielding.find_code(store, code).contact_id  # type: ignore[union-attr]
    draft = MessageDraft(contact_id=contact_id or 0, code=code, kind="invitation", sequence=0,
                         wave=0, language="en", recipient="Ana Lima <ana@example.org>",
                         subject="Invitation", body="Dear Ana", message_id="<a@x>")
    assert fielding.queue_messages(store, [draft], T0) == 1
    assert fielding.queue_messages(store, [draft, draft], T0) == 0
    assert [(m.kind, m.status, m.attempts) for m in fielding.messages(store)] == [
        ("invitation", "queued", 0)]


# --------------------------------------------------------------------------- nominations


def test_an_approved_nomination_becomes_a_contact_a_child_code_and_a_queued_invitation(
        store: Store) -> None:
    nominator = seed(store, "Ana Lima")
    respond(store, nominator)
    pending = add_nomination(store, SETUP, display(nominator).lower(), "Marie Curie",
                             "Marie@Example.org", "SCC", "France", "fr", now=T0)
    assert (pending.status, pending.email, pending.country_iso3) == ("pending", "marie@example.org",
                                                                    "FRA")
    assert [n.id for n in list_nominations(store, "pending")] == [pending.id]

    approved, invitee = approve_nomination(store, SETUP, pending.id, now=T0)
    assert (approved.status, approved.decided_at, approved.code) == ("approved", T0, invitee.code)
    held = fielding.find_code(store, invitee.code)
    assert held is not None
    assert (held.parent_code, held.wave, held.name, held.language) == (nominator, 1,
                                                                       "Marie Curie", "fr")
    [queued] = fielding.messages(store)
    assert (queued.kind, queued.status, queued.code, queued.wave, queued.language) == (
        "invitation", "queued", invitee.code, 1, "fr")
    assert queued.contact_id == held.contact_id
    assert "Un ou une collègue ayant participé" in queued.body
    assert personal_link(SETUP.link_template, invitee.code) in queued.body

    with pytest.raises(ConsultError) as caught:
        approve_nomination(store, SETUP, pending.id)
    assert str(caught.value) == f"nomination {pending.id} is already approved (on 2014-09-08)"


def test_nominations_are_checked_and_can_be_rejected(store: Store) -> None:
    nominator = seed(store, "Ana Lima")
    with pytest.raises(ConsultError) as caught:
        add_nomination(store, SETUP, nominator[:-1] + ("2" if nominator[-1] != "2" else "3"),
                       "X", "x@example.org")
    assert "is mistyped (its check character does not match)" in str(caught.value)
    with pytest.raises(ConsultError) as caught:
        add_nomination(store, SETUP, nominator, "", "not-an-address", country="Atlantis")
    assert str(caught.value) == (
        "name: empty; every contact needs a name; email: 'not-an-address' is not an e-mail "
        "address; country: 'Atlantis' is not a country consult recognises; write its name or "
        "ISO code, e.g. France or FRA")
    again = add_nomination(store, SETUP, nominator, "Ana Again", "ana@example.org", now=T0)
    with pytest.raises(ConsultError) as caught:
        approve_nomination(store, SETUP, again.id)
    assert str(caught.value) == (f"nomination {again.id}: ana@example.org is already a contact; "
                                 f"reject it with: consult nominations reject {again.id}")
    rejected = reject_nomination(store, again.id, now=T0)
    assert (rejected.status, rejected.decided_at) == ("rejected", T0)
    assert fielding.messages(store) == []
    with pytest.raises(ConsultError) as caught:
        reject_nomination(store, 999)
    assert str(caught.value) == "no nomination 999; list them with: consult nominations list"


# --------------------------------------------------------------------------- status


def test_status_counts_per_wave_seed_and_region(store: Store) -> None:
    ana, jean, kofi = (seed(store, n) for n in ("Ana Lima", "Jean Roy", "Kofi Mensah"))
    open_wave(store, 0, child_codes=2, now=T0)
    for code in (ana, jean, kofi):
        contact_id = fielding.find_code(store, code).contact_id  # type: ignore[union-attr]
        fielding.queue_messages(store, [MessageDraft(
            contact_id or 0, code, "invitation", 0, 0, "en", "x@example.org", "s", "b",
            f"<{code}@x>")], T0)
    for message in fielding.messages(store):
        fielding.record_sent(store, message.id, T0, "test")
    respond(store, ana, region="Europe", submitted=T0 + timedelta(days=2))
    respond(store, jean, region="North America", submitted=T0 + timedelta(days=4))
    respond(store, kofi, finished=False, region="Africa")
    respond(store, None, region="Asia")  # an open-link answer with no code
    children = open_wave(store, 1, child_codes=2, now=T0 + timedelta(days=5)).issued
    ana_child = next(c.code for c in children if c.parent_code == ana)
    # The coordinator writes the wave-1 links for the platform: handed out.
    record_links_handed_out(store, personal_links(store, SETUP.link_template, waves=[1]),
                            now=T0 + timedelta(days=5))
    respond(store, ana_child, region="Europe", submitted=T0 + timedelta(days=6))

    status = fielding_status(store).to_dict()
    # By hand. Wave 0: 3 invited, 3 started, 2 completed (Kofi stopped), rate 2/3;
    # Ana and Jean got 2 codes each = 4 issued, 1 used; days to respond 2 and 4 → median 3.
    # Wave 1: 4 codes handed out (in circulation), 1 started and completed, rate 1/4, no
    # referrals yet; 1 day from handing out (T0 + 5) to submission (T0 + 6).
    assert status["waves"] == [
        {"wave": 0, "opened_at": T0.isoformat(), "closed_at": None, "invited": 3,
         "not_handed_out": 0, "started": 3, "completed": 2, "response_rate": 2 / 3,
         "referrals_issued": 4, "referrals_used": 1, "median_days": 3.0},
        {"wave": 1, "opened_at": (T0 + timedelta(days=5)).isoformat(), "closed_at": None,
         "invited": 4, "not_handed_out": 0, "started": 1, "completed": 1, "response_rate": 0.25,
         "referrals_issued": 0, "referrals_used": 0, "median_days": 1.0},
    ]
    by_seed = {s["name"]: s for s in status["seeds"]}
    # Ana's tree: her code and her 2 children = 3 in circulation, 2 completed; days 2 and 1.
    assert {k: by_seed["Ana Lima"][k] for k in ("invited", "completed", "response_rate",
                                               "referrals_issued", "referrals_used",
                                               "median_days")} == {
        "invited": 3, "completed": 2, "response_rate": 2 / 3, "referrals_issued": 2,
        "referrals_used": 1, "median_days": 1.5}
    assert by_seed["Kofi Mensah"]["completed"] == 0
    assert by_seed["Ana Lima"]["code"] == display(ana)
    assert [(r["region"], r["started"], r["completed"], r["invited"]) for r in status["regions"]] \
        == [("Africa", 1, 0, None), ("Europe", 2, 2, None), ("North America", 1, 1, None)]
    assert status["totals"]["completed"] == 3
    assert status["messages"] == {"invitation": {"sent": 3}}
    assert status["unmatched_respondents"] == 1
