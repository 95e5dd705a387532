"""Ingest end to end: every format to the same canonical rows, atomically and idempotently."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from consult.cli.main import app
from consult.project import Project, init_project, load_project
from consult.questionnaire import ItemType, load_questionnaire
from consult.store import open_store
from consult.store.responses import exclusion_counts, load_responses
from consult.synth import SynthConsultation, generate
from consult.synth.exports import EXPORTS, writer

runner = CliRunner()


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return init_project(tmp_path / "p")


@pytest.fixture(scope="module")
def consultation() -> SynthConsultation:
    from consult.resources import shipped_questionnaires

    return generate(load_questionnaire(shipped_questionnaires()["r361"]), 60, seed=11, junk=0.15)


def ingest(project: Project, path: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--project", str(project.root), "ingest", str(path), *args])
    return result.exit_code, result.stdout, result.stderr


def ingest_json(project: Project, path: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, ["--project", str(project.root), "ingest", str(path), "--json",
                                 *args])
    return result.exit_code, json.loads(result.stdout)


def messages(report: dict[str, Any]) -> list[tuple[str, int | None, str]]:
    return [(i["severity"], i["row"], i["message"]) for i in report["issues"]]


def stored_answers(project: Project) -> dict[str, dict[str, object]]:
    """referral code → {item: value, or sorted codes for a multiple choice} of included responses.

    Keyed by referral code because platforms give responses ids of their own.
    """
    questionnaire = load_questionnaire(project.questionnaire_path)
    with open_store(project.database_url) as store:
        respondents, answers = load_responses(store)
    ids = dict(zip(respondents["id"], respondents["referral_code"], strict=True))
    out: dict[str, dict[str, object]] = {code: {} for code in respondents["referral_code"]}
    for row in answers.itertuples():
        item = questionnaire.item(row.item_id)
        bucket = out[ids[row.respondent_id]]
        if item.type is ItemType.MULTIPLE_CHOICE:
            bucket.setdefault(row.item_id, []).append(row.value)  # type: ignore[union-attr]
        else:
            bucket[row.item_id] = row.value
    for bucket in out.values():
        for key, value in bucket.items():
            if isinstance(value, list):
                bucket[key] = sorted(value)
    return out


def planted_answers(consultation: SynthConsultation) -> dict[str, dict[str, object]]:
    return {
        r.referral_code: {k: sorted(v) if isinstance(v, list) else str(v)
                        for k, v in r.answers.items()}
        for r in consultation.complete
    }


def test_first_ingest_drafts_a_mapping_and_waits(project: Project,
                                                  consultation: SynthConsultation) -> None:
    path = writer("canonical")(consultation, project.root / "export.csv")
    code, stdout, _ = ingest(project, path)
    assert code == 3
    assert stdout.splitlines()[0].startswith("Drafted mapping/table.yaml for export.csv (table): ")
    assert (project.root / "mapping" / "table.yaml").is_file()
    with open_store(project.database_url) as store:
        assert store.counts()["respondents"] == 0


@pytest.mark.parametrize("fmt", sorted(EXPORTS))
def test_every_format_ingests_to_the_same_answers(fmt: str, project: Project,
                                                  consultation: SynthConsultation) -> None:
    path = writer(fmt)(consultation, project.root / f"export{EXPORTS[fmt][1]}")
    code, stdout, stderr = ingest(project, path, "--accept-mapping")
    if code == 3:  # a platform whose drafted mapping needs review: take it after review
        code, stdout, stderr = ingest(project, path)
    assert code == 0, stdout + stderr
    assert stored_answers(project) == planted_answers(consultation)


def test_ingesting_twice_adds_nothing(project: Project, consultation: SynthConsultation) -> None:
    path = writer("canonical")(consultation, project.root / "export.csv")
    assert ingest(project, path, "--accept-mapping")[0] == 0
    with open_store(project.database_url) as store:
        before = store.dump()
    code, stdout, _ = ingest(project, path)
    assert code == 0 and " ".join(stdout.split()) == (
        "export.csv was already ingested (ingest #1); nothing to do. To store it again (after "
        f"correcting its mapping), run: consult ingest {path} --replace")  # the path as given
    with open_store(project.database_url) as store:
        assert store.dump() == before


def write_changed_copy(path: Path, target: Path) -> tuple[list[list[str]], int]:
    """Copy a canonical export with the role of its first complete response changed;
    return the copy's rows and that response's index."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    role = rows[0].index("role")
    first = next(i for i, row in enumerate(rows) if row[1] == "complete")
    rows[first][role] = "administrative" if rows[first][role] != "administrative" else "community"
    with target.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return rows, first


def test_a_changed_export_needs_replace(project: Project, consultation: SynthConsultation) -> None:
    path = writer("canonical")(consultation, project.root / "export.csv")
    assert ingest(project, path, "--accept-mapping")[0] == 0
    rows, first = write_changed_copy(path, project.root / "changed.csv")
    with open_store(project.database_url) as store:
        before = store.dump()
    code, report = ingest_json(project, project.root / "changed.csv")
    assert code == 1 and report["status"] == "failed"
    source_id = rows[first][0]
    assert ("error", first + 1, f"response {source_id} is already stored with different answers"
            ) in messages(report)
    code, _, stderr = ingest(project, project.root / "changed.csv")
    assert code == 1 and "Nothing was stored." in stderr
    with open_store(project.database_url) as store:
        assert store.dump() == before
    code, stdout, _ = ingest(project, project.root / "changed.csv", "--replace")
    summary = " ".join(stdout.split())
    assert code == 0 and summary.endswith("1 replaced")
    responses = len({row[0] for row in rows[1:]})  # a repeated response id is stored once
    assert f"{responses - 1} already stored as they are; of the others, 1 included" in summary
    # Taking the same file again changes nothing, and says so.
    answers = stored_answers(project)
    code, stdout, _ = ingest(project, project.root / "changed.csv", "--replace")
    assert code == 0 and (f"{responses} already stored as they are; nothing new to store"
                          in " ".join(stdout.split()))
    assert stored_answers(project) == answers


def test_fingerprints_stored_by_consult_0_1_are_still_recognised(
        project: Project, consultation: SynthConsultation) -> None:
    import hashlib

    import sqlalchemy as sa

    from consult.ingest.convert import RowConverter
    from consult.ingest.mapping import load_mapping
    from consult.ingest.run import detect_format
    from consult.store import schema

    path = writer("canonical")(consultation, project.root / "export.csv")
    assert ingest(project, path, "--accept-mapping")[0] == 0
    # Store the fingerprints as consult 0.1 wrote them: SHA-256 of the repr of
    # (response-level fields, (item, ordinal, value, other text) per answer).
    questionnaire = load_questionnaire(project.questionnaire_path)
    table = detect_format(path).read(path)
    converter = RowConverter(table, load_mapping(project.root / "mapping" / "table.yaml",
                                                 questionnaire),
                             questionnaire, "r361", source=table.format)
    old: dict[str, str] = {}
    for row in converter.convert_all():  # a repeated response id: the first row is stored
        old.setdefault(row.record.source_id, hashlib.sha256(repr((
            list(row.said),
            [(a.item_id, a.ordinal, a.value, a.other_text or "") for a in row.record.answers],
        )).encode()).hexdigest())
    respondents = schema.respondents
    with open_store(project.database_url) as store, store.engine.begin() as conn:
        for source_id, value in old.items():
            conn.execute(respondents.update().where(respondents.c.source_id == source_id)
                         .values(fingerprint=value))
    rows, first = write_changed_copy(path, project.root / "changed.csv")
    code, report = ingest_json(project, project.root / "changed.csv")
    changed = [m for m in messages(report) if "already stored with different answers" in m[2]]
    assert code == 1 and changed == [("error", first + 1, f"response {rows[first][0]} is "
                                      "already stored with different answers")]
    with open_store(project.database_url) as store, store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).where(
            respondents.c.fingerprint.in_(list(old.values())))).scalar_one() == len(old)


def test_an_error_anywhere_stores_nothing(project: Project, consultation: SynthConsultation) -> None:
    path = writer("canonical")(consultation, project.root / "export.csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    row = next(i for i, line in enumerate(lines) if ",USA," in line)
    lines[row] = lines[row].replace(",USA,", ",Narnia,", 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with open_store(project.database_url) as store:
        before = store.dump()
    code, report = ingest_json(project, path, "--accept-mapping")
    assert code == 1
    assert messages(report) == [
        ("error", row + 1, "country 'Narnia' cannot be resolved to an ISO 3166 code"),
        *[m for m in messages(report) if m[0] != "error"],
    ]
    with open_store(project.database_url) as store:
        assert store.dump() == before


def test_exclusions_are_recorded_with_reasons(project: Project,
                                              consultation: SynthConsultation) -> None:
    path = writer("canonical")(consultation, project.root / "export.csv")
    assert ingest(project, path, "--accept-mapping")[0] == 0
    kinds = [r.kind for r in consultation.responses]
    with open_store(project.database_url) as store:
        counts = exclusion_counts(store)
    assert counts == {
        "preview": kinds.count("preview"),
        "spam": kinds.count("spam"),
        "incomplete": kinds.count("partial"),
        "duplicate": kinds.count("duplicate_code"),
    }


def test_messy_countries_resolve_and_regions_follow(project: Project) -> None:
    header = "response_id,status,finished,country,role,responsibility\n"
    rows = ["A,complete,1,U.S.,custodial,manager", "B,complete,1,Aotearoa New Zealand,community,manager",
            "C,complete,1,England,custodial,manager", "D,complete,1,Nederland,custodial,manager",
            "E,complete,1,España,custodial,manager", "F,complete,1,Israël,custodial,manager",
            "G,complete,1,Australia (NSW),custodial,manager"]
    path = project.root / "countries.csv"
    path.write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    assert ingest(project, path, "--accept-mapping")[0] == 0
    with open_store(project.database_url) as store:
        respondents, _ = load_responses(store)
    found = dict(zip(respondents["source_id"], zip(respondents["country_iso3"],
                                                   respondents["region"], strict=True), strict=True))
    assert found == {"A": ("USA", "North America"), "B": ("NZL", "Oceania"),
                     "C": ("GBR", "Europe"), "D": ("NLD", "Europe"), "E": ("ESP", "Europe"),
                     "F": ("ISR", "Asia"), "G": ("AUS", "Oceania")}


def test_unresolvable_country_names_the_row_and_suggests(project: Project) -> None:
    path = project.root / "c.csv"
    path.write_text("response_id,status,finished,country,role,responsibility\n"
                    "A,complete,1,Australa,custodial,manager\n", encoding="utf-8")
    code, report = ingest_json(project, path, "--accept-mapping")
    assert code == 1
    issue = report["issues"][0]
    assert issue["row"] == 2 and issue["column"] == "country" and issue["item"] == "country"
    assert issue["message"] == "country 'Australa' cannot be resolved to an ISO 3166 code"
    assert issue["hint"].startswith("Did you mean Australia")


def test_malformed_files_get_one_clear_line(project: Project) -> None:
    cases = {
        "binary.csv": (b"\x00\x01\x02PK\x03\x04" * 40,
                       "this is not a text export (it contains binary data)"),
        "latin1.csv": ("response_id,country\nA,Espa\u00f1a\n".encode("latin-1"),
                       "line 2: not UTF-8 text (byte 0xf1)"),
        "empty.csv": (b"", "the file is empty"),
    }
    for name, (content, message) in cases.items():
        path = project.root / name
        path.write_bytes(content)
        code, _, stderr = ingest(project, path, "--format", "table")
        assert code == 1, name
        assert stderr.startswith(f"Error: {path}"), stderr
        assert message in stderr, (name, stderr)
        assert "Traceback" not in stderr


def test_a_file_of_another_survey_is_refused(project: Project) -> None:
    path = project.root / "other.csv"
    path.write_text("id,favourite_colour,pet_name,shoe_size\n1,blue,Rex,42\n", encoding="utf-8")
    code, _, stderr = ingest(project, path, "--format", "table")
    assert code == 1
    assert "this looks like an export of another survey" in stderr


def test_killed_mid_ingest_leaves_the_store_as_it_was(project: Project,
                                                      consultation: SynthConsultation,
                                                      tmp_path: Path) -> None:
    path = writer("canonical")(consultation, project.root / "export.csv")
    assert ingest(project, path)[0] == 3  # draft the mapping first
    with open_store(project.database_url) as store:
        before = store.dump()
    fifo = tmp_path / "pause"
    os.mkfifo(fifo)
    env = {**os.environ, "CONSULT_TEST_PAUSE_BEFORE_COMMIT": str(fifo)}
    proc = subprocess.Popen([sys.executable, "-m", "consult", "--project", str(project.root),
                             "ingest", str(path), "--json"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Opening the FIFO for writing blocks until the ingest, inside its transaction
    # with every row inserted, opens it for reading: no sleeping, no polling.
    with open(fifo, "w", encoding="utf-8"):
        assert (tmp_path / "pause.reached").is_file()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    with open_store(project.database_url) as store:
        assert store.dump() == before
    code, stdout, stderr = ingest(project, path)
    assert code == 0, stdout + stderr
    assert stored_answers(project) == planted_answers(consultation)


def test_ingest_help_has_an_example() -> None:
    result = runner.invoke(app, ["ingest", "--help"])
    assert result.exit_code == 0 and "Example: consult ingest" in result.stdout


def test_project_settings_exclude_by_dates_and_withdrawal(project: Project,
                                                          consultation: SynthConsultation) -> None:
    withdrawn = consultation.complete[0].response_id
    settings = (project.root / "consult.toml").read_text(encoding="utf-8")
    settings = settings.replace("# fielding_end = 2014-11-30", "fielding_end = 2014-10-15")
    settings = settings.replace('min_progress = 100', f'min_progress = 100\nwithdrawn = ["{withdrawn}"]')
    (project.root / "consult.toml").write_text(settings, encoding="utf-8")
    project = load_project(explicit=project.root)
    path = writer("canonical")(consultation, project.root / "export.csv")
    assert ingest(project, path, "--accept-mapping")[0] == 0
    with open_store(project.database_url) as store:
        counts = exclusion_counts(store)
    late = sum(1 for r in consultation.complete
               if r.submitted_at.date().isoformat() > "2014-10-15" and r.response_id != withdrawn)
    assert counts["withdrawn"] == 1
    assert counts["outside_fielding"] >= late > 0
