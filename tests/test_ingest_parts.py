"""An ingest goes through its file in parts, each stored while the next is converted
(in a forked process for a large file): the same records, issues and stored rows as
in one piece, and nothing stored when a later part finds an error."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Any

import pytest
from pg import PgServer

import consult.ingest.run as run
from consult.ingest.convert import RowConverter
from consult.ingest.mapping import load_mapping
from consult.ingest.run import detect_format, ingest_file
from consult.project import DATABASE_ENV, Project, init_project
from consult.questionnaire import load_questionnaire
from consult.store import open_store
from consult.store.responses import IngestWriter, PreparedResponses
from consult.synth import SynthConsultation, generate
from consult.synth.exports import writer

TABLES = ("respondents", "answers", "exclusions")


@pytest.fixture(scope="module")
def consultation() -> SynthConsultation:
    from consult.resources import shipped_questionnaires

    # Junk rows: previews, repeated ids and duplicated answers, spread over every part.
    return generate(load_questionnaire(shipped_questionnaires()["r361"]), 60, seed=11, junk=0.15)


def mapped_project(root: Path, consultation: SynthConsultation) -> tuple[Project, Path]:
    """A project whose mapping for the canonical export is drafted and accepted."""
    project = init_project(root)
    path = writer("canonical")(consultation, root / "export.csv")
    draft = init_project(root.parent / f"{root.name}-draft")
    shutil.copyfile(path, draft.root / "export.csv")
    assert ingest_file(draft, draft.root / "export.csv", accept_mapping=True).status == "ingested"
    (project.root / "mapping").mkdir(exist_ok=True)
    shutil.copyfile(draft.root / "mapping" / "table.yaml", project.root / "mapping" / "table.yaml")
    return project, path


def edited_copy(path: Path, target: Path, cells: dict[tuple[int, str], str]) -> Path:
    """``path`` with ``cells`` ((response index from 0, column name) → text) changed."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    for (index, name), text in cells.items():
        rows[1 + index][rows[0].index(name)] = text
    with target.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return target


def stored(project: Project) -> dict[str, Any]:
    with open_store(project.database_url) as store:
        dump = store.dump()
    return {table: dump[table] for table in TABLES}


def test_converting_in_parts_gives_what_converting_at_once_gives(
        tmp_path: Path, consultation: SynthConsultation) -> None:
    project, path = mapped_project(tmp_path / "p", consultation)
    # Unknown values (errors, reported on every row holding them) in several parts.
    path = edited_copy(path, tmp_path / "edited.csv", {
        (2, "role"): "banana", (16, "role"): "banana", (39, "acc_factors"): "kiwi"})
    questionnaire = load_questionnaire(project.questionnaire_path)
    table = detect_format(path).read(path)
    mapping = load_mapping(project.root / "mapping" / "table.yaml", questionnaire)

    def converter() -> RowConverter:
        return RowConverter(table, mapping, questionnaire, "r361", source=table.format)

    whole = converter()
    at_once = whole.convert_all()
    parts = converter()
    total = len(table.rows)
    in_parts = [row for start in range(0, total, 7)
                for row in parts.convert_rows(start, min(total, start + 7))]
    assert in_parts == at_once
    assert parts.issues == whole.issues
    lines = table.row_numbers  # answers span lines: the reported line is the row's first
    assert [(i.code, i.row) for i in whole.issues if i.severity == "error"] == [
        ("unknown-value", lines[2]), ("unknown-value", lines[16]), ("unknown-value", lines[39])]


def test_an_ingest_in_parts_stores_what_one_part_stores(
        tmp_path: Path, consultation: SynthConsultation, monkeypatch: pytest.MonkeyPatch) -> None:
    results = []
    for name, part, fork_from in (("one", 1_000_000, 1_000_000), ("parts", 7, 1_000_000),
                                  ("forked", 7, 0)):
        monkeypatch.setattr(run, "_ROWS_PER_PART", part)
        monkeypatch.setattr(run, "_FORK_FROM_ROWS", fork_from)
        project, path = mapped_project(tmp_path / name, consultation)
        first = ingest_file(project, path)
        # A second export with answers changed in two different parts, taken with --replace.
        changed = edited_copy(path, tmp_path / f"{name}-changed.csv", {
            (1, "experience_years"): "41", (29, "experience_years"): "42"})
        second = ingest_file(project, changed, replace_changed=True)
        results.append((first.status, first.included, dict(first.excluded), first.issues,
                        second.status, second.replaced, second.unchanged, stored(project)))
    assert results[0] == results[1] == results[2]
    assert results[0][0] == "ingested" and results[0][4] == "ingested"
    assert results[0][5] == 2
    assert results[0][2]  # exclusions were found, some of them across parts


@pytest.mark.parametrize("fork_from", [1_000_000, 0], ids=["in-process", "forked"])
def test_an_error_in_a_later_part_leaves_the_store_as_it_was(
        tmp_path: Path, consultation: SynthConsultation, monkeypatch: pytest.MonkeyPatch,
        fork_from: int) -> None:
    project, path = mapped_project(tmp_path / "p", consultation)
    monkeypatch.setattr(run, "_ROWS_PER_PART", 5)
    monkeypatch.setattr(run, "_FORK_FROM_ROWS", fork_from)
    written: list[int] = []
    write = IngestWriter.write_prepared

    def counting(self: IngestWriter, prepared: PreparedResponses, **kwargs: Any) -> None:
        written.append(len(prepared.respondents))
        write(self, prepared, **kwargs)

    monkeypatch.setattr(IngestWriter, "write_prepared", counting)
    bad = edited_copy(path, tmp_path / "bad.csv", {(58, "role"): "banana"})
    line = detect_format(bad).read(bad).row_numbers[58]
    before = stored(project)
    result = ingest_file(project, bad)
    assert result.status == "failed" and result.ingest_id is None
    assert [(i.code, i.row) for i in result.errors] == [("unknown-value", line)]
    assert len(written) >= 10  # the parts before the error had gone to the store
    assert stored(project) == before
    with open_store(project.database_url) as store:
        assert store.counts()["ingests"] == 0
    assert not list((project.cache_dir / "raw").glob("*bad.csv"))  # kept only once ingested
    # The same file without the error then goes in whole.
    assert ingest_file(project, path).status == "ingested"


@pytest.mark.postgres
def test_a_forked_ingest_into_postgresql_stores_what_one_in_process_stores(
        tmp_path: Path, consultation: SynthConsultation, monkeypatch: pytest.MonkeyPatch,
        pg_server: PgServer) -> None:
    results = []
    monkeypatch.setattr(run, "_ROWS_PER_PART", 7)
    for name, fork_from in (("in-process", 1_000_000), ("forked", 0)):
        monkeypatch.setattr(run, "_FORK_FROM_ROWS", fork_from)
        monkeypatch.delenv(DATABASE_ENV, raising=False)
        project, path = mapped_project(tmp_path / name, consultation)  # drafted on SQLite
        monkeypatch.setenv(DATABASE_ENV, pg_server.create_database())
        result = ingest_file(project, path)
        results.append((result.status, result.included, dict(result.excluded), result.issues,
                        stored(project)))
    assert results[0] == results[1]
    assert results[0][0] == "ingested" and results[0][1] > 0
