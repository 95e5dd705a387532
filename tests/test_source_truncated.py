"""A delimited export cut between two cells of its last row is refused as truncated, by every reader."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from consult.errors import IngestFileError
from consult.ingest.run import detect_format
from consult.ingest.sources.text import read_rows, sniff_delimiter
from consult.questionnaire import load_questionnaire
from consult.synth import SynthConsultation, generate
from consult.synth.exports import EXPORTS, writer

DELIMITED = sorted(name for name, (_, suffix) in EXPORTS.items() if suffix in (".csv", ".tsv"))


@pytest.fixture(scope="module")
def consultation() -> SynthConsultation:
    from consult.resources import shipped_questionnaires

    return generate(load_questionnaire(shipped_questionnaires()["r361"]), 12, seed=3)


def rewritten(path: Path, change: object) -> Path:
    """``path`` written again with its rows passed through ``change``, without a final newline."""
    text = path.read_text(encoding="utf-8-sig")
    delimiter = sniff_delimiter(text)
    rows = list(csv.reader(text.splitlines(keepends=True), delimiter=delimiter))
    rows = change(rows)  # type: ignore[operator]
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=delimiter, lineterminator="\n").writerows(rows)
    path.write_text(path.read_text(encoding="utf-8").removesuffix("\n"), encoding="utf-8")
    return path


def test_the_test_files_are_read_whole(tmp_path: Path, consultation: SynthConsultation) -> None:
    # The rewriting alone breaks nothing: only the cut is refused below.
    for name in DELIMITED:
        path = writer(name)(consultation, tmp_path / f"{name}{EXPORTS[name][1]}")
        rewritten(path, lambda rows: rows)
        assert detect_format(path).read(path).rows, name


@pytest.mark.parametrize("name", DELIMITED)
def test_a_last_row_cut_between_cells_is_refused_as_truncated(
        name: str, tmp_path: Path, consultation: SynthConsultation) -> None:
    path = writer(name)(consultation, tmp_path / f"export{EXPORTS[name][1]}")
    source = detect_format(path)
    rewritten(path, lambda rows: [*rows[:-1], rows[-1][:5]])
    line = read_rows(path)[1][-1]
    with pytest.raises(IngestFileError) as caught:
        source.read(path)
    width = len(read_rows(path)[0][0])
    assert str(caught.value) == (
        f"{path}, line {line}: 5 cells where the header has {width} columns; the file may be "
        "truncated (it ends inside this row): export it again")


def test_a_short_row_inside_a_file_is_refused_as_broken(
        tmp_path: Path, consultation: SynthConsultation) -> None:
    path = writer("canonical")(consultation, tmp_path / "export.csv")
    rewritten(path, lambda rows: [*rows[:3], rows[3][:7], *rows[4:]])
    line = read_rows(path)[1][3]
    with pytest.raises(IngestFileError, match=rf"line {line}: 7 cells where the header has \d+ "
                       "columns; a value may hold an unquoted line break"):
        detect_format(path).read(path)


def test_a_blank_line_inside_a_file_is_not_a_broken_row(
        tmp_path: Path, consultation: SynthConsultation) -> None:
    path = writer("canonical")(consultation, tmp_path / "export.csv")
    rewritten(path, lambda rows: [*rows[:3], [], *rows[3:]])
    assert detect_format(path).read(path).rows
