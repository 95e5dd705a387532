"""Qualtrics exports: the synthetic writers' layouts, the reader, and the real benchmark export."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from consult.errors import IngestFileError
from consult.ingest.sources import SourceColumn, SourceTable, reader
from consult.ingest.sources.qualtrics import QUALTRICS
from consult.ingest.sources.text import read_rows
from consult.questionnaire import Item, ItemType, Questionnaire, load_questionnaire
from consult.regions import to_iso3
from consult.synth import SynthConsultation, SynthResponse, generate, write_canonical
from consult.synth.exports import writer
from consult.synth.exports.qualtrics import (
    write_qualtrics,
    write_qualtrics_legacy,
    write_qualtrics_tsv,
)

R361 = Path(__file__).resolve().parents[1] / "questionnaires" / "r361.yaml"
BENCHMARK = (Path(__file__).resolve().parents[2] / "shared" / "benchmarks"
             / "proctoring-educators" / "responses_qualtrics.csv")
META = ["StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)",
        "Finished", "RecordedDate", "ResponseId", "RecipientLastName", "RecipientFirstName",
        "RecipientEmail", "ExternalReference", "LocationLatitude", "LocationLongitude",
        "DistributionChannel", "UserLanguage"]
IGNORED = {"IPAddress", "Duration (in seconds)", "RecordedDate", "RecipientLastName",
           "RecipientFirstName", "RecipientEmail", "ExternalReference", "LocationLatitude",
           "LocationLongitude", "DistributionChannel"}
# Endonyms the Qualtrics writer uses on purpose; consult resolves them through an alias list.
ENDONYMS = {"Nederland": "NLD", "España": "ESP"}
WRITERS = {"csv": write_qualtrics, "tsv": write_qualtrics_tsv, "legacy": write_qualtrics_legacy}


@pytest.fixture(scope="module")
def r361() -> Questionnaire:
    return load_questionnaire(R361)


@pytest.fixture(scope="module")
def consultation(r361: Questionnaire) -> SynthConsultation:
    # junk 0.3: every junk kind (preview, spam, partial, duplicates) appears
    return generate(r361, 60, seed=11, junk=0.3)


@pytest.fixture(scope="module")
def exports(consultation: SynthConsultation, tmp_path_factory: pytest.TempPathFactory
            ) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("qualtrics")
    return {name: write(consultation, folder / f"responses.{name}")
            for name, write in WRITERS.items()}


def raw_rows(path: Path, delimiter: str = ",") -> list[list[str]]:
    text = path.read_bytes().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def expected_ids(q: Questionnaire) -> list[str]:
    """Row 1 as Qualtrics writes it for ``q``: Q1, Q2... in questionnaire order."""
    ids = []
    for n, item in enumerate(q.items(), start=1):
        k = len(item.choices or [])
        if item.type is ItemType.MULTIPLE_CHOICE:
            ids += [f"Q{n}_{j}" for j in range(1, k + 1 + item.other)]
        else:
            ids.append(f"Q{n}")
        if item.other:
            ids.append(f"Q{n}_{k + 1}_TEXT")
    return ids


# --------------------------------------------------------------------------- the writers


def test_csv_layout_three_header_rows(r361: Questionnaire, consultation: SynthConsultation,
                                      exports: dict[str, Path]) -> None:
    path = exports["csv"]
    assert path.read_bytes().startswith(b"\xef\xbb\xbfStartDate,EndDate,Status,")
    rows = raw_rows(path)
    ids, texts, import_ids, data = rows[0], rows[1], rows[2], rows[3:]
    assert ids == [*META, *expected_ids(r361), "code", "ref"]
    assert texts[:9] == ["Start Date", "End Date", "Response Type", "IP Address", "Progress",
                         "Duration (in seconds)", "Finished", "Recorded Date", "Response ID"]
    assert import_ids[0] == '{"ImportId":"startDate","timeZone":"America/Denver"}'
    assert import_ids[8] == '{"ImportId":"_recordId"}'
    assert [json.loads(c)["ImportId"] for c in import_ids[-2:]] == ["code", "ref"]
    assert all("ImportId" in json.loads(cell) for cell in import_ids)
    assert len(data) == len(consultation.responses)

    col = {name: i for i, name in enumerate(ids)}
    factors = r361.item("acc_factors")  # item 6: multiple choice, 9 choices, with other
    n = [i.id for i in r361.items()].index("acc_factors") + 1
    label, first = factors.label["en"], (factors.choices or [])[0].label["en"]
    assert texts[col[f"Q{n}_1"]] == f"{label} - Selected Choice - {first}"
    assert texts[col[f"Q{n}_10"]] == f"{label} - Selected Choice - Other"
    assert texts[col[f"Q{n}_10_TEXT"]] == f"{label} - Other - Text"
    assert json.loads(import_ids[col[f"Q{n}_10_TEXT"]]) == {"ImportId": f"QID{n}_10_TEXT"}
    approach = [i.id for i in r361.items()].index("acc_approach") + 1
    assert texts[col[f"Q{approach}"]].endswith(" - Selected Choice")
    assert json.loads(import_ids[col[f"Q{approach}"]]) == {"ImportId": f"QID{approach}"}
    assert json.loads(import_ids[col["Q4"]]) == {"ImportId": "QID4_TEXT"}  # a number: text entry

    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row[0]) for row in data)
    assert {row[col["Finished"]] for row in data} == {"True", "False"}
    assert Counter(row[col["Status"]] for row in data).keys() == {"IP Address", "Survey Preview",
                                                                 "Spam"}
    by_id = {r.response_id: r for r in consultation.responses}
    for row in data:
        if row[col["Finished"]] == "False":
            assert int(row[col["Progress"]]) < 100 and row[col["EndDate"]]
    kinds = Counter(by_id[row[col["ResponseId"]]].kind for row in data)
    assert kinds["duplicate_id"] >= 1 and kinds["duplicate_code"] >= 1


def test_tsv_layout_is_the_csv_with_tabs(exports: dict[str, Path]) -> None:
    assert exports["tsv"].read_bytes().startswith(b"\xef\xbb\xbfStartDate\tEndDate\tStatus\t")
    assert raw_rows(exports["tsv"], "\t") == raw_rows(exports["csv"])


def test_legacy_layout_two_rows_us_dates(exports: dict[str, Path]) -> None:
    rows = raw_rows(exports["legacy"])
    csv_rows = raw_rows(exports["csv"])
    assert rows[0] == csv_rows[0] and rows[1] == csv_rows[1]
    assert not rows[2][0].startswith("{")
    assert len(rows) == len(csv_rows) - 1
    col = {name: i for i, name in enumerate(rows[0])}
    data = rows[2:]
    assert all(re.fullmatch(r"\d{1,2}/\d{1,2}/\d\d \d{1,2}:\d\d", row[col["StartDate"]])
               for row in data)
    assert {row[col["Finished"]] for row in data} == {"TRUE", "FALSE"}
    # the same moment as the three-row export, to the minute: 2014-09-08 09:05:00 -> 9/8/14 9:05
    first = datetime.strptime(csv_rows[3][0], "%Y-%m-%d %H:%M:%S")
    assert data[0][0] == f"{first.month}/{first.day}/{first:%y} {first.hour}:{first:%M}"


def test_country_names_are_messy_but_resolvable(r361: Questionnaire,
                                                exports: dict[str, Path]) -> None:
    rows = raw_rows(exports["csv"])
    index = rows[0].index("Q1")  # country is the first profile item
    names = Counter(row[index] for row in rows[3:])
    assert len(names) > 15  # more spellings than countries
    for name in names:
        assert to_iso3(name) or ENDONYMS[name], name


def test_writing_another_language_changes_texts_only(consultation: SynthConsultation,
                                                     tmp_path: Path) -> None:
    french = raw_rows(write_qualtrics(consultation, tmp_path / "fr.csv", lang="fr"))
    english = raw_rows(write_qualtrics(consultation, tmp_path / "en.csv"))
    assert french[0] == english[0] and french[2] == english[2]
    role = french[0].index("Q2")
    assert french[1][role] == "Quel type de milieu décrit le mieux votre lieu de travail?"
    assert {row[role] for row in french[3:]} - {""} == {
        "Administratif (administration centrale, bureau régional)",
        "Carcéral (en établissement)", "Communautaire (libération conditionnelle, probation)"}
    a, b = QUALTRICS.read(tmp_path / "fr.csv"), QUALTRICS.read(tmp_path / "en.csv")
    assert [(c.question, c.choice, c.other_text, c.meta) for c in a.columns] == [
        (c.question, c.choice, c.other_text, c.meta) for c in b.columns]


def test_registry_names_the_writers() -> None:
    assert writer("qualtrics") is write_qualtrics
    assert writer("qualtrics-legacy") is write_qualtrics_legacy
    assert writer("qualtrics-tsv") is write_qualtrics_tsv
    assert reader("qualtrics") is QUALTRICS


# --------------------------------------------------------------------------- the reader


@pytest.mark.parametrize("variant", ["csv", "tsv", "legacy"])
def test_reader_meta_values_are_canonical(variant: str, consultation: SynthConsultation,
                                          exports: dict[str, Path]) -> None:
    table = QUALTRICS.read(exports[variant])
    assert len(table.rows) == len(consultation.responses)
    assert table.row_numbers[0] == (4 if variant != "legacy" else 3)
    meta = {m: meta_values(table, m) for m in ("status", "finished", "progress", "started_at",
                                               "submitted_at", "language", "referral_code",
                                               "referred_by", "response_id")}
    assert set(meta["status"]) == {"complete", "preview", "spam"}
    assert set(meta["finished"]) == {"1", "0"}
    assert all(0 <= int(p) <= 100 for p in meta["progress"])
    assert set(meta["language"]) == {"en", "fr"}
    for row, r in zip(rows_of(table), consultation.responses, strict=True):
        assert row["response_id"] == r.response_id
        assert row["status"] == r.status
        assert row["finished"] == ("1" if r.finished else "0")
        assert row["progress"] == str(r.progress)
        assert row["language"] == r.language
        assert row["referral_code"] == r.referral_code
        assert row["referred_by"] == (r.referred_by or "")
        started = datetime.fromisoformat(row["started_at"])
        if variant == "legacy":  # local time of the account, to the minute, no offset
            assert started.tzinfo is None
            assert started.replace(second=0) == started
        else:
            assert started == r.started_at
            assert datetime.fromisoformat(row["submitted_at"]) == r.submitted_at


@pytest.mark.parametrize("variant", ["csv", "legacy"])
def test_reader_describes_every_column(variant: str, r361: Questionnaire,
                                       exports: dict[str, Path]) -> None:
    table = QUALTRICS.read(exports[variant])
    by_name = {c.name: c for c in table.columns}
    assert [c.index for c in table.columns] == list(range(len(table.columns)))
    assert {c.name for c in table.columns if c.ignore} == IGNORED
    assert {c.name: c.meta for c in table.columns if c.meta} == {
        "StartDate": "started_at", "EndDate": "submitted_at", "Status": "status",
        "Progress": "progress", "Finished": "finished", "ResponseId": "response_id",
        "UserLanguage": "language", "code": "referral_code", "ref": "referred_by"}
    for n, item in enumerate(r361.items(), start=1):
        label = item.label["en"]
        columns = [c for c in table.columns if c.question == f"Q{n}"]
        assert all(c.text == label for c in columns), item.id
        k = len(item.choices or [])
        if item.type is ItemType.MULTIPLE_CHOICE:
            choices = [c for c in columns if c.choice is not None]
            assert [c.choice for c in choices] == [str(j) for j in range(1, k + 1 + item.other)]
            assert [c.choice_text for c in choices] == [
                *(ch.label["en"] for ch in item.choices or []), *(["Other"] * item.other)]
        else:
            assert by_name[f"Q{n}"].question == f"Q{n}" and by_name[f"Q{n}"].choice is None
        if item.other:
            other = by_name[f"Q{n}_{k + 1}_TEXT"]
            assert (other.question, other.other_text, other.choice_text) == (f"Q{n}", True, "Other")
        assert len(columns) == (k + item.other if item.type is ItemType.MULTIPLE_CHOICE
                                else 1) + item.other


@pytest.mark.parametrize("variant", ["csv", "tsv", "legacy"])
def test_every_complete_response_reads_back(variant: str, r361: Questionnaire,
                                            consultation: SynthConsultation,
                                            exports: dict[str, Path]) -> None:
    table = QUALTRICS.read(exports[variant])
    # a duplicate_id row repeats its source's id and answers: either one will do
    rows = {meta["response_id"]: (meta, row)
            for meta, row in zip(rows_of(table), table.rows, strict=True)}
    checked = 0
    for r in consultation.complete:
        meta, row = rows[r.response_id]
        assert (meta["status"], meta["finished"]) == ("complete", "1")
        for n, item in enumerate(r361.items(), start=1):
            columns = [c for c in table.columns if c.question == f"Q{n}"]
            check_answer(item, r, row, columns)
            checked += 1
    assert checked == 60 * len(r361.items())


def check_answer(item: Item, r: SynthResponse, row: list[str], columns: list[SourceColumn]) -> None:
    """The row holds ``r``'s answer to ``item``, read through the column descriptions."""
    value = r.answers.get(item.id)
    whole = [c for c in columns if c.choice is None and not c.other_text]
    other = [c for c in columns if c.other_text]
    if other:
        assert row[other[0].index] == r.other_text.get(item.id, ""), item.id
    if item.type is ItemType.MULTIPLE_CHOICE:
        codes = item.choice_codes()
        picked = {codes[int(c.choice or 0) - 1] for c in columns
                  if c.choice is not None and row[c.index]}
        assert picked == set(value if isinstance(value, list) else []), item.id
        return
    cell = row[whole[0].index]
    if value is None:
        assert cell == "", item.id
    elif item.type is ItemType.COUNTRY:
        assert (to_iso3(cell) or ENDONYMS[cell]) == value
    elif item.type.has_choices:
        choice = item.choice(str(value))
        assert cell == (choice.label["en"] if choice else "Other"), item.id
    else:
        assert cell == str(value), item.id


def test_sniff_ranks_qualtrics_first_on_its_files(consultation: SynthConsultation,
                                                  exports: dict[str, Path], tmp_path: Path) -> None:
    readers = [reader(name) for name in ("qualtrics", "surveymonkey", "table")]
    files = {**exports,
             "surveymonkey": writer("surveymonkey")(consultation, tmp_path / "sm.csv"),
             "canonical": write_canonical(consultation, tmp_path / "canonical.csv")}
    scores = {name: {r.name: r.sniff(path, read_rows(path)[0][:5]) for r in readers}
              for name, path in files.items()}
    for name in ("csv", "tsv"):
        assert scores[name]["qualtrics"] == 0.95
    assert scores["legacy"]["qualtrics"] >= 0.9
    for name in ("csv", "tsv", "legacy"):
        assert max(scores[name], key=lambda r: scores[name][r]) == "qualtrics"
    assert scores["surveymonkey"]["qualtrics"] == 0.0
    assert scores["canonical"]["qualtrics"] == 0.0
    assert QUALTRICS.sniff(tmp_path / "x.xlsx", []) == 0.0


def test_numeric_status_custom_tags_and_import_ids(tmp_path: Path) -> None:
    # A newer export: numeric Status and Finished, export tags that are not Qn,
    # and QIDs that differ from them; the ImportId decides question and choice.
    path = tmp_path / "small.csv"
    rows = [
        ["StartDate", "EndDate", "Status", "Finished", "Progress", "ResponseId", "UserLanguage",
         "role", "sites_1", "sites_4", "sites_4_TEXT", "comment", "Code", "Ref"],
        ["Start Date", "End Date", "Response Type", "Finished", "Progress", "Response ID",
         "User Language", "Rôle", "Sites - Selected Choice - A", "Sites - Selected Choice - Autre",
         "Sites - Autre - Text", "Commentaire", "Code", "Ref"],
        [json.dumps(i, separators=(",", ":")) for i in (
            {"ImportId": "startDate", "timeZone": "Europe/Paris"},
            {"ImportId": "endDate", "timeZone": "Europe/Paris"}, {"ImportId": "status"},
            {"ImportId": "finished"}, {"ImportId": "progress"}, {"ImportId": "_recordId"},
            {"ImportId": "userLanguage"}, {"ImportId": "QID7"}, {"ImportId": "QID9_1"},
            {"ImportId": "QID9_4"}, {"ImportId": "QID9_4_TEXT"}, {"ImportId": "QID12_TEXT"},
            {"ImportId": "Code"}, {"ImportId": "Ref"})],
        ["2014-09-08 16:01:00", "2014-09-08 16:20:00", "0", "1", "100", "R_1", "FR-CA", "Oui",
         "A", "", "", "Bien", "AB12", ""],
        ["2014-09-09 10:00:00", "2014-09-09 10:05:00", "1", "0", "40", "R_2", "EN", "", "",
         "Autre", "texte", "", "CD34", "AB12"],
        ["2014-09-09 11:00:00", "2014-09-09 11:05:00", "8", "1", "100", "R_3", "EN-GB"],
        ["2014-09-09 12:00:00", "2014-09-09 12:05:00", "2", "1", "100", "R_4"],
    ]
    rows[3:] = [row + [""] * (len(rows[0]) - len(row)) for row in rows[3:]]  # every cell written
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows(rows)
    table = QUALTRICS.read(path)
    described = {c.name: (c.question, c.choice, c.other_text, c.text, c.choice_text)
                 for c in table.columns if c.question}
    assert described == {
        "role": ("role", None, False, "Rôle", None),
        "sites_1": ("sites", "1", False, "Sites", "A"),
        "sites_4": ("sites", "4", False, "Sites", "Autre"),
        "sites_4_TEXT": ("sites", None, True, "Sites", "Autre"),
        "comment": ("comment", None, False, "Commentaire", None),
    }
    assert [row["status"] for row in rows_of(table)] == ["complete", "preview", "spam", "test"]
    assert [row["finished"] for row in rows_of(table)] == ["1", "0", "1", "1"]
    assert [row["language"] for row in rows_of(table)] == ["fr", "en", "en", ""]
    assert rows_of(table)[1]["referred_by"] == "AB12"
    # Paris is two hours ahead of UTC in September
    assert rows_of(table)[0]["started_at"] == "2014-09-08T16:01:00+02:00"
    assert table.row_numbers == [4, 5, 6, 7]


# --------------------------------------------------------------------------- malformed files


def test_header_rows_without_responses(exports: dict[str, Path], tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"".join(exports["csv"].read_bytes().splitlines(keepends=True)[:3]))
    with pytest.raises(IngestFileError) as err:
        QUALTRICS.read(path)
    assert str(err.value) == (f"{path}: the file has Qualtrics' header rows but no responses; "
                              "check the filters in Data & Analysis and export again")


def test_duplicate_column_ids(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("StartDate,ResponseId,Q1,Q1\nStart Date,Response ID,A,B\n"
                    "2014-09-08 16:01:00,R_1,x,y\n", encoding="utf-8")
    with pytest.raises(IngestFileError) as err:
        QUALTRICS.read(path)
    assert str(err.value) == (f"{path}, line 1: column 'Q1' appears twice (columns 3 and 4); "
                              "rename one in the export or the file")


def test_truncated_inside_a_quoted_field(tmp_path: Path) -> None:
    path = tmp_path / "cut.csv"
    path.write_text('StartDate,ResponseId,Q1\nStart Date,Response ID,Comment\n'
                    '2014-09-08 16:01:00,R_1,"It works\nwell because', encoding="utf-8")
    with pytest.raises(IngestFileError) as err:
        QUALTRICS.read(path)
    assert str(err.value) == (f"{path}, line 4: the file is malformed (unexpected end of data); "
                              "it may be truncated: export it again")


def test_binary_junk(tmp_path: Path) -> None:
    path = tmp_path / "junk.csv"
    path.write_bytes(b"StartDate\x00\x01\x02\xff" * 20)
    with pytest.raises(IngestFileError) as err:
        QUALTRICS.read(path)
    assert str(err.value) == (f"{path}: this is not a text export (it contains binary data); "
                              "export the responses as CSV, TSV, XLSX or JSON Lines")


def test_latin1_bytes(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("StartDate,ResponseId,Q1\nStart Date,Response ID,Pays\n"
                     "2014-09-08 16:01:00,R_1,Israël\n".encode("latin-1"))
    with pytest.raises(IngestFileError) as err:
        QUALTRICS.read(path)
    assert str(err.value) == (
        f"{path}, line 3: not UTF-8 text (byte 0xeb); export the file as UTF-8 (in Excel: Save "
        "As > CSV UTF-8), or convert it with: iconv -f windows-1252 -t utf-8 latin1.csv > fixed.csv")


def test_row_longer_than_the_header(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text("StartDate,ResponseId,Q1\nStart Date,Response ID,Pays\n"
                    "2014-09-08 16:01:00,R_1,France,extra\n", encoding="utf-8")
    with pytest.raises(IngestFileError) as err:
        QUALTRICS.read(path)
    assert str(err.value) == (f"{path}, line 3: 4 cells but the header names 3 columns; a value "
                              "may hold an unquoted delimiter: export the file again")


def test_unknown_status(tmp_path: Path) -> None:
    path = tmp_path / "status.csv"
    path.write_text("StartDate,Status,ResponseId\nStart Date,Response Type,Response ID\n"
                    "2014-09-08 16:01:00,Weird,R_1\n", encoding="utf-8")
    with pytest.raises(IngestFileError) as err:
        QUALTRICS.read(path)
    assert str(err.value) == (f"{path}, line 3, column 'Status': status 'Weird' is not one "
                              "consult knows; use complete, preview, spam or test")


# --------------------------------------------------------------------------- the real export


@pytest.mark.benchmark_data
def test_real_benchmark_export() -> None:
    if not BENCHMARK.exists():
        pytest.skip(f"benchmark data absent: {BENCHMARK} (see ../shared/benchmarks/README.md)")
    assert QUALTRICS.sniff(BENCHMARK, read_rows(BENCHMARK)[0][:5]) >= 0.85
    table = QUALTRICS.read(BENCHMARK)
    # The file holds 125 data rows (pandas agrees: read_csv(header=[0, 1]).shape == (125, 82));
    # the paper's n = 26 users of proctoring (Q6) matches them.
    assert len(table.rows) == 125
    assert table.row_numbers[0] == 6  # the text row spans lines 2-5 (line breaks in N4's text)
    by_name = {c.name: c for c in table.columns}
    assert [(by_name[f"Q4_{k}"].question, by_name[f"Q4_{k}"].choice) for k in range(1, 9)] == [
        ("Q4", str(k)) for k in range(1, 9)]
    assert by_name["Q4_7"].choice_text == "Respondus"
    assert by_name["Q4_1"].text == "Awareness: proctoring tools available at GW"
    other = by_name["Q2_16_TEXT"]
    assert (other.question, other.other_text, other.choice_text) == ("Q2", True,
                                                                     "Other (Please Specify)")
    assert by_name["Q2"].text == ("What is the primary organization unit or school you are "
                                  "associated with at GW?")
    q6 = by_name["Q6"]
    assert Counter(row[q6.index] for row in table.rows) == {"Yes": 26, "No": 98, "I'm Unsure": 1}
    first = rows_of(table)[0]
    assert (first["started_at"], first["submitted_at"], first["finished"], first["progress"]) == (
        "2021-12-02T08:46:00", "2021-12-02T08:55:00", "1", "100")
    assert table.column("response_id") is None  # this export has no ResponseId column
    assert {c.name for c in table.columns if c.ignore} == {
        "Duration (in seconds)", "RecordedDate", "DistributionChannel"}


# --------------------------------------------------------------------------- helpers


def meta_values(table: SourceTable, meta: str) -> list[str]:
    column = table.column(meta)
    assert column is not None, meta
    return [row[column.index] for row in table.rows]


def rows_of(table: SourceTable) -> list[dict[str, str]]:
    """Each row's meta fields by name."""
    metas = [c for c in table.columns if c.meta]
    return [{c.meta or "": row[c.index] for c in metas} for row in table.rows]
