"""Plain tables (CSV, XLSX, JSON Lines): the synthetic writers and the reader."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from consult.errors import IngestFileError
from consult.ingest.sources import SourceTable, reader
from consult.ingest.sources.table import TABLE
from consult.ingest.sources.text import iso_datetime, read_rows
from consult.questionnaire import ItemType, Questionnaire, load_questionnaire
from consult.synth import SynthConsultation, generate, write_canonical
from consult.synth.exports import writer
from consult.synth.exports.table import write_jsonl, write_xlsx
from consult.synth.write import META_COLUMNS, canonical_columns

R361 = Path(__file__).resolve().parents[1] / "questionnaires" / "r361.yaml"
FORMATS = ("canonical", "xlsx", "jsonl")


@pytest.fixture(scope="module")
def r361() -> Questionnaire:
    return load_questionnaire(R361)


@pytest.fixture(scope="module")
def consultation(r361: Questionnaire) -> SynthConsultation:
    return generate(r361, 60, seed=13, junk=0.3)


@pytest.fixture(scope="module")
def exports(consultation: SynthConsultation, tmp_path_factory: pytest.TempPathFactory
            ) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("table")
    return {
        "canonical": write_canonical(consultation, folder / "responses.csv"),
        "xlsx": write_xlsx(consultation, folder / "responses.xlsx"),
        "jsonl": write_jsonl(consultation, folder / "responses.jsonl"),
    }


def head(path: Path) -> list[list[str]]:
    return read_rows(path)[0][:5] if path.suffix in (".csv", ".tsv") else []


# --------------------------------------------------------------------------- the writers


def test_xlsx_holds_the_canonical_columns_and_values(r361: Questionnaire,
                                                     consultation: SynthConsultation,
                                                     exports: dict[str, Path]) -> None:
    book = openpyxl.load_workbook(exports["xlsx"])
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == canonical_columns(r361)
    assert len(rows) == len(consultation.responses) + 1
    canonical = read_rows(exports["canonical"])[0]
    for cells, text in zip(rows[1:], canonical[1:], strict=True):
        assert ["" if v is None else str(v) for v in cells] == text
    experience = rows[0].index("experience_years")
    assert all(isinstance(row[experience], int) for row in rows[1:] if row[experience] is not None)
    assert {row[2] for row in rows[1:]} == {0, 1}  # finished, a number


def test_jsonl_holds_numbers_and_lists(r361: Questionnaire, consultation: SynthConsultation,
                                       exports: dict[str, Path]) -> None:
    lines = exports["jsonl"].read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == len(consultation.responses)
    for record, r in zip(records, consultation.responses, strict=True):
        assert list(record) == canonical_columns(r361)
        assert record["finished"] in (0, 1) and isinstance(record["progress"], int)
        assert record["referred_by"] == r.referred_by
        for item in r361.items():
            assert record[item.id] == r.answers.get(item.id), item.id
        assert isinstance(record["experience_years"], int | None)
        assert isinstance(record["acc_factors"], list | None)


def test_registry_names_the_writers_and_reader() -> None:
    assert writer("xlsx") is write_xlsx
    assert writer("jsonl") is write_jsonl
    assert reader("table") is TABLE


# --------------------------------------------------------------------------- the reader


@pytest.mark.parametrize("kind", FORMATS)
def test_reader_describes_the_canonical_columns(kind: str, r361: Questionnaire,
                                                exports: dict[str, Path]) -> None:
    table = TABLE.read(exports[kind])
    assert table.multi_separator == " "
    assert [(c.name, c.meta) for c in table.columns if c.meta] == [(m, m) for m in META_COLUMNS]
    for item in r361.items():
        column = next(c for c in table.columns if c.name == item.id)
        assert (column.question, column.choice, column.other_text) == (item.id, None, False)
        if item.other:
            other = next(c for c in table.columns if c.name == f"{item.id}_other")
            assert (other.question, other.other_text) == (item.id, True)
    assert not any(c.ignore for c in table.columns)


@pytest.mark.parametrize("kind", FORMATS)
def test_reader_meta_values_are_canonical(kind: str, consultation: SynthConsultation,
                                          exports: dict[str, Path]) -> None:
    table = TABLE.read(exports[kind])
    assert table.row_numbers[:2] == ([1, 2] if kind == "jsonl" else [2, 3])  # JSONL: no header
    for values, r in zip(table.rows, consultation.responses, strict=True):
        row = meta_row(table, values)
        assert row == {
            "response_id": r.response_id, "status": r.status,
            "finished": "1" if r.finished else "0", "progress": str(r.progress),
            "started_at": r.started_at.isoformat(timespec="seconds"),
            "submitted_at": r.submitted_at.isoformat(timespec="seconds"),
            "language": r.language, "referral_code": r.referral_code,
            "referred_by": r.referred_by or ""}


@pytest.mark.parametrize("kind", FORMATS)
def test_every_complete_response_reads_back(kind: str, r361: Questionnaire,
                                            consultation: SynthConsultation,
                                            exports: dict[str, Path]) -> None:
    table = TABLE.read(exports[kind])
    by_id = {meta_row(table, row)["response_id"]: row for row in reversed(table.rows)}
    checked = 0
    for r in consultation.complete:
        row = by_id[r.response_id]
        for item in r361.items():
            cell = row[next(c.index for c in table.columns if c.question == item.id
                            and not c.other_text)]
            value = r.answers.get(item.id)
            if item.type is ItemType.MULTIPLE_CHOICE and value is not None:
                assert cell.split(table.multi_separator) == value, item.id
            else:
                assert cell == ("" if value is None else str(value)), item.id
            if item.other:
                other = next(c.index for c in table.columns if c.question == item.id
                             and c.other_text)
                assert row[other] == r.other_text.get(item.id, "")
            checked += 1
    assert checked == 60 * len(r361.items())


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_csv_with_other_delimiters_and_common_meta_names(delimiter: str, tmp_path: Path) -> None:
    path = tmp_path / "table.csv"
    header = ["ID", "Code", "Referrer", "SubmitDate", "Start_Date", "Lang", "Complete", "Status",
              "Progress", "country", "tools", "tools_other", "notes_other"]
    rows = [
        ["7", "AB12", "", "2014-09-08 16:01", "2014-09-08 15:40", "FR-CA", "yes", "Completed",
         "100%", "France", "vera_2r other", "in-house", "n/a"],
        ["8", "CD34", "AB12", "13/09/2014 10:00", "13/09/2014 09:30", "English", "N", "preview",
         "55", "Spain", "", "", ""],
    ]
    path.write_text("\n".join(delimiter.join(r) for r in [header, *rows]) + "\n", encoding="utf-8")
    table = TABLE.read(path)
    assert [(c.name, c.meta, c.question, c.other_text) for c in table.columns] == [
        ("ID", "response_id", None, False), ("Code", "referral_code", None, False),
        ("Referrer", "referred_by", None, False), ("SubmitDate", "submitted_at", None, False),
        ("Start_Date", "started_at", None, False), ("Lang", "language", None, False),
        ("Complete", "finished", None, False), ("Status", "status", None, False),
        ("Progress", "progress", None, False), ("country", None, "country", False),
        ("tools", None, "tools", False), ("tools_other", None, "tools", True),
        # no column "notes": a column that only looks like an "other" text is a question
        ("notes_other", None, "notes_other", False),
    ]
    assert [row[:9] for row in table.rows] == [
        ["7", "AB12", "", "2014-09-08T16:01:00", "2014-09-08T15:40:00", "fr", "1", "complete",
         "100"],
        ["8", "CD34", "AB12", "2014-09-13T10:00:00", "2014-09-13T09:30:00", "en", "0", "preview",
         "55"],
    ]


def test_xlsx_dates_and_whole_numbers(tmp_path: Path) -> None:
    path = tmp_path / "hand.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["respondent_id", "submitted", "experience", "ratio", "finished", None])
    sheet.append([101, datetime(2014, 9, 8, 16, 1), 12.0, 0.5, True, None])
    sheet.append([102, datetime(2014, 9, 9), 7, 1.25, False, None])
    sheet.append([None, None, None, None, None, None])  # a blank row is skipped
    sheet.append([103, "2014-09-10 08:00:00", None, None, 1, None])
    book.save(path)
    table = TABLE.read(path)
    assert [c.name for c in table.columns] == ["respondent_id", "submitted", "experience", "ratio",
                                               "finished"]
    assert table.rows == [
        ["101", "2014-09-08T16:01:00", "12", "0.5", "1"],
        ["102", "2014-09-09T00:00:00", "7", "1.25", "0"],
        ["103", "2014-09-10T08:00:00", "", "", "1"],
    ]
    assert table.row_numbers == [2, 3, 5]


def test_jsonl_lists_with_spaces_get_another_separator(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_text('{"id": "a", "partners": ["Police", "Community organizations"], "n": 3.0}\n'
                    "\n"
                    '{"id": "b", "partners": [], "extra": null, "n": 2.5}\n', encoding="utf-8")
    table = TABLE.read(path)
    assert table.multi_separator == "|"
    assert [c.name for c in table.columns] == ["id", "partners", "n", "extra"]
    assert table.rows == [["a", "Police|Community organizations", "3", ""], ["b", "", "2.5", ""]]
    assert table.row_numbers == [1, 3]


def test_sniff_ranks_table_first_on_its_files(consultation: SynthConsultation,
                                              exports: dict[str, Path], tmp_path: Path) -> None:
    readers = [reader(name) for name in ("qualtrics", "surveymonkey", "table")]
    for kind, path in exports.items():
        scores = {r.name: r.sniff(path, head(path)) for r in readers}
        assert max(scores, key=lambda name: scores[name]) == "table", kind
    assert TABLE.sniff(exports["canonical"], head(exports["canonical"])) == 0.9
    for name in ("qualtrics", "qualtrics-legacy", "qualtrics-tsv", "surveymonkey"):
        path = writer(name)(consultation, tmp_path / f"{name}.csv")
        scores = {r.name: r.sniff(path, head(path)) for r in readers}
        assert scores["table"] < max(scores.values()), name


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)))
def test_platform_date_formats_read_back(moment: datetime) -> None:
    moment = moment.replace(microsecond=0)
    iso = moment.isoformat()
    assert iso_datetime(f"{moment:%m/%d/%Y %I:%M:%S %p}") == iso  # SurveyMonkey
    assert iso_datetime(f"{moment:%d/%m/%Y %H:%M:%S}", dayfirst=True) == iso
    assert iso_datetime(f"{moment:%Y-%m-%d %H:%M:%S}") == iso  # Qualtrics
    legacy = f"{moment.month}/{moment.day}/{moment:%y} {moment.hour}:{moment:%M}"
    assert iso_datetime(legacy) == moment.replace(second=0).isoformat()  # Qualtrics, legacy


# --------------------------------------------------------------------------- malformed files


def test_csv_header_only(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text("response_id,status,q1\n", encoding="utf-8")
    with pytest.raises(IngestFileError) as err:
        TABLE.read(path)
    assert str(err.value) == (f"{path}: the file has a header row but no responses; export it "
                              "again with the responses included")


def test_xlsx_header_only(tmp_path: Path) -> None:
    path = tmp_path / "header.xlsx"
    book = openpyxl.Workbook()
    assert book.active is not None
    book.active.append(["response_id", "q1"])
    book.save(path)
    with pytest.raises(IngestFileError) as err:
        TABLE.read(path)
    assert str(err.value) == (f"{path}: the file has a header row but no responses; export it "
                              "again with the responses included")


def test_duplicate_column_names(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("id;q1;q2;q1\n1;a;b;c\n", encoding="utf-8")
    with pytest.raises(IngestFileError) as err:
        TABLE.read(path)
    assert str(err.value) == (f"{path}, line 1: column 'q1' appears twice (columns 2 and 4); "
                              "rename one in the export or the file")
    book_path = tmp_path / "dup.xlsx"
    book = openpyxl.Workbook()
    assert book.active is not None
    book.active.append(["id", "Q1", "Q1"])
    book.active.append([1, "a", "b"])
    book.save(book_path)
    with pytest.raises(IngestFileError) as err:
        TABLE.read(book_path)
    assert str(err.value) == (f"{book_path}, line 1: column 'Q1' appears twice (columns 2 and 3); "
                              "rename one in the export or the file")


def test_jsonl_duplicate_key(tmp_path: Path) -> None:
    path = tmp_path / "dup.jsonl"
    path.write_text('{"id": 1, "q1": "a"}\n{"id": 2, "q1": "a", "q1": "b"}\n', encoding="utf-8")
    with pytest.raises(IngestFileError) as err:
        TABLE.read(path)
    assert str(err.value) == f"{path}, line 2: key 'q1' appears twice in the object; keep one"


def test_truncated_inside_a_quoted_field(tmp_path: Path) -> None:
    path = tmp_path / "cut.csv"
    path.write_text('id,comment\n1,"fine"\n2,"It works\nwell because', encoding="utf-8")
    with pytest.raises(IngestFileError) as err:
        TABLE.read(path)
    assert str(err.value) == (f"{path}, line 4: the file is malformed (unexpected end of data); "
                              "it may be truncated: export it again")


def test_binary_junk(tmp_path: Path) -> None:
    path = tmp_path / "junk.csv"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(IngestFileError) as err:
        TABLE.read(path)
    assert str(err.value) == (f"{path}: this is not a text export (it contains binary data); "
                              "export the responses as CSV, TSV, XLSX or JSON Lines")


def test_latin1_bytes(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("id,country\n1,Israël\n".encode("latin-1"))
    with pytest.raises(IngestFileError) as err:
        TABLE.read(path)
    assert str(err.value) == (
        f"{path}, line 2: not UTF-8 text (byte 0xeb); export the file as UTF-8 (in Excel: Save "
        "As > CSV UTF-8), or convert it with: iconv -f windows-1252 -t utf-8 latin1.csv > fixed.csv")


def test_xlsx_that_is_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "renamed.xlsx"
    path.write_text("id,q1\n1,a\n", encoding="utf-8")
    with pytest.raises(IngestFileError) as err:
        TABLE.read(path)
    assert str(err.value) == (f"{path}: not an Excel workbook (it is not a zip archive); save it "
                              "from Excel as .xlsx, or export the responses as CSV")


def test_jsonl_line_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": 1}\n{"id": 2, "q1": \n{"id": 3}\n', encoding="utf-8")
    with pytest.raises(IngestFileError) as err:
        TABLE.read(path)
    assert str(err.value) == (f"{path}, line 2: not a JSON object (Expecting value at character "
                              "17); each line must be one JSON object")


def test_jsonl_line_that_is_a_list(tmp_path: Path) -> None:
    path = tmp_path / "list.jsonl"
    path.write_text('{"id": 1}\n[1, 2]\n', encoding="utf-8")
    with pytest.raises(IngestFileError) as err:
        TABLE.read(path)
    assert str(err.value) == (f"{path}, line 2: a JSON list, not an object; each line must be "
                              "one JSON object")


def test_unreadable_finished_value(tmp_path: Path) -> None:
    path = tmp_path / "flag.csv"
    path.write_text("id,finished\n1,1\n2,maybe\n", encoding="utf-8")
    with pytest.raises(IngestFileError) as err:
        TABLE.read(path)
    assert str(err.value) == (f"{path}, line 3, column 'finished': 'maybe' is not a yes/no "
                              "value; use 1 or 0")


def meta_row(table: SourceTable, row: list[str]) -> dict[str, str]:
    return {c.meta or "": row[c.index] for c in table.columns if c.meta}
