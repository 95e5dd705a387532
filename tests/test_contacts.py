"""consult contacts: correcting a contact's details and forgetting a contact who asks."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from consult.cli.main import app
from consult.errors import ConsultError
from consult.project import load_project
from consult.sampling.contacts import correct
from consult.sampling.seeds import add_seed
from consult.store import fielding, open_store
from consult.store.contacts import contact, forget_contact
from consult.store.db import Store
from consult.store.fielding import MessageDraft

runner = CliRunner()
T0 = datetime(2014, 9, 8, tzinfo=UTC)


def invoke(root: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--project", str(root), *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def root(fielding_project: Path, tmp_path: Path) -> Path:
    """Two seeds in an open wave 0; Ana's invitation written to an outbox (sent)."""
    root = fielding_project
    assert invoke(root, "seeds", "add", "--name", "Ana Lima", "--email", "ana@example.org",
                  "--organisation", "Servicio Penitenciario", "--country", "Brazil")[0] == 0
    assert invoke(root, "wave", "open", "0")[0] == 0
    assert invoke(root, "invite", "--outbox", str(tmp_path / "outbox"))[0] == 0
    assert invoke(root, "seeds", "add", "--name", "Jean Roy", "--email", "jean@exmaple.org",
                  "--country", "Canada")[0] == 0
    return root


def listed(root: Path) -> dict[str, dict[str, object]]:
    code, stdout, _ = invoke(root, "contacts", "list", "--json")
    assert code == 0
    return {str(c["id"]): c for c in json.loads(stdout)}


def unreachable_smtp(root: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on once it is closed again
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = root / "consult.toml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(text.replace('host = "localhost"\nport = 25',
                                     f'host = "127.0.0.1"\nport = {port}'), encoding="utf-8")


def stored_text(root: Path) -> str:
    with open_store(load_project(explicit=root).database_url) as store:
        return json.dumps(store.dump(), default=str, ensure_ascii=False)


def test_a_mistyped_address_is_corrected_and_its_letter_written_again(
        root: Path, tmp_path: Path) -> None:
    contacts = listed(root)
    assert [c["email"] for c in contacts.values()] == ["ana@example.org", "jean@exmaple.org"]
    # Jean's invitation cannot go yet: the server is down, so it stays queued.
    unreachable_smtp(root)
    assert invoke(root, "invite", "--send")[0] == 1
    code, stdout, stderr = invoke(root, "contacts", "correct", "2", "--email",
                                  " Jean@Example.org ")
    assert (code, stderr) == (0, "")
    assert stdout == (
        "Corrected contact 2: Jean Roy <jean@example.org>.\n"
        "1 message(s) not yet delivered were withdrawn: run consult invite (or remind) again "
        "to send them with the new details.\n")
    outbox = tmp_path / "again"
    assert invoke(root, "invite", "--outbox", str(outbox))[0] == 0
    [letter] = outbox.iterdir()
    assert "To: Jean Roy <jean@example.org>" in letter.read_text(encoding="utf-8")
    assert "exmaple" not in stored_text(root)
    assert listed(root)["2"]["country"] == "CAN"  # what was not given stays


def test_corrections_are_checked_as_a_seeds_details_are(root: Path) -> None:
    assert invoke(root, "contacts", "correct", "2", "--email", "ana@example.org") == (
        1, "", "Error: contact 1 already has the address ana@example.org; one person is one "
               "contact\n")
    assert invoke(root, "contacts", "correct", "2", "--email", "not an address") == (
        1, "", "Error: email: 'not an address' is not an e-mail address\n")
    assert invoke(root, "contacts", "correct", "9", "--name", "X") == (
        1, "", "Error: no contact 9; consult contacts list shows their ids\n")
    code, _, stderr = invoke(root, "contacts", "correct", "2")
    assert code == 2 and "give at least one of --name, --email" in stderr


def test_a_forgotten_contact_leaves_no_detail_in_the_database(root: Path,
                                                              tmp_path: Path) -> None:
    before = stored_text(root)
    assert "Ana Lima" in before and "ana@example.org" in before and "Penitenciario" in before
    code, _, stderr = invoke(root, "contacts", "forget", "1")
    assert code == 2 and "cannot be undone: run again with --yes" in stderr
    assert stored_text(root) == before
    code, stdout, _ = invoke(root, "contacts", "forget", "1", "--yes")
    assert code == 0 and stdout.startswith("Forgot contact 1: name, e-mail address and "
                                           "organisation erased from the contact, 1 message(s)")
    after = stored_text(root)
    assert not {"Ana", "Lima", "ana@example.org", "Penitenciario"} & set(
        after.replace('"', " ").replace("<", " ").replace(">", " ").split())
    assert "Ana Lima" not in after and "ana@example.org" not in after
    ana = listed(root)["1"]
    assert (ana["name"], ana["email"], ana["forgotten"], ana["country"]) == (
        "(forgotten)", None, True, "BRA")
    # Nothing more goes to them, and their details cannot be brought back.
    outbox = tmp_path / "later"
    assert invoke(root, "remind", "--after-days", "0", "--max", "2", "--outbox",
                  str(outbox))[0] == 0
    assert not outbox.exists() or not list(outbox.iterdir())
    assert invoke(root, "contacts", "correct", "1", "--name", "Ana Lima") == (
        1, "", "Error: contact 1 was forgotten; their details cannot come back\n")


def test_contacts_help_has_examples() -> None:
    for command in (["contacts"], ["contacts", "correct"], ["contacts", "forget"],
                    ["contacts", "list"]):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0 and "Example: consult contacts" in result.stdout


def test_correcting_and_forgetting_on_each_database(store: Store) -> None:
    ana = add_seed(store, "Ana Lima", "ana@example.org", "Servicio", "Brazil",
                   languages=["en"], now=T0)
    jean = add_seed(store, "Jean Roy", "jean@example.org", languages=["en"], now=T0)
    for who, status in ((ana, "sent"), (jean, "queued")):
        assert who.contact_id is not None
        fielding.queue_messages(store, [MessageDraft(
            contact_id=who.contact_id, code=who.code, kind="invitation", sequence=0, wave=0,
            language="en", recipient=f"{who.name} <{who.email}>", subject="Invitation",
            body=f"Dear {who.name}", message_id=f"<{who.code}@example.org>")], T0)
        if status == "sent":
            [message] = [m for m in fielding.messages(store) if m.code == who.code]
            fielding.record_sent(store, message.id, T0, "test")
    assert jean.contact_id is not None and ana.contact_id is not None
    fixed, withdrawn = correct(store, jean.contact_id, email="j.roy@example.org",
                               languages=["en"])
    assert (fixed.email, fixed.name, withdrawn.unsent) == ("j.roy@example.org", "Jean Roy", 1)
    with pytest.raises(ConsultError, match="already has the address"):
        correct(store, jean.contact_id, email="ana@example.org", languages=["en"])
    done = forget_contact(store, ana.contact_id)
    assert (done.unsent, done.erased) == (0, 1)
    forgotten = contact(store, ana.contact_id)
    assert forgotten is not None and forgotten.forgotten and forgotten.codes == (ana.code,)
    assert (forgotten.organisation, forgotten.country_iso3) == (None, "BRA")
    [sent] = [m for m in fielding.messages(store) if m.code == ana.code]
    assert (sent.status, sent.recipient) == ("sent", "(forgotten)")
    text = json.dumps(store.dump(), default=str)
    assert "Ana" not in text and "ana@example.org" not in text and "Servicio" not in text
