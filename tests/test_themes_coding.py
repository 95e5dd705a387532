"""Assisted coding: sheets of the least sure answers, read back, checked, and used by the fit."""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from consult.analysis.text.coding import (
    SHEET_COLUMNS,
    add_examples,
    apply_human_codes,
    find_codebook,
    pick_answers,
    read_coding,
    write_sheet,
)
from consult.analysis.text.embed import MiniLMEmbedder
from consult.analysis.text.preprocess import Answer
from consult.analysis.text.themes import Code, code_prototypes, fit_themes, load_codebook
from consult.cli.main import app
from consult.errors import ConsultError, ValidationFailed
from consult.project import Project, init_project
from consult.questionnaire import load_questionnaire
from consult.resources import shipped_codebooks
from consult.results import read_results
from consult.results.themes import item_themes
from consult.store import open_store
from consult.store.responses import IngestRecord, write_ingest
from consult.synth import generate
from consult.synth.records import synth_records

runner = CliRunner()

CODEBOOK = (
    Code("family", "Family contact", "Visits and calls from relatives"),
    Code("training", "Staff training", "Training officers to recognise radicalisation"),
    Code("dispersal", "Dispersal", "Spreading these prisoners across several institutions"),
)
TEXTS = (
    "Encourage visits from their families and children.",
    "Train front-line officers to spot the signs of radicalisation.",
    "Spread them across many prisons so no group can form.",
    "Staff who know the families can support the visits.",
    "Regular phone calls with relatives kept him calm.",
    "Officers were trained on dispersal rules before transfers.",
    "Disperse them, and train the staff of each receiving prison.",
    "Keep leaders in separate institutions.",
)


def answers(texts: tuple[str, ...] = TEXTS) -> list[Answer]:
    """The texts as answers of respondents 101, 102 ... to ``q``."""
    return [Answer(respondent_id=101 + i, item_id="q", text=t) for i, t in enumerate(texts)]


def write_rows(path: Path, rows: list[dict[str, str]], *, delimiter: str = ",",
               encoding: str = "utf-8") -> Path:
    """A sheet as a spreadsheet saves it: the given columns, in the given encoding."""
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    return path


def row(respondent: int | str, codes: str, answer: str = "", item: str = "q") -> dict[str, str]:
    return {"respondent": str(respondent), "item": item, "answer": answer, "codes": codes}


# --------------------------------------------------------------------------- picking


def test_sheet_lists_the_lowest_margin_answers_first(embedder: MiniLMEmbedder,
                                                     tmp_path: Path) -> None:
    picks = pick_answers(TEXTS, embedder, CODEBOOK, count=4, skip={0})
    # Margins computed here from the embeddings, not by the module.
    vectors = embedder.embed(list(TEXTS))
    sims = vectors @ code_prototypes(CODEBOOK, embedder).T
    top = np.sort(sims, axis=1)[:, ::-1]
    margins = top[:, 0] - top[:, 1]
    expected = [i for i in np.argsort(margins, kind="stable") if i != 0][:4]
    assert [p.answer for p in picks] == expected
    assert [p.margin for p in picks] == sorted(p.margin for p in picks)
    assert picks[0].margin == pytest.approx(margins[expected[0]], abs=1e-5)
    assert all(len(p.suggested) == 3 and p.suggested[0][1] >= p.suggested[1][1] for p in picks)
    # The same inputs give the same picks.
    assert pick_answers(TEXTS, embedder, CODEBOOK, count=4, skip={0}) == picks

    path = write_sheet(tmp_path / "coding" / "q-1.csv", "q", answers(), picks)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == SHEET_COLUMNS
    assert [int(r["respondent"]) for r in rows] == [101 + i for i in expected]
    assert [r["rank"] for r in rows] == ["1", "2", "3", "4"]
    assert rows[0]["answer"] == TEXTS[expected[0]]
    code, score = picks[0].suggested[0]
    assert rows[0]["suggested"].startswith(f"{code} ({score:.2f}); ")
    assert all(r["codes"] == "" and r["note"] == "" for r in rows)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # spreadsheets then read UTF-8

    with pytest.raises(ConsultError, match="is never overwritten"):
        write_sheet(path, "q", answers(), picks)


def test_picks_skip_coded_answers_and_change_once_prototypes_learn(
        embedder: MiniLMEmbedder) -> None:
    before = pick_answers(TEXTS, embedder, CODEBOOK, count=len(TEXTS))
    coded = {before[0].answer: ["training"], before[1].answer: ["family", "training"]}
    learned = add_examples(CODEBOOK, coded, TEXTS)
    after = pick_answers(TEXTS, embedder, learned, count=len(TEXTS), skip=set(coded))
    assert {p.answer for p in after} == set(range(len(TEXTS))) - set(coded)
    assert [p.margin for p in after] != [p.margin for p in before if p.answer not in coded]


def test_prototypes_change_after_coding(embedder: MiniLMEmbedder) -> None:
    coded = {7: ["dispersal"], 3: ["family", "training"]}
    learned = add_examples(CODEBOOK, coded, TEXTS)
    assert [c.examples for c in learned] == [(TEXTS[3],), (TEXTS[3],), (TEXTS[7],)]
    before, after = code_prototypes(CODEBOOK, embedder), code_prototypes(learned, embedder)
    assert all(not np.allclose(before[j], after[j]) for j in range(3))
    # The coded answer is nearer the code it was given than it was before.
    vector = embedder.embed([TEXTS[7]])[0]
    assert float(after[2] @ vector) > float(before[2] @ vector)
    # An uncoded code keeps its prototype.
    only = add_examples(CODEBOOK, {7: ["dispersal"]}, TEXTS)
    assert np.allclose(code_prototypes(only, embedder)[0], before[0])


# --------------------------------------------------------------------------- human codes


def test_human_codes_are_kept_in_the_output(embedder: MiniLMEmbedder) -> None:
    coded: dict[int, list[str]] = {0: ["training", "dispersal"], 2: []}
    codebook = add_examples(CODEBOOK, coded, TEXTS)
    fit = fit_themes(TEXTS, embedder, codebook=codebook, seed=0)
    done = apply_human_codes(fit, TEXTS, coded, codebook, embedder)
    assert [t for t, _ in done.assignments[0]] == ["training", "dispersal"]
    assert all(t not in {"family", "training", "dispersal"} for t, _ in done.assignments[2])
    # Answers nobody coded keep the machine's themes.
    assert all(done.assignments[i] == fit.assignments[i] for i in range(len(TEXTS))
               if i not in coded)
    for theme in done.themes:
        holders = {i for i, a in enumerate(done.assignments) if theme.id in {t for t, _ in a}}
        assert set(theme.members) == holders
        assert set(theme.representatives) <= holders
    assert done.theme("training").source == "codebook"
    assert 0 in done.theme("dispersal").members
    assert done.settings["human_coded"] == 2
    # The score is the answer's similarity to the prototype the fit used.
    prototype = code_prototypes(codebook, embedder)[1]
    assert done.assignments[0][0][1] == pytest.approx(
        float(embedder.embed([TEXTS[0]])[0] @ prototype), abs=1e-3)


def test_a_code_only_a_human_gave_becomes_a_theme(embedder: MiniLMEmbedder) -> None:
    codebook = (*CODEBOOK, Code("religion", "Religious services"))
    fit = fit_themes(TEXTS, embedder, codebook=codebook, seed=0)
    assert "religion" not in {t.id for t in fit.themes}
    done = apply_human_codes(fit, TEXTS, {4: ["religion"]}, codebook, embedder)
    theme = done.theme("religion")
    assert theme.members == (4,) and theme.representatives == (4,)
    assert theme.label == "Religious services" and theme.keywords


# --------------------------------------------------------------------------- sheets


def test_filled_sheet_reads_back(tmp_path: Path) -> None:
    folder = tmp_path / "coding"
    folder.mkdir()
    write_rows(folder / "q-1.csv", [
        row(101, "family"),
        row(102, "Staff training; dispersal (0.41)"),  # a label, and a pasted suggestion
        row(103, "none"),
        row(104, ""),
        row(105, "Family, Dispersal", item="other"),  # another item's row: not read here
    ])
    # As Excel saves "CSV" in Europe: semicolons, the Windows code page, a formula guard.
    texts = (*TEXTS[:5], "=Dispersal works, même ici.")
    write_rows(folder / "q-2.csv", [
        row(105, "family; training", answer=TEXTS[4]),
        row(106, "dispersal", answer="'=Dispersal works, même ici."),
    ], delimiter=";", encoding="cp1252")
    (folder / "q-3.xlsx").write_bytes(b"PK")  # a workbook saved beside them
    coding = read_coding(folder, "q", answers(texts), CODEBOOK)
    assert [str(i) for i in coding.issues] == [
        "coding/q-3.xlsx: is not read: only CSV coding sheets are read. Save it as CSV (UTF-8) in "
        "coding/."]
    assert coding.codes == {0: ("family",), 1: ("training", "dispersal"), 2: (),
                            4: ("family", "training"), 5: ("dispersal",)}
    assert dict(coding.waiting) == {3: ("coding/q-1.csv", 5)}
    assert coding.sheets == ("coding/q-1.csv", "coding/q-2.csv")
    assert coding.coded[1].sheet == "coding/q-1.csv" and coding.coded[1].row == 3
    learned = {c.id: c.examples for c in coding.codebook}
    assert learned == {"family": (texts[0], texts[4]), "training": (texts[1], texts[4]),
                       "dispersal": (texts[1], texts[5])}


def test_sheet_problems_are_named_by_file_row_and_column(tmp_path: Path) -> None:
    folder = tmp_path / "coding"
    folder.mkdir()
    write_rows(folder / "a.csv", [
        row(101, "family"),
        row(999, "family"),
        row("", "training"),
        row(102, "traning"),
        row(103, "none; family"),
        row(104, "family", answer="Something else entirely."),
        row(105, "family", item=""),
        row("x7", "family"),
    ])
    write_rows(folder / "b.csv", [row(101, "training")])
    (folder / "notes.csv").write_text("what,why\nthis,that\n", encoding="utf-8")
    (folder / "later.xlsx").write_bytes(b"PK")  # listed with the errors, not after them
    with pytest.raises(ValidationFailed) as caught:
        read_coding(folder, "q", answers(), CODEBOOK)
    problems = [str(i) for i in caught.value.issues]
    assert problems == [
        "coding/a.csv, row 3, column respondent: respondent 999 has no answer to q among the "
        "included responses (excluded or withdrawn since the sheet was written?). Delete the row.",
        "coding/a.csv, row 4, column respondent: blank: write the respondent id the sheet gave "
        "for this answer",
        "coding/a.csv, row 5, column codes: unknown code 'traning': use the codebook's ids or "
        "labels, separated by ';' (ids: dispersal, family, training), or none when no code "
        "applies",
        "coding/a.csv, row 6, column codes: 'none' beside codes: write either codes or none",
        "coding/a.csv, row 7, column answer: is not respondent 104's answer as stored now: the "
        "data changed since the sheet was written, or the row's respondent id was edited. Check "
        "the row; clear its answer cell to accept the stored answer.",
        "coding/a.csv, row 8, column item: blank: write the item id of the answer",
        "coding/a.csv, row 9, column respondent: 'x7' is not a respondent id (a whole number, "
        "as the sheet gave it)",
        "coding/b.csv, row 2, column codes: respondent 101 is coded training here but family in "
        "coding/a.csv row 2: keep one of the two",
        "coding/notes.csv, row 1, column respondent: missing: a coding sheet needs the columns "
        "respondent, item, codes (it has what, why)",
        "coding/later.xlsx: is not read: only CSV coding sheets are read. Save it as CSV (UTF-8) "
        "in coding/.",
    ]
    assert caught.value.summary == ("problems in the coding sheets of q; nothing was read or "
                                    "written")


def test_sheets_without_a_codebook_are_counted_not_used(tmp_path: Path) -> None:
    folder = tmp_path / "coding"
    folder.mkdir()
    write_rows(folder / "q-1.csv", [row(101, "anything"), row(102, "")])
    coding = read_coding(folder, "q", answers(), ())
    assert coding.codebook == ()
    assert [str(i) for i in coding.issues] == [
        "coding/q-1.csv: 1 answers of q coded by hand are not used without a codebook. Fit "
        "with --codebook to use them."]


def test_shipped_codebook_by_name(tmp_path: Path) -> None:
    path = find_codebook("r361-roundtable")
    assert path == shipped_codebooks()["r361-roundtable"]
    assert len(load_codebook(path)) == 21
    own = tmp_path / "mine.yaml"
    own.write_text("- id: a\n  label: A\n", encoding="utf-8")
    assert find_codebook(str(own)) == own
    with pytest.raises(ConsultError) as caught:
        find_codebook("roundtable")
    assert str(caught.value) == ("--codebook roundtable: no such file, and no shipped codebook "
                                 "of that name (shipped: r361-roundtable)")


# --------------------------------------------------------------------------- the CLI


@pytest.fixture
def project(tmp_path: Path, model_cache: Path) -> Iterator[Project]:
    """A project holding 40 synthetic respondents, sharing the session's embedding cache."""
    project = init_project(tmp_path / "p")
    consultation = generate(load_questionnaire(project.questionnaire_path), 40, seed=7)
    records = synth_records(consultation)
    with open_store(project.database_url) as store:
        write_ingest(store, IngestRecord(source_format="synth", file_name="synth.csv",
                                         sha256=hashlib.sha256(b"synth").hexdigest(),
                                         rows_read=len(records)), records)
    cache = project.cache_dir / "embeddings"
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.symlink_to(model_cache, target_is_directory=True)
    yield project


def read_sheet(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_cli_code_round_trip_then_fit_keeps_the_human_codes(project: Project,
                                                            tmp_path: Path) -> None:
    base = ["--project", str(project.root), "themes"]
    first = runner.invoke(app, [*base, "code", "acc_practice", "--codebook", "r361-roundtable",
                                "--next", "4"])
    assert first.exit_code == 0, first.output
    sheet = project.root / "coding" / "acc_practice-1.csv"
    assert "Wrote coding/acc_practice-1.csv: 4 answers the codebook is least sure of" in (
        first.stdout)
    # Not a terminal, so no progress bar: a line as the slow step starts and ends instead.
    assert re.fullmatch(r"acc_practice: placing \d+ answers among the codes \.\.\.\n"
                        r"acc_practice: done in \d+\.\d s\n", first.stderr), first.stderr
    rows = read_sheet(sheet)
    assert len(rows) == 4 and all(r["item"] == "acc_practice" for r in rows)

    # The researcher fills a copy elsewhere (the sheet written stays as it was).
    given = {0: "concentration; protect_vulnerable", 1: "Staff training and awareness",
             2: "none", 3: "dispersion"}
    filled = [dict(r, codes=given[k]) for k, r in enumerate(rows)]
    outside = tmp_path / "acc_practice-1.csv"
    write_rows(outside, filled)
    second = runner.invoke(app, [*base, "code", "acc_practice", "--codebook", "r361-roundtable",
                                 "--sheet", str(outside), "--next", "3"])
    assert second.exit_code == 0, second.output
    assert "Kept coding/acc_practice-1-copy2.csv in coding/" in second.stdout
    assert "acc_practice: 4 answers coded by hand in 1 sheet, 0 waiting on a sheet" in (
        second.stdout)
    assert read_sheet(sheet) == rows  # never rewritten
    new = read_sheet(project.root / "coding" / "acc_practice-2.csv")
    assert len(new) == 3 and not {r["respondent"] for r in new} & {r["respondent"] for r in rows}

    fit = runner.invoke(app, [*base, "fit", "acc_practice", "--codebook", "r361-roundtable"])
    assert fit.exit_code == 0, fit.output
    assert ", 4 coded by hand)" in fit.stdout
    with (project.out_dir / "themes.csv").open(encoding="utf-8") as handle:
        written: dict[str, list[str]] = {}
        for line in csv.DictReader(handle):
            written.setdefault(line["respondent"], []).append(line["theme"])
    expected = {0: ["concentration", "protect_vulnerable"], 1: ["staff_training"], 2: [],
                3: ["dispersion"]}
    for k, r in enumerate(rows):
        themes = written.get(r["respondent"], [])
        assert [t for t in themes if not t.startswith("N")] == expected[k]
    section = item_themes(read_results(project.out_dir / "results.json").themes)
    settings = section["acc_practice"].settings
    assert settings["human_coded"] == 4
    assert settings["coding_sheets"] == ["coding/acc_practice-1-copy2.csv"]


def test_cli_code_reports_sheet_problems(project: Project) -> None:
    folder = project.root / "coding"
    folder.mkdir()
    write_rows(folder / "mine.csv", [row(1, "no_such_code", item="acc_practice")])
    result = runner.invoke(app, ["--project", str(project.root), "themes", "code",
                                 "acc_practice", "--codebook", "r361-roundtable"])
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: problems in the coding sheets of acc_practice; nothing was read or written\n"
        "  error: coding/mine.csv, row 2, column codes: unknown code 'no_such_code': use the "
        "codebook's ids or labels")
    assert sorted(p.name for p in folder.iterdir()) == ["mine.csv"]


def test_cli_code_bad_item_and_bad_codebook(project: Project) -> None:
    base = ["--project", str(project.root), "themes", "code"]
    result = runner.invoke(app, [*base, "role", "--codebook", "r361-roundtable"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: 'role' is not a free-text item of r361; use one of "
                                    "acc_practice, ")
    result = runner.invoke(app, [*base, "acc_practice", "--codebook", "nope"])
    assert result.exit_code == 1
    assert result.stderr == ("Error: --codebook nope: no such file, and no shipped codebook of "
                             "that name (shipped: r361-roundtable)\n")


def test_cli_code_help_has_an_example() -> None:
    result = runner.invoke(app, ["themes", "code", "--help"])
    assert result.exit_code == 0
    assert "Example: consult themes code acc_practice --codebook r361-roundtable" in (
        result.stdout)
