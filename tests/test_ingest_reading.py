"""Reading a large export fast without losing where each row is in the file."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consult.errors import IngestFileError
from consult.ingest.sources.base import SourceColumn
from consult.ingest.sources.table import normalise_meta
from consult.ingest.sources.text import read_rows

PIECE = st.sampled_from([*"ab ,;\"é\n", "\r\n", "\r\n\n"])
CELL = st.lists(PIECE, max_size=8).map("".join)
ROWS = st.lists(st.lists(CELL, min_size=3, max_size=3), min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(rows=ROWS, line_end=st.sampled_from(["\n", "\r\n"]))
def test_each_row_starts_on_the_line_its_written_cells_put_it(
        tmp_path_factory: pytest.TempPathFactory, rows: list[list[str]], line_end: str) -> None:
    path = tmp_path_factory.mktemp("csv") / "export.csv"
    buffer = io.StringIO(newline="")
    written = [["h1", "h2", "h3"], *rows]
    csv.writer(buffer, lineterminator=line_end).writerows(written)
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    # The reference is the rows as written: a row takes one line, plus one for
    # each line break inside its cells ("\r\n" and "\n" alike).
    expected_starts, line = [], 1
    for row in written:
        expected_starts.append(line)
        line += 1 + sum(cell.count("\n") for cell in row)
    while len(written) > 1 and not any(cell.strip() for cell in written[-1]):
        written.pop()
        expected_starts.pop()
    assert read_rows(path, ",") == (written, expected_starts)


def test_the_first_bad_meta_cell_is_reported_at_its_first_line(tmp_path: Path) -> None:
    rows = [["2021-01-02 10:00:00"], ["yesterday"], ["2021-01-03 11:00:00"], ["yesterday"],
            ["soon"]]
    column = SourceColumn(index=0, name="EndDate", meta="submitted_at")
    with pytest.raises(IngestFileError, match=r"x\.csv, line 5, column 'EndDate': 'yesterday'"):
        normalise_meta(tmp_path / "x.csv", [column], rows, [3, 5, 6, 7, 9])


def test_meta_cells_are_rewritten_in_place_row_by_row(tmp_path: Path) -> None:
    rows = [["Survey Preview", "x"], ["", "y"], ["Survey Preview", "z"], ["spam", "w"]]
    column = SourceColumn(index=0, name="Status", meta="status")
    normalise_meta(tmp_path / "x.csv", [column], rows, [2, 3, 4, 5])
    assert rows == [["preview", "x"], ["complete", "y"], ["preview", "z"], ["spam", "w"]]
