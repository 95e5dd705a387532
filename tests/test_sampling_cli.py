"""The fielding commands: a success run, the exact message for bad input, --help with an example."""

from __future__ import annotations

import csv
import io
import json
import uuid
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from typer.testing import CliRunner

from consult.cli.main import app
from consult.project import load_project
from consult.questionnaire import load_questionnaire
from consult.sampling.codes import display
from consult.store import fielding, open_store
from consult.store.responses import IngestRecord, RespondentRecord, write_ingest
from consult.synth import generate
from consult.synth.records import synth_records

runner = CliRunner()


def ok(root: Path, *args: str) -> None:
    """Run a setup step, which must succeed."""
    result = runner.invoke(app, ["--project", str(root), *args])
    assert result.exit_code == 0, result.output


def invoke(root: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--project", str(root), *args])
    return result.exit_code, result.stdout, result.stderr


def database(root: Path) -> str:
    return load_project(explicit=root).database_url


def respond(root: Path, code: str) -> None:
    with open_store(database(root)) as store:
        write_ingest(store, IngestRecord("web", "form", uuid.uuid4().hex, 1), [
            RespondentRecord(source="web", source_id=uuid.uuid4().hex, referral_code=code,
                             region="Europe", finished=True)])


def codes_of(root: Path) -> dict[str, str]:
    with open_store(database(root)) as store:
        return {i.name or i.code: i.code for i in fielding.invitees(store)}


# --------------------------------------------------------------------------- seeds


def test_seeds_import_and_add(fielding_project: Path, tmp_path: Path) -> None:
    seeds = tmp_path / "seeds.csv"
    seeds.write_text("name,email,country,language\nAna Lima,ana@example.org,Brazil,en\n"
                     "Jean Roy,jean@example.org,Canada,fr\n", encoding="utf-8")
    assert invoke(fielding_project, "seeds", "import", str(seeds)) == (0, (
        "Imported 2 seed(s) from seeds.csv, each with a personal wave-0 code.\n"
        "Next: consult wave open 0, then consult invite --outbox outbox (or --send)\n"), "")
    code, stdout, _ = invoke(fielding_project, "seeds", "add", "--name", "Kofi Mensah", "--email",
                             "kofi@example.org", "--country", "Ghana")
    kofi = codes_of(fielding_project)["Kofi Mensah"]
    assert (code, stdout) == (0, f"Added seed Kofi Mensah <kofi@example.org> with code "
                                 f"{display(kofi)} (wave 0).\n")
    assert set(codes_of(fielding_project)) == {"Ana Lima", "Jean Roy", "Kofi Mensah"}


def test_seeds_bad_input(fielding_project: Path, tmp_path: Path) -> None:
    seeds = tmp_path / "seeds.csv"
    seeds.write_text("name,email\nAna Lima,ana.example.org\n", encoding="utf-8")
    assert invoke(fielding_project, "seeds", "import", str(seeds)) == (1, "", (
        "Error: seeds.csv: no seeds imported\n"
        "  error: seeds.csv (row 2, column email): 'ana.example.org' is not an e-mail address\n"))
    assert invoke(fielding_project, "seeds", "add", "--name", "Ana", "--email", "ana@example.org",
                  "--language", "de") == (1, "", (
        "Error: language: 'de' is not a language of this consultation (en, fr)\n"))
    assert codes_of(fielding_project) == {}


# --------------------------------------------------------------------------- waves and links


def test_wave_open_close_list(fielding_project: Path) -> None:
    assert invoke(fielding_project, "wave", "list") == (
        0, "No wave opened yet; start with: consult wave open 0\n", "")
    assert invoke(fielding_project, "wave", "open", "1") == (1, "", (
        "Error: wave 1 cannot open before wave 0; open that first: consult wave open 0\n"))
    ok(fielding_project, "seeds", "add", "--name", "Ana Lima", "--email", "ana@example.org")
    assert invoke(fielding_project, "wave", "open", "0") == (0, (
        "Opened wave 0.\nNext: consult invite --wave 0 --outbox outbox (or --send)\n"), "")
    respond(fielding_project, codes_of(fielding_project)["Ana Lima"])
    assert invoke(fielding_project, "wave", "open", "1") == (0, (
        "Opened wave 1.\nIssued 3 child code(s) to 1 respondent(s) of wave 0.\n"
        "Next: consult invite --wave 1 --outbox outbox (or --send)\n"), "")
    code, stdout, _ = invoke(fielding_project, "wave", "close", "0")
    assert code == 0 and stdout.startswith("Closed wave 0 on ")
    code, stdout, _ = invoke(fielding_project, "wave", "list")
    assert [line.split()[:3] for line in stdout.splitlines()] == [
        ["wave", "0", "closed"], ["wave", "1", "open"]]
    assert invoke(fielding_project, "wave", "close", "7") == (
        1, "", "Error: wave 7 is not open (open waves: 1)\n")


def test_links_for_any_platform(fielding_project: Path, tmp_path: Path) -> None:
    ok(fielding_project, "seeds", "add", "--name", "Ana Lima", "--email", "ana@example.org")
    ana = codes_of(fielding_project)["Ana Lima"]
    code, stdout, _ = invoke(fielding_project, "links")
    assert code == 0
    assert list(csv.DictReader(io.StringIO(stdout))) == [{
        "code": ana, "display": display(ana), "link": f"http://127.0.0.1:8000/r/{ana}",
        "wave": "0", "parent_code": "", "name": "Ana Lima", "email": "ana@example.org",
        "language": "en"}]
    target = tmp_path / "links.csv"
    assert invoke(fielding_project, "links", "--template",
                  "https://redcap.example.org/surveys/?s=AB12&ref={code}", "-o", str(target)) == (
        0, f"Wrote 1 link(s) to {target}\n", "")
    assert f"https://redcap.example.org/surveys/?s=AB12&ref={ana}" in target.read_text()
    assert invoke(fielding_project, "links", "--template", "https://x.org/s?token=") == (1, "", (
        "Error: link template 'https://x.org/s?token=' has no {code}; put {code} where the code "
        "goes, e.g. https://survey.example.org/s/abc?code={code} (see [fielding] link_template "
        "in consult.toml)\n"))


# --------------------------------------------------------------------------- invite to an outbox


def test_invite_to_an_outbox_writes_each_message_once(fielding_project: Path, tmp_path: Path) -> None:
    ok(fielding_project, "seeds", "add", "--name", "Jean Roy", "--email", "jean@example.org",
        "--language", "fr")
    ok(fielding_project, "wave", "open", "0")
    outbox = tmp_path / "outbox"
    assert invoke(fielding_project, "invite", "--outbox", str(outbox)) == (0, (
        "Wave(s) 0.\nQueued 1 invitation(s) and 0 referral letter(s).\n"
        f"Wrote 1 message(s) to {outbox}\n"), "")
    jean = codes_of(fielding_project)["Jean Roy"]
    [written] = outbox.iterdir()
    assert written.name == f"invitation-{jean}-0.eml"
    message = message_from_bytes(written.read_bytes(), policy=policy.default)
    assert message["Subject"] == "Invitation : Test consultation"
    assert f"http://127.0.0.1:8000/r/{jean}" in message.get_content()  # type: ignore[attr-defined]
    assert invoke(fielding_project, "invite", "--outbox", str(outbox)) == (0, (
        "Wave(s) 0.\nQueued 0 invitation(s) and 0 referral letter(s).\n"
        f"Wrote 0 message(s) to {outbox}\n"), "")
    assert len(list(outbox.iterdir())) == 1
    assert invoke(fielding_project, "invite", "--wave", "3", "--outbox", str(outbox)) == (1, "", (
        "Error: wave 3 is not open (open waves: 0); open it with: consult wave open 3\n"))


# --------------------------------------------------------------------------- status


def test_status_text_and_json(fielding_project: Path, tmp_path: Path) -> None:
    assert invoke(fielding_project, "status") == (
        0, "No codes issued yet; add seeds with: consult seeds import FILE\n", "")
    ok(fielding_project, "seeds", "add", "--name", "Ana Lima", "--email", "ana@example.org")
    ok(fielding_project, "wave", "open", "0")
    ok(fielding_project, "invite", "--outbox", str(tmp_path / "outbox"))
    respond(fielding_project, codes_of(fielding_project)["Ana Lima"])
    code, stdout, _ = invoke(fielding_project, "status", "--json")
    data = json.loads(stdout)
    assert code == 0
    assert [(w["wave"], w["invited"], w["completed"], w["response_rate"]) for w in data["waves"]] \
        == [(0, 1, 1, 1.0)]
    assert data["regions"][0]["region"] == "Europe"
    assert data["messages"] == {"invitation": {"sent": 1}}
    code, stdout, _ = invoke(fielding_project, "status")
    assert code == 0
    assert "By wave\n" in stdout and "  wave 0 (open) " in stdout
    assert f"  {display(codes_of(fielding_project)['Ana Lima'])} Ana Lima " in stdout
    assert "invitation messages: 1 sent\n" in stdout


def test_status_outside_a_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["status"])
    assert (result.exit_code, result.stderr) == (1, (
        f"Error: no consult.toml in {tmp_path.resolve()} or any folder above it; run the command "
        "inside a project, pass --project DIR, or create one with: consult init DIR\n"))


# --------------------------------------------------------------------------- nominations


def test_nominations_list_approve_reject(fielding_project: Path) -> None:
    from consult.sampling.nominations import add_nomination
    from consult.sampling.setup import fielding_setup

    ok(fielding_project, "seeds", "add", "--name", "Ana Lima", "--email", "ana@example.org")
    ana = codes_of(fielding_project)["Ana Lima"]
    setup = fielding_setup(load_project(explicit=fielding_project))
    with open_store(database(fielding_project)) as store:
        first = add_nomination(store, setup, ana, "Marie Curie", "marie@example.org",
                               country="France", language="fr")
        second = add_nomination(store, setup, ana, "Max Planck", "max@example.org")
    assert invoke(fielding_project, "nominations", "list") == (0, (
        f"   {first.id}  pending   Marie Curie <marie@example.org> (FRA, fr)  nominated by "
        f"{display(ana)}\n"
        f"   {second.id}  pending   Max Planck <max@example.org> (en)  nominated by "
        f"{display(ana)}\n"), "")
    code, stdout, _ = invoke(fielding_project, "nominations", "approve", str(first.id))
    marie = codes_of(fielding_project)["Marie Curie"]
    assert (code, stdout) == (0, (
        f"Approved nomination {first.id}: Marie Curie <marie@example.org> gets code "
        f"{display(marie)} (wave 1); the invitation is queued.\n"
        "Next: consult invite --wave 1 --send (the wave must be open)\n"))
    assert invoke(fielding_project, "nominations", "reject", str(second.id)) == (
        0, f"Rejected nomination {second.id} (Max Planck).\n", "")
    assert invoke(fielding_project, "nominations", "list") == (0, "No pending nominations.\n", "")
    code, stdout, _ = invoke(fielding_project, "nominations", "list", "--status", "all", "--json")
    assert [(n["name"], n["status"], n["code"]) for n in json.loads(stdout)] == [
        ("Marie Curie", "approved", marie), ("Max Planck", "rejected", None)]
    code, _, stderr = invoke(fielding_project, "nominations", "approve", str(second.id))
    assert code == 1
    assert stderr.startswith(f"Error: nomination {second.id} is already rejected (on ")
    code, _, stderr = invoke(fielding_project, "nominations", "approve", "99")
    assert (code, stderr) == (1, "Error: no nomination 99; list them with: consult nominations "
                                 "list\n")


# --------------------------------------------------------------------------- export rds


def test_export_rds(fielding_project: Path) -> None:
    questionnaire = load_questionnaire(fielding_project / "questionnaire.yaml")
    consultation = generate(questionnaire, 30, seed=3, waves=2, junk=0.0)
    with open_store(database(fielding_project)) as store:
        write_ingest(store, IngestRecord("synth", "synth", "x", 30), synth_records(consultation))
    code, stdout, _ = invoke(fielding_project, "export", "rds", "--network-size-item",
                             "experience_years")
    target = fielding_project / "out" / "rds.csv"
    seeds = sum(1 for r in consultation.complete if r.referred_by is None)
    assert (code, stdout) == (0, (
        f"Wrote {target}: 30 respondents, {seeds} with recruiter.id \"seed\" ({seeds} seeds, "
        "0 with an unknown recruiter, 0 cycle(s) broken)\n"))
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert list(rows[0]) == ["id", "recruiter.id", "network.size", "wave", "seed"]
    ids = {row["id"] for row in rows}
    assert {row["recruiter.id"] for row in rows} - ids == {"seed"}
    assert sorted(int(row["wave"]) for row in rows) == sorted(r.wave for r in consultation.complete)
    assert all(float(row["network.size"]) >= 0 for row in rows)

    assert invoke(fielding_project, "export", "rds", "--network-size-item", "role") == (1, "", (
        "Error: --network-size-item 'role': not a number item of questionnaire.yaml (number "
        "items: experience_years)\n"))


def test_export_rds_without_responses(fielding_project: Path) -> None:
    assert invoke(fielding_project, "export", "rds") == (
        1, "", "Error: no included responses to export; ingest responses first\n")


# --------------------------------------------------------------------------- help


@pytest.mark.parametrize("command", [
    ["seeds", "import"], ["seeds", "add"], ["links"], ["wave", "open"], ["wave", "close"],
    ["wave", "list"], ["status"], ["nominations", "list"], ["nominations", "approve"],
    ["nominations", "reject"], ["export", "rds"]], ids=" ".join)
def test_cli_help_has_an_example(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Example: consult " + " ".join(command) in result.stdout
