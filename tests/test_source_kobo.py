"""KoboToolbox: the synthetic writer's exact layout and the reader that reads it back."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from consult.errors import IngestFileError
from consult.ingest.sources import reader
from consult.ingest.sources.base import META_FIELDS, SourceTable
from consult.ingest.sources.kobo import KOBO
from consult.ingest.sources.text import read_rows
from consult.questionnaire import Item, ItemType, Questionnaire, load_questionnaire
from consult.resources import shipped_questionnaires
from consult.synth import SynthConsultation, SynthResponse, generate
from consult.synth.exports import writer
from consult.synth.exports.kobo import write_kobo
from consult.synth.exports.odk import instance_uuid

BOOKKEEPING = ["__version__", "_id", "_uuid", "_submission_time", "_validation_status", "_notes",
               "_status", "_submitted_by", "_tags", "_index"]


@pytest.fixture(scope="module")
def r361() -> Questionnaire:
    return load_questionnaire(shipped_questionnaires()["r361"])


@pytest.fixture(scope="module")
def consultation(r361: Questionnaire) -> SynthConsultation:
    # junk=0.3 gives every junk kind twice over 40 respondents.
    return generate(r361, 40, seed=361, junk=0.3)


@pytest.fixture(scope="module")
def exported(consultation: SynthConsultation, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_kobo(consultation, tmp_path_factory.mktemp("kobo") / "kobo.csv")


@pytest.fixture(scope="module")
def table(exported: Path) -> SourceTable:
    return KOBO.read(exported)


def parsed(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(raw(path), newline=""), delimiter=";"))


def raw(path: Path) -> str:
    """The file's text with its line ends as written."""
    return path.read_bytes().decode("utf-8")


def kept(consultation: SynthConsultation) -> list[SynthResponse]:
    return [r for r in consultation.responses if r.kind in ("complete", "duplicate_id", "duplicate_code")]


# --------------------------------------------------------------------------- the writer


def test_every_field_quoted_semicolon_separated_utf8(exported: Path) -> None:
    text = raw(exported)
    again = io.StringIO(newline="")
    csv.writer(again, delimiter=";", quoting=csv.QUOTE_ALL).writerows(parsed(exported))
    assert again.getvalue() == text
    assert text.startswith('"start";"end";"profile/country";"profile/role";')


def test_header_groups_split_columns_and_bookkeeping(exported: Path, r361: Questionnaire) -> None:
    header = parsed(exported)[0]
    assert header[:6] == ["start", "end", "profile/country", "profile/role",
                          "profile/responsibility", "profile/experience_years"]
    factors = header.index("accommodation/acc_factors")
    codes = r361.item("acc_factors").choice_codes()
    assert header[factors - 2: factors] == ["accommodation/acc_approach",
                                            "accommodation/acc_approach_other"]
    assert header[factors + 1: factors + 1 + len(codes)] == [
        f"accommodation/acc_factors/{code}" for code in codes]
    assert header[factors + 1 + len(codes)] == "accommodation/acc_factors_other"
    assert "accommodation/acc_factors/leadership_influence" in header
    assert header[-12:] == ["code", "ref", *BOOKKEEPING]
    assert "overall/best_practice" in header


def test_rows_dates_and_bookkeeping_values(exported: Path, consultation: SynthConsultation) -> None:
    header, *rows = parsed(exported)
    col = {name: i for i, name in enumerate(header)}
    assert len(rows) == len(kept(consultation))
    for number, (row, response) in enumerate(zip(rows, kept(consultation), strict=True), start=1):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", row[col["start"]])
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", row[col["end"]])
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", row[col["_submission_time"]])
        assert row[col["start"]] == response.started_at.isoformat(timespec="milliseconds")
        assert row[col["_submission_time"]] == response.submitted_at.strftime("%Y-%m-%dT%H:%M:%S")
        assert row[col["_index"]] == str(number)
        assert row[col["_id"]].isdigit()
        assert row[col["_status"]] == "submitted_via_web"
        assert row[col["code"]] == response.referral_code
        assert row[col["ref"]] == (response.referred_by or "")
        assert row[col["profile/country"]] == response.country_iso3
        assert re.fullmatch(r"[A-Z]{3}", row[col["profile/country"]])


def test_junk_left_out_and_duplicates_kept(exported: Path, consultation: SynthConsultation) -> None:
    header, *rows = parsed(exported)
    uuids = [row[header.index("_uuid")] for row in rows]
    codes = [row[header.index("code")] for row in rows]
    for r in consultation.responses:
        if r.kind in ("preview", "spam", "partial"):
            assert r.referral_code not in codes
        elif r.kind == "duplicate_id":
            assert uuids.count(instance_uuid(consultation, r)) == 2
        elif r.kind == "duplicate_code":
            assert codes.count(r.referral_code) >= 2
            assert uuids.count(instance_uuid(consultation, r)) == 1
    assert len(set(row[header.index("_id")] for row in rows)) == len(rows)


def test_split_columns_hold_1_0_or_nothing(exported: Path, consultation: SynthConsultation,
                                          r361: Questionnaire) -> None:
    header, *rows = parsed(exported)
    item = r361.item("rec_methods")  # shown only when rec_attempts is "yes"
    for row, response in zip(rows, kept(consultation), strict=True):
        answer = response.answers.get(item.id)
        cells = [row[header.index(f"recruitment/rec_methods/{code}")] for code in item.choice_codes()]
        if answer is None:
            assert cells == [""] * len(cells)
        else:
            assert isinstance(answer, list)
            assert cells == ["1" if code in answer else "0" for code in item.choice_codes()]


def test_hxl_row(consultation: SynthConsultation, tmp_path: Path) -> None:
    path = write_kobo(consultation, tmp_path / "hxl.csv", hxl=True)
    header, tags, *rows = parsed(path)
    assert len(tags) == len(header)
    assert tags[:3] == ["#date +start", "#date +end", "#country +code"]
    assert tags[header.index("accommodation/acc_approach")] == "#indicator +acc_approach"
    assert tags[header.index("accommodation/acc_factors/none")] == "#indicator +acc_factors +none"
    assert all(tag == "" for tag in tags[-len(BOOKKEEPING):])
    assert len(rows) == len(kept(consultation))


def test_registered_under_kobo(consultation: SynthConsultation, tmp_path: Path,
                               exported: Path) -> None:
    path = writer("kobo")(consultation, tmp_path / "k.csv")
    assert path.read_bytes() == exported.read_bytes()
    assert reader("kobo") is KOBO and KOBO.name == "kobo"


# --------------------------------------------------------------------------- the reader


def test_meta_is_canonical(table: SourceTable, consultation: SynthConsultation) -> None:
    assert table.format == "kobo" and table.multi_separator == " "
    assert [table.column(m) is not None for m in META_FIELDS] == [
        m not in ("progress", "language", "withdrawn") for m in META_FIELDS]
    assert table.notes == ["54 split select_multiple column(s) ignored: the combined columns "
                           "hold the same answers"]

    def cell(i: int, meta: str) -> str:
        column = table.column(meta)
        assert column is not None
        return table.rows[i][column.index]

    assert len(table.rows) == len(kept(consultation))
    for i, response in enumerate(kept(consultation)):
        assert cell(i, "response_id") == instance_uuid(consultation, response)
        assert cell(i, "status") == "complete"
        assert cell(i, "finished") == "1"
        assert cell(i, "started_at") == response.started_at.isoformat(timespec="seconds")
        assert datetime.fromisoformat(cell(i, "submitted_at")) == response.submitted_at
        assert cell(i, "submitted_at").endswith("+00:00")
        assert cell(i, "referral_code") == response.referral_code
        assert cell(i, "referred_by") == (response.referred_by or "")
    assert table.row_numbers == read_rows(table.path)[1][1:]


def test_column_descriptions(table: SourceTable) -> None:
    by_name = {c.name: c for c in table.columns}
    assert by_name["profile/country"].question == "country"
    combined = by_name["accommodation/acc_factors"]
    assert (combined.question, combined.choice, combined.ignore) == ("acc_factors", None, False)
    split = by_name["accommodation/acc_factors/leadership_influence"]
    assert split.ignore and split.question is None
    other = by_name["accommodation/acc_approach_other"]
    assert (other.question, other.other_text) == ("acc_approach", True)
    assert by_name["accommodation/acc_factors_other"].question == "acc_factors"
    assert by_name["code"].meta == "referral_code" and by_name["ref"].meta == "referred_by"
    assert by_name["_uuid"].meta == "response_id"
    assert by_name["_submission_time"].meta == "submitted_at"
    assert by_name["start"].meta == "started_at"
    for name in ["end", *BOOKKEEPING]:
        if name not in ("_uuid", "_submission_time"):
            assert by_name[name].ignore, name
    assert [c.index for c in table.columns] == list(range(len(table.columns)))
    assert all(len(row) == len(table.columns) for row in table.rows)


def expected_cell(item: Item, response: SynthResponse) -> str:
    value = response.answers.get(item.id)
    if value is None:
        return ""
    return " ".join(value) if isinstance(value, list) else str(value)


def test_every_complete_response_carries_its_answers(table: SourceTable, r361: Questionnaire,
                                                     consultation: SynthConsultation) -> None:
    id_column = table.column("response_id")
    assert id_column is not None
    row_of = {row[id_column.index]: row for row in table.rows}
    answer_column = {c.question: c.index for c in table.columns
                     if c.question and not c.other_text and c.choice is None and not c.ignore}
    other_column = {c.question: c.index for c in table.columns if c.other_text}
    multi_seen = 0
    for response in consultation.complete:
        row = row_of[instance_uuid(consultation, response)]
        for item in r361.items():
            assert row[answer_column[item.id]] == expected_cell(item, response), item.id
            if item.other:
                assert row[other_column[item.id]] == response.other_text.get(item.id, "")
            if item.type is ItemType.MULTIPLE_CHOICE and item.id in response.answers:
                multi_seen += 1
    assert multi_seen > 100


def test_hxl_row_is_skipped(consultation: SynthConsultation, table: SourceTable,
                            tmp_path: Path) -> None:
    read = KOBO.read(write_kobo(consultation, tmp_path / "hxl.csv", hxl=True))
    assert read.rows == table.rows
    assert read.row_numbers == [n + 1 for n in table.row_numbers]
    assert read.notes[0] == "line 2: HXL hashtag row skipped"


def rewrite(path: Path, target: Path, keep: Callable[[str], bool] | None = None,
            edit: dict[tuple[int, str], str] | None = None) -> Path:
    """Copy a Kobo CSV keeping the columns ``keep`` accepts and changing cells ``edit``."""
    header, *rows = parsed(path)
    wanted = [i for i, name in enumerate(header) if keep is None or keep(name)]
    for (number, name), value in (edit or {}).items():
        rows[number][header.index(name)] = value
    with target.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle, delimiter=";", quoting=csv.QUOTE_ALL)
        for row in [header, *rows]:
            out.writerow([row[i] for i in wanted])
    return target


def test_split_columns_read_when_combined_column_is_absent(exported: Path, r361: Questionnaire,
                                                           tmp_path: Path) -> None:
    multi = {f"{d.id}/{i.id}" for d in r361.domains for i in d.items
             if i.type is ItemType.MULTIPLE_CHOICE}
    path = rewrite(exported, tmp_path / "split.csv", keep=lambda name: name not in multi)
    read = KOBO.read(path)
    by_name = {c.name: c for c in read.columns}
    split = by_name["accommodation/acc_factors/leadership_influence"]
    assert (split.question, split.choice, split.ignore) == ("acc_factors", "leadership_influence",
                                                            False)
    assert by_name["accommodation/acc_factors/other"].choice == "other"
    assert by_name["accommodation/acc_factors_other"].other_text
    assert by_name["accommodation/acc_approach"].choice is None
    assert read.notes == []


def test_headers_without_groups(exported: Path, tmp_path: Path) -> None:
    text = raw(exported)
    header, _, rest = text.partition("\r\n")
    flat = re.sub(r'"(?:profile|accommodation|recruitment|intake|interventions|reintegration|'
                  r'training|overall)/', '"', header)
    path = tmp_path / "flat.csv"
    path.write_text(flat + "\r\n" + rest, encoding="utf-8", newline="")
    by_name = {c.name: c for c in KOBO.read(path).columns}
    assert by_name["acc_factors"].question == "acc_factors"
    assert by_name["acc_factors/none"].ignore
    assert (by_name["acc_approach_other"].question, by_name["acc_approach_other"].other_text) == (
        "acc_approach", True)


def test_not_approved_is_spam(exported: Path, tmp_path: Path) -> None:
    path = rewrite(exported, tmp_path / "v.csv", edit={
        (0, "_validation_status"): "validation_status_not_approved",
        (1, "_validation_status"): "validation_status_approved",
        (2, "_validation_status"): "validation_status_on_hold",
    })
    read = KOBO.read(path)
    status = read.column("status")
    assert status is not None
    assert [row[status.index] for row in read.rows[:4]] == ["spam", "complete", "complete",
                                                            "complete"]


def test_id_and_end_stand_in_for_uuid_and_submission_time(exported: Path, tmp_path: Path) -> None:
    path = rewrite(exported, tmp_path / "old.csv",
                   keep=lambda name: name not in ("_uuid", "_submission_time"))
    read = KOBO.read(path)
    by_meta = {c.meta: c.name for c in read.columns if c.meta}
    assert by_meta["response_id"] == "_id" and by_meta["submitted_at"] == "end"
    end = read.column("submitted_at")
    assert end is not None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", read.rows[0][end.index])


def test_dates_that_are_not_dates_are_kept_and_reported(exported: Path, tmp_path: Path) -> None:
    path = rewrite(exported, tmp_path / "d.csv", edit={(2, "start"): "yesterday"})
    read = KOBO.read(path)
    start = read.column("started_at")
    assert start is not None and read.rows[2][start.index] == "yesterday"
    line = read.row_numbers[2]
    assert (f"column start: 1 value(s) are not ISO 8601 dates (first at line {line}: 'yesterday'); "
            "kept as written") in read.notes


# --------------------------------------------------------------------------- sniffing


@pytest.fixture(scope="module")
def platform_files(consultation: SynthConsultation,
                   tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("platforms")
    files = {name: writer(name)(consultation, folder / f"{name}.csv")
             for name in ("kobo", "odk", "limesurvey")}
    files["kobo-hxl"] = write_kobo(consultation, folder / "kobo-hxl.csv", hxl=True)
    return files


@pytest.mark.parametrize("fmt", ["kobo", "kobo-hxl", "odk", "limesurvey"])
def test_sniff_ranks_kobo_only_on_kobo_files(platform_files: dict[str, Path], fmt: str) -> None:
    path = platform_files[fmt]
    head = read_rows(path)[0][:5]
    scores = {name: reader(name).sniff(path, head) for name in ("kobo", "odk", "limesurvey")}
    if fmt.startswith("kobo"):
        assert scores["kobo"] > 0.5
        assert scores["kobo"] > max(scores["odk"], scores["limesurvey"])
    else:
        assert scores["kobo"] < scores[fmt]


def test_sniff_header_read_as_one_cell(exported: Path) -> None:
    first = raw(exported).splitlines()[0]
    assert KOBO.sniff(exported, [[first]]) > 0.5
    assert KOBO.sniff(exported, []) == 0.0


# --------------------------------------------------------------------------- malformed files


def test_header_only(exported: Path, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text(raw(exported).splitlines()[0] + "\r\n", encoding="utf-8", newline="")
    with pytest.raises(IngestFileError) as error:
        KOBO.read(path)
    assert str(error.value) == (f"{path}, line 1: the file has a header but no responses; check "
                                "the export's filters (date range, status) and export it again")


def test_header_and_hxl_row_only(consultation: SynthConsultation, tmp_path: Path) -> None:
    full = write_kobo(consultation, tmp_path / "full.csv", hxl=True)
    path = tmp_path / "hxl-only.csv"
    path.write_text("\r\n".join(raw(full).splitlines()[:2]) + "\r\n",
                    encoding="utf-8", newline="")
    with pytest.raises(IngestFileError, match="line 1: the file has a header but no responses"):
        KOBO.read(path)


def test_duplicate_column_names(exported: Path, tmp_path: Path) -> None:
    text = raw(exported)
    path = tmp_path / "dup.csv"
    path.write_text(text.replace('"end";', '"start";', 1), encoding="utf-8", newline="")
    with pytest.raises(IngestFileError) as error:
        KOBO.read(path)
    assert str(error.value) == (f"{path}, line 1: column 'start' appears twice (columns 1 and 2); "
                                "rename one in the export or the file")


def test_truncated_quoted_field(exported: Path, tmp_path: Path) -> None:
    text = raw(exported)
    second_row = text.index("\r\n") + 2
    path = tmp_path / "cut.csv"
    path.write_text(text[: second_row + 10], encoding="utf-8", newline="")
    with pytest.raises(IngestFileError) as error:
        KOBO.read(path)
    assert str(error.value) == (f"{path}, line 2: the file is malformed (unexpected end of data); "
                                "it may be truncated: export it again")


def test_row_with_missing_cells(exported: Path, tmp_path: Path) -> None:
    # Records end with CRLF; answers' own line breaks are bare LF.
    lines = raw(exported).split("\r\n")
    lines[3] = lines[3].rpartition(";")[0]
    line = read_rows(exported)[1][3]
    path = tmp_path / "short.csv"
    path.write_text("\r\n".join(lines), encoding="utf-8", newline="")
    columns = lines[0].count(";") + 1
    with pytest.raises(IngestFileError) as error:
        KOBO.read(path)
    assert str(error.value) == (f"{path}, line {line}: {columns - 1} cells where the header has "
                                f"{columns} columns; a value may hold an unquoted line break, or "
                                "the file was edited by hand: export it again")


def test_not_a_kobo_export(platform_files: dict[str, Path]) -> None:
    path = platform_files["limesurvey"]
    with pytest.raises(IngestFileError) as error:
        KOBO.read(path)
    assert str(error.value) == (f"{path}, line 1: no _uuid or _id column, so this is not a "
                                "KoboToolbox export; export it again from the project's Data > "
                                "Downloads page (CSV, XML values and headers), or read the file "
                                "as another format")
