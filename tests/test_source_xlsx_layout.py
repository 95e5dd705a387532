"""Workbooks laid out by hand: blank rows above the table, a title above it, cells beyond it."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from consult.errors import IngestFileError
from consult.ingest.sources.table import TABLE
from consult.questionnaire import load_questionnaire
from consult.synth import SynthConsultation, generate
from consult.synth.exports import writer


@pytest.fixture(scope="module")
def consultation() -> SynthConsultation:
    from consult.resources import shipped_questionnaires

    return generate(load_questionnaire(shipped_questionnaires()["r361"]), 8, seed=2)


def edited(path: Path, change: object) -> Path:
    book = openpyxl.load_workbook(path)
    change(book.worksheets[0])  # type: ignore[operator]
    book.save(path)
    return path


def test_blank_rows_above_the_header_are_skipped(tmp_path: Path,
                                                 consultation: SynthConsultation) -> None:
    path = writer("xlsx")(consultation, tmp_path / "export.xlsx")
    plain = TABLE.read(path)
    edited(path, lambda sheet: sheet.insert_rows(1, amount=2))
    table = TABLE.read(path)
    assert table.rows == plain.rows
    assert table.row_numbers == [n + 2 for n in plain.row_numbers]  # rows as the sheet numbers them


def test_a_title_above_the_header_is_named_with_both_rows(tmp_path: Path,
                                                          consultation: SynthConsultation) -> None:
    path = writer("xlsx")(consultation, tmp_path / "export.xlsx")

    def titled(sheet: openpyxl.worksheet.worksheet.Worksheet) -> None:
        sheet.insert_rows(1, amount=2)
        sheet["A1"] = "Consultation export, 30 November 2014"

    edited(path, titled)
    with pytest.raises(IngestFileError) as caught:
        TABLE.read(path)
    assert str(caught.value) == (
        f"{path}, row 1: 'Consultation export, 30 November 2014' is a title above the table, not "
        "column names; delete the row(s) above the column names (row 3) so that they are the "
        "first row of the first sheet")
    assert "delimiter" not in str(caught.value)


def test_cells_right_of_the_table_get_spreadsheet_advice(tmp_path: Path,
                                                         consultation: SynthConsultation) -> None:
    path = writer("xlsx")(consultation, tmp_path / "export.xlsx")

    def beyond(sheet: openpyxl.worksheet.worksheet.Worksheet) -> None:
        sheet.cell(row=4, column=sheet.max_column + 2, value="note")

    edited(path, beyond)
    with pytest.raises(IngestFileError, match=r"row 4: \d+ cells but the header names \d+ "
                       r"columns; give every column of the table a name in the header row") as caught:
        TABLE.read(path)
    assert "delimiter" not in str(caught.value)
