"""SurveyMonkey exports: the synthetic writer's layout and the reader."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from pathlib import Path

import pytest

from consult.errors import IngestFileError
from consult.ingest.sources import SourceColumn, reader
from consult.ingest.sources.surveymonkey import SURVEYMONKEY
from consult.ingest.sources.text import read_rows
from consult.questionnaire import Item, ItemType, Questionnaire, load_questionnaire
from consult.regions import to_iso3
from consult.synth import SynthConsultation, SynthResponse, generate, write_canonical
from consult.synth.exports import writer
from consult.synth.exports.surveymonkey import write_surveymonkey

R361 = Path(__file__).resolve().parents[1] / "questionnaires" / "r361.yaml"
META = ["Respondent ID", "Collector ID", "Start Date", "End Date", "IP Address", "Email Address",
        "First Name", "Last Name", "Custom Data 1", "Custom Data 2"]
ENDONYMS = {"Nederland": "NLD", "España": "ESP"}


@pytest.fixture(scope="module")
def r361() -> Questionnaire:
    return load_questionnaire(R361)


@pytest.fixture(scope="module")
def consultation(r361: Questionnaire) -> SynthConsultation:
    return generate(r361, 60, seed=12, junk=0.3)


@pytest.fixture(scope="module")
def export(consultation: SynthConsultation, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_surveymonkey(consultation, tmp_path_factory.mktemp("sm") / "responses.csv")


def raw_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))


def exported(consultation: SynthConsultation) -> list[SynthResponse]:
    """The rows SurveyMonkey exports: everything but previews and spam."""
    return [r for r in consultation.responses if r.status not in ("preview", "spam")]


# --------------------------------------------------------------------------- the writer


def test_layout_two_header_rows_filled_forward(r361: Questionnaire, consultation: SynthConsultation,
                                               export: Path) -> None:
    assert export.read_bytes().startswith(b"\xef\xbb\xbfRespondent ID,Collector ID,Start Date,")
    rows = raw_rows(export)
    first, second, data = rows[0], rows[1], rows[2:]
    assert first[:10] == META and second[:10] == [""] * 10
    expected_first: list[str] = []
    expected_second: list[str] = []
    for item in r361.items():
        label = item.label["en"]
        if item.type is ItemType.MULTIPLE_CHOICE:
            kinds = [c.label["en"] for c in item.choices or []]
        else:
            kinds = ["Open-Ended Response" if item.type is ItemType.FREE_TEXT else "Response"]
        kinds += ["Other (please specify)"] * item.other
        expected_first += [label] + [""] * (len(kinds) - 1)
        expected_second += kinds
    assert first[10:] == expected_first
    assert second[10:] == expected_second
    assert len(data) == len(exported(consultation)) < len(consultation.responses)
    date = re.compile(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d [AP]M")
    assert all(date.fullmatch(row[2]) for row in data)
    ends = [row[3] for row in data]
    assert all(date.fullmatch(end) for end in ends if end) and "" in ends
    r = exported(consultation)[0]
    assert data[0][:4] == [r.response_id, "405123987", f"{r.started_at:%m/%d/%Y %I:%M:%S %p}",
                           f"{r.submitted_at:%m/%d/%Y %I:%M:%S %p}"]
    assert data[0][8:10] == [r.referral_code, r.referred_by or ""]


def test_registry_names_the_writer_and_reader() -> None:
    assert writer("surveymonkey") is write_surveymonkey
    assert reader("surveymonkey") is SURVEYMONKEY


# --------------------------------------------------------------------------- the reader


def test_reader_meta_values_are_canonical(consultation: SynthConsultation, export: Path) -> None:
    table = SURVEYMONKEY.read(export)
    rows = exported(consultation)
    assert len(table.rows) == len(rows)
    assert table.row_numbers[0] == 3
    metas = [c for c in table.columns if c.meta]
    assert {c.name: c.meta for c in metas} == {
        "Respondent ID": "response_id", "Start Date": "started_at", "End Date": "submitted_at",
        "Custom Data 1": "referral_code", "Custom Data 2": "referred_by", "finished": "finished"}
    for values, r in zip(table.rows, rows, strict=True):
        row = {c.meta: values[c.index] for c in metas}
        assert row["response_id"] == r.response_id
        assert row["finished"] == ("1" if r.finished else "0")
        assert datetime.fromisoformat(row["started_at"]) == r.started_at.replace(tzinfo=None)
        assert row["submitted_at"] == (r.submitted_at.replace(tzinfo=None).isoformat()
                                       if r.finished else "")
        assert row["referral_code"] == r.referral_code
        assert row["referred_by"] == (r.referred_by or "")


def test_reader_describes_every_column(r361: Questionnaire, export: Path) -> None:
    table = SURVEYMONKEY.read(export)
    # a mapping names columns: the blanks of row 1 get names of their own
    assert len({c.name for c in table.columns}) == len(table.columns)
    assert {c.name for c in table.columns if c.ignore} == {
        "Collector ID", "IP Address", "Email Address", "First Name", "Last Name"}
    index = 10
    for item in r361.items():
        key = f"sm{index}"
        columns = [c for c in table.columns if c.question == key]
        assert columns[0].index == index
        assert all(c.text == item.label["en"] for c in columns), item.id
        if item.type is ItemType.MULTIPLE_CHOICE:
            labels = [c.label["en"] for c in item.choices or []]
            assert [(c.choice, c.choice_text) for c in columns if not c.other_text] == [
                (label, label) for label in labels]
        else:
            assert (columns[0].choice, columns[0].other_text) == (None, False)
        if item.other:
            assert (columns[-1].other_text, columns[-1].choice_text) == (True,
                                                                        "Other (please specify)")
        index += len(columns)
    assert index == len(table.columns) - 1  # the derived finished column comes last


def test_every_complete_response_reads_back(r361: Questionnaire, consultation: SynthConsultation,
                                            export: Path) -> None:
    table = SURVEYMONKEY.read(export)
    column_id = table.column("response_id")
    assert column_id is not None
    rows = {row[column_id.index]: row for row in reversed(table.rows)}
    keys = {c.text: c.question for c in table.columns if c.question}
    checked = 0
    for r in consultation.complete:
        for item in r361.items():
            columns = [c for c in table.columns if c.question == keys[item.label["en"]]]
            check_answer(item, r, rows[r.response_id], columns)
            checked += 1
    assert checked == 60 * len(r361.items())


def check_answer(item: Item, r: SynthResponse, row: list[str], columns: list[SourceColumn]) -> None:
    """The row holds ``r``'s answer to ``item``, read through the column descriptions."""
    value = r.answers.get(item.id)
    other = [c for c in columns if c.other_text]
    if other:
        assert row[other[0].index] == r.other_text.get(item.id, ""), item.id
    if item.type is ItemType.MULTIPLE_CHOICE:
        by_label = {c.label["en"]: c.code for c in item.choices or []}
        picked = {by_label[c.choice or ""] for c in columns if c.choice and row[c.index]}
        chosen = set(value if isinstance(value, list) else []) - {"other"}
        assert picked == chosen, item.id
        return
    cell = row[columns[0].index]
    if value is None:
        assert cell == "", item.id
    elif value == "other":
        assert cell == "Other (please specify)", item.id
    elif item.type is ItemType.COUNTRY:
        assert (to_iso3(cell) or ENDONYMS[cell]) == value
    elif item.type.has_choices:
        choice = item.choice(str(value))
        assert choice is not None and cell == choice.label["en"], item.id
    else:
        assert cell == str(value), item.id


def test_sniff_ranks_surveymonkey_first_on_its_file(consultation: SynthConsultation, export: Path,
                                                    tmp_path: Path) -> None:
    readers = [reader(name) for name in ("qualtrics", "surveymonkey", "table")]
    files = {"surveymonkey": export,
             "qualtrics": writer("qualtrics")(consultation, tmp_path / "q.csv"),
             "canonical": write_canonical(consultation, tmp_path / "c.csv")}
    scores = {name: {r.name: r.sniff(path, read_rows(path)[0][:5]) for r in readers}
              for name, path in files.items()}
    assert scores["surveymonkey"] == {"qualtrics": 0.0, "surveymonkey": 0.95, "table": 0.3}
    assert scores["qualtrics"]["surveymonkey"] == 0.0
    assert scores["canonical"]["surveymonkey"] == 0.0
    assert SURVEYMONKEY.sniff(tmp_path / "x.xlsx", []) == 0.0


def test_a_hand_made_export_with_custom_variable_names(tmp_path: Path) -> None:
    # Newer exports name custom variables ("code", "ref") instead of "Custom Data 1".
    path = tmp_path / "sm.csv"
    path.write_text(
        "Respondent ID,Start Date,End Date,code,ref,Where do you work?,,Tools used,,\n"
        ",,,,,Response,Other (please specify),VERA-2R,ERG 22+,Other (please specify)\n"
        "114,13/09/2014 09:00:00 AM,13/09/2014 09:10:00 PM,AB12,,Canada,,VERA-2R,,\n"
        "115,14/09/2014 10:00:00 AM,,CD34,AB12,,Ontario,,ERG 22+,In-house tool\n",
        encoding="utf-8")
    table = SURVEYMONKEY.read(path)
    assert [(c.name, c.meta, c.question, c.choice, c.other_text) for c in table.columns] == [
        ("Respondent ID", "response_id", None, None, False),
        ("Start Date", "started_at", None, None, False),
        ("End Date", "submitted_at", None, None, False),
        ("code", "referral_code", None, None, False),
        ("ref", "referred_by", None, None, False),
        ("Where do you work?", None, "sm5", None, False),
        ("Where do you work? - Other (please specify)", None, "sm5", None, True),
        ("Tools used", None, "sm7", "VERA-2R", False),
        ("Tools used - ERG 22+", None, "sm7", "ERG 22+", False),
        ("Tools used - Other (please specify)", None, "sm7", None, True),
        ("finished", "finished", None, None, False),
    ]
    # a day above 12 shows the dates are day-first
    assert [row[:5] + row[-1:] for row in table.rows] == [
        ["114", "2014-09-13T09:00:00", "2014-09-13T21:10:00", "AB12", "", "1"],
        ["115", "2014-09-14T10:00:00", "", "CD34", "AB12", "0"],
    ]


# --------------------------------------------------------------------------- malformed files


def test_header_rows_without_responses(export: Path, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"".join(export.read_bytes().splitlines(keepends=True)[:2]))
    with pytest.raises(IngestFileError) as err:
        SURVEYMONKEY.read(path)
    assert str(err.value) == (f"{path}: the file has SurveyMonkey's two header rows but no "
                              "responses; check the filters in Analyze Results and export again")


def test_duplicate_column_names(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("Respondent ID,Collector ID,Start Date,Start Date,Q,\n"
                    ",,,,Response,Other (please specify)\n1,2,,,Yes,\n", encoding="utf-8")
    with pytest.raises(IngestFileError) as err:
        SURVEYMONKEY.read(path)
    assert str(err.value) == (f"{path}, line 1: column 'Start Date' appears twice (columns 3 and "
                              "4); rename one in the export or the file")


def test_truncated_inside_a_quoted_field(tmp_path: Path) -> None:
    path = tmp_path / "cut.csv"
    path.write_text('Respondent ID,Collector ID,Comment\n,,Open-Ended Response\n'
                    '1,2,"It works\nwell because', encoding="utf-8")
    with pytest.raises(IngestFileError) as err:
        SURVEYMONKEY.read(path)
    assert str(err.value) == (f"{path}, line 4: the file is malformed (unexpected end of data); "
                              "it may be truncated: export it again")


def test_binary_junk(tmp_path: Path) -> None:
    path = tmp_path / "junk.csv"
    path.write_bytes(b"PK\x03\x04\x00\x00" + bytes(range(256)))
    with pytest.raises(IngestFileError) as err:
        SURVEYMONKEY.read(path)
    assert str(err.value) == (f"{path}: this is not a text export (it contains binary data); "
                              "export the responses as CSV, TSV, XLSX or JSON Lines")


def test_latin1_bytes(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("Respondent ID,Collector ID,Pays\n,,Response\n1,2,España\n".encode("latin-1"))
    with pytest.raises(IngestFileError) as err:
        SURVEYMONKEY.read(path)
    assert str(err.value) == (
        f"{path}, line 3: not UTF-8 text (byte 0xf1); export the file as UTF-8 (in Excel: Save "
        "As > CSV UTF-8), or convert it with: iconv -f windows-1252 -t utf-8 latin1.csv > fixed.csv")


def test_unreadable_date(tmp_path: Path) -> None:
    path = tmp_path / "date.csv"
    path.write_text("Respondent ID,Start Date,Q\n,,Response\n1,last Tuesday,Yes\n", encoding="utf-8")
    with pytest.raises(IngestFileError) as err:
        SURVEYMONKEY.read(path)
    assert str(err.value) == (f"{path}, line 3, column 'Start Date': 'last Tuesday' is not a date "
                              "and time consult can read; write it as 2014-09-08 16:01:00")

