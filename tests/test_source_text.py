"""Reading delimited text: every row located at the line where it starts."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consult.errors import IngestFileError
from consult.ingest.sources.text import read_rows

PIECE = st.sampled_from([*"ab ,;\"é\n", "\r\n"])
CELL = st.lists(PIECE, max_size=8).map("".join)
ROWS = st.lists(st.lists(CELL, min_size=3, max_size=3), min_size=1, max_size=12)


def write(path: Path, rows: list[list[str]], line_end: str) -> str:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator=line_end).writerows([["h1", "h2", "h3"], *rows])
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    return buffer.getvalue()


@settings(max_examples=200, deadline=None)
@given(rows=ROWS, line_end=st.sampled_from(["\n", "\r\n"]))
def test_rows_start_where_the_csv_module_says(tmp_path_factory: pytest.TempPathFactory,
                                              rows: list[list[str]], line_end: str) -> None:
    path = tmp_path_factory.mktemp("csv") / "export.csv"
    write(path, rows, line_end)
    # Worked out from what was written: a row starts one line after the previous row's
    # start, plus one line for each line break inside the previous row's cells.
    expected_rows, expected_starts, line = [["h1", "h2", "h3"]], [1], 2
    for row in rows:
        expected_rows.append(row)
        expected_starts.append(line)
        line += 1 + sum(len(re.findall(r"\r\n|\r|\n", cell)) for cell in row)
    # Blank rows at the end of the file are not rows.
    while expected_rows and not any(cell.strip() for cell in expected_rows[-1]):
        expected_rows.pop()
        expected_starts.pop()
    assert read_rows(path, ",") == (expected_rows, expected_starts)


def test_a_multi_line_answer_moves_the_next_row_down(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text('id,answer\n1,"two\nlines"\n2,one line\n3,"three\r\nlines\nhere"\n4,x\n',
                    encoding="utf-8", newline="")
    rows, starts = read_rows(path)
    assert [row[0] for row in rows] == ["id", "1", "2", "3", "4"]
    assert starts == [1, 2, 4, 5, 8]


def test_a_file_cut_inside_a_quoted_answer_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text('id,answer\n1,fine\n2,"cut off here\n', encoding="utf-8")
    with pytest.raises(IngestFileError, match=r"export\.csv, line \d+: the file is malformed"):
        read_rows(path)
