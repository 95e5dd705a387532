"""ODK Central: the synthetic writer's exact layout and the reader that reads it back."""

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
from consult.ingest.sources.odk import ODK
from consult.ingest.sources.text import read_rows
from consult.questionnaire import Item, ItemType, Questionnaire, load_questionnaire
from consult.resources import shipped_questionnaires
from consult.synth import SynthConsultation, SynthResponse, generate
from consult.synth.exports import writer
from consult.synth.exports.odk import instance_uuid, write_odk

BOOKKEEPING = ["meta-instanceID", "KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent",
               "AttachmentsExpected", "Status", "ReviewState", "DeviceID", "Edits", "FormVersion"]


@pytest.fixture(scope="module")
def r361() -> Questionnaire:
    return load_questionnaire(shipped_questionnaires()["r361"])


@pytest.fixture(scope="module")
def consultation(r361: Questionnaire) -> SynthConsultation:
    # junk=0.3 gives every junk kind twice over 40 respondents.
    return generate(r361, 40, seed=404, junk=0.3)


@pytest.fixture(scope="module")
def exported(consultation: SynthConsultation, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_odk(consultation, tmp_path_factory.mktemp("odk") / "odk.csv")


@pytest.fixture(scope="module")
def table(exported: Path) -> SourceTable:
    return ODK.read(exported)


def raw(path: Path) -> str:
    """The file's text with its line ends as written."""
    return path.read_bytes().decode("utf-8")


def parsed(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(raw(path), newline="")))


def kept(consultation: SynthConsultation) -> list[SynthResponse]:
    return [r for r in consultation.responses
            if r.kind in ("complete", "spam", "duplicate_id", "duplicate_code")]


def key(consultation: SynthConsultation, response: SynthResponse) -> str:
    return "uuid:" + instance_uuid(consultation, response)


# --------------------------------------------------------------------------- the writer


def test_comma_separated_minimal_quoting(exported: Path) -> None:
    text = raw(exported)
    again = io.StringIO(newline="")
    csv.writer(again).writerows(parsed(exported))
    assert again.getvalue() == text
    assert text.startswith("SubmissionDate,start,end,profile-country,profile-role,")
    assert re.search(r"\r\n\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z,", text)


def test_header_groups_split_columns_and_bookkeeping(exported: Path, r361: Questionnaire) -> None:
    header = parsed(exported)[0]
    assert header[:7] == ["SubmissionDate", "start", "end", "profile-country", "profile-role",
                          "profile-responsibility", "profile-experience_years"]
    factors = header.index("accommodation-acc_factors")
    codes = r361.item("acc_factors").choice_codes()
    assert header[factors - 2: factors] == ["accommodation-acc_approach",
                                            "accommodation-acc_approach_other"]
    assert header[factors + 1: factors + 1 + len(codes)] == [
        f"accommodation-acc_factors/{code}" for code in codes]
    assert header[factors + 1 + len(codes)] == "accommodation-acc_factors_other"
    assert header[-13:] == ["code", "ref", *BOOKKEEPING]
    assert "overall-best_practice" in header
    assert not [name for name in header if "/" in name and name.count("-") != 1]


def test_rows_dates_and_bookkeeping_values(exported: Path, consultation: SynthConsultation) -> None:
    header, *rows = parsed(exported)
    col = {name: i for i, name in enumerate(header)}
    assert len(rows) == len(kept(consultation))
    for row, response in zip(rows, kept(consultation), strict=True):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", row[col["SubmissionDate"]])
        assert row[col["SubmissionDate"]][:19] == response.submitted_at.strftime("%Y-%m-%dT%H:%M:%S")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", row[col["start"]])
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", row[col["end"]])
        assert row[col["meta-instanceID"]] == row[col["KEY"]] == key(consultation, response)
        assert row[col["ReviewState"]] in ("", "hasIssues", "edited", "approved", "rejected")
        assert (row[col["ReviewState"]] == "rejected") == (response.kind == "spam")
        assert row[col["code"]] == response.referral_code
        assert row[col["ref"]] == (response.referred_by or "")
        assert row[col["FormVersion"]] == "1.0"
        assert row[col["Edits"]] == "0"


def test_junk_left_out_spam_rejected_duplicates_kept(exported: Path,
                                                     consultation: SynthConsultation) -> None:
    header, *rows = parsed(exported)
    keys = [row[header.index("KEY")] for row in rows]
    codes = [row[header.index("code")] for row in rows]
    kinds = set()
    for r in consultation.responses:
        kinds.add(r.kind)
        if r.kind in ("preview", "partial"):
            assert r.referral_code not in codes
        elif r.kind == "spam":
            row = rows[keys.index(key(consultation, r))]
            assert row[header.index("ReviewState")] == "rejected"
        elif r.kind == "duplicate_id":
            assert keys.count(key(consultation, r)) == 2
        elif r.kind == "duplicate_code":
            assert codes.count(r.referral_code) >= 2 and keys.count(key(consultation, r)) == 1
    assert kinds == {"complete", "preview", "spam", "partial", "duplicate_id", "duplicate_code"}


def test_split_columns_hold_1_0_or_nothing(exported: Path, consultation: SynthConsultation,
                                          r361: Questionnaire) -> None:
    header, *rows = parsed(exported)
    item = r361.item("prog_types")  # shown only when prog_specialized is "yes"
    empty = 0
    for row, response in zip(rows, kept(consultation), strict=True):
        answer = response.answers.get(item.id)
        combined = row[header.index("interventions-prog_types")]
        cells = [row[header.index(f"interventions-prog_types/{code}")] for code in item.choice_codes()]
        if answer is None:
            empty += 1
            assert cells == [""] * len(cells) and combined == ""
        else:
            assert isinstance(answer, list)
            assert combined == " ".join(answer)
            assert cells == ["1" if code in answer else "0" for code in item.choice_codes()]
    assert empty > 0


def test_registered_under_odk(consultation: SynthConsultation, tmp_path: Path,
                              exported: Path) -> None:
    assert writer("odk")(consultation, tmp_path / "o.csv").read_bytes() == exported.read_bytes()
    assert reader("odk") is ODK and ODK.name == "odk"


# --------------------------------------------------------------------------- the reader


def test_meta_is_canonical(table: SourceTable, consultation: SynthConsultation) -> None:
    assert table.format == "odk" and table.multi_separator == " "
    assert [table.column(m) is not None for m in META_FIELDS] == [
        m not in ("progress", "language", "withdrawn") for m in META_FIELDS]

    def cell(i: int, meta: str) -> str:
        column = table.column(meta)
        assert column is not None
        return table.rows[i][column.index]

    assert len(table.rows) == len(kept(consultation))
    for i, response in enumerate(kept(consultation)):
        assert cell(i, "response_id") == key(consultation, response)
        assert cell(i, "status") == ("spam" if response.kind == "spam" else "complete")
        assert cell(i, "finished") == "1"
        assert cell(i, "started_at") == response.started_at.isoformat(timespec="seconds")
        assert cell(i, "submitted_at") == response.submitted_at.isoformat(timespec="seconds")
        assert datetime.fromisoformat(cell(i, "submitted_at")).utcoffset() is not None
        assert cell(i, "referral_code") == response.referral_code
        assert cell(i, "referred_by") == (response.referred_by or "")
    assert table.row_numbers == read_rows(table.path)[1][1:]


def test_column_descriptions(table: SourceTable) -> None:
    by_name = {c.name: c for c in table.columns}
    assert by_name["profile-country"].question == "country"
    combined = by_name["reintegration-reint_partners"]
    assert (combined.question, combined.choice, combined.ignore) == ("reint_partners", None, False)
    split = by_name["accommodation-acc_factors/leadership_influence"]
    assert split.ignore and split.question is None
    other = by_name["accommodation-acc_approach_other"]
    assert (other.question, other.other_text) == ("acc_approach", True)
    assert by_name["code"].meta == "referral_code" and by_name["ref"].meta == "referred_by"
    assert by_name["KEY"].meta == "response_id"
    assert by_name["SubmissionDate"].meta == "submitted_at"
    assert by_name["start"].meta == "started_at"
    for name in ["end", *BOOKKEEPING]:
        if name != "KEY":
            assert by_name[name].ignore, name
    status, finished = table.columns[-2:]
    assert (status.meta, status.name, finished.meta, finished.name) == (
        "status", "[status]", "finished", "[finished]")
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
    others = 0
    for response in consultation.complete:
        row = row_of[key(consultation, response)]
        for item in r361.items():
            assert row[answer_column[item.id]] == expected_cell(item, response), item.id
            if item.other:
                assert row[other_column[item.id]] == response.other_text.get(item.id, "")
        others += len(response.other_text)
    assert others > 0


def rewrite(path: Path, target: Path, keep: Callable[[str], bool] | None = None,
            edit: dict[tuple[int, str], str] | None = None) -> Path:
    """Copy an ODK CSV keeping the columns ``keep`` accepts and changing cells ``edit``."""
    header, *rows = parsed(path)
    wanted = [i for i, name in enumerate(header) if keep is None or keep(name)]
    for (number, name), value in (edit or {}).items():
        rows[number][header.index(name)] = value
    with target.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        for row in [header, *rows]:
            out.writerow([row[i] for i in wanted])
    return target


def test_split_columns_read_when_combined_column_is_absent(exported: Path, r361: Questionnaire,
                                                           tmp_path: Path) -> None:
    multi = {f"{d.id}-{i.id}" for d in r361.domains for i in d.items
             if i.type is ItemType.MULTIPLE_CHOICE}
    read = ODK.read(rewrite(exported, tmp_path / "split.csv", keep=lambda name: name not in multi))
    by_name = {c.name: c for c in read.columns}
    split = by_name["training-train_audience/other"]
    assert (split.question, split.choice, split.ignore) == ("train_audience", "other", False)
    assert by_name["training-train_audience_other"].other_text
    assert read.notes == []


def test_instance_id_and_end_stand_in(exported: Path, tmp_path: Path) -> None:
    read = ODK.read(rewrite(exported, tmp_path / "o.csv",
                            keep=lambda name: name not in ("KEY", "SubmissionDate")))
    by_meta = {c.meta: c.name for c in read.columns if c.meta}
    assert by_meta["response_id"] == "meta-instanceID" and by_meta["submitted_at"] == "end"


def test_review_states(exported: Path, tmp_path: Path) -> None:
    states = ["rejected", "approved", "hasIssues", "edited", ""]
    read = ODK.read(rewrite(exported, tmp_path / "r.csv",
                            edit={(i, "ReviewState"): s for i, s in enumerate(states)}))
    status = read.column("status")
    assert status is not None
    assert [row[status.index] for row in read.rows[:5]] == ["spam"] + ["complete"] * 4


def test_dates_with_other_offsets_keep_them(exported: Path, tmp_path: Path) -> None:
    read = ODK.read(rewrite(exported, tmp_path / "tz.csv",
                            edit={(0, "start"): "2014-09-08T18:01:00.000+02:00"}))
    start = read.column("started_at")
    assert start is not None and read.rows[0][start.index] == "2014-09-08T18:01:00+02:00"


# --------------------------------------------------------------------------- sniffing


@pytest.fixture(scope="module")
def platform_files(consultation: SynthConsultation,
                   tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("platforms")
    return {name: writer(name)(consultation, folder / f"{name}.csv")
            for name in ("kobo", "odk", "limesurvey")}


@pytest.mark.parametrize("fmt", ["kobo", "odk", "limesurvey"])
def test_sniff_ranks_odk_only_on_odk_files(platform_files: dict[str, Path], fmt: str) -> None:
    path = platform_files[fmt]
    head = read_rows(path)[0][:5]
    scores = {name: reader(name).sniff(path, head) for name in ("kobo", "odk", "limesurvey")}
    if fmt == "odk":
        assert scores["odk"] > 0.5
        assert scores["odk"] > max(scores["kobo"], scores["limesurvey"])
    else:
        assert scores["odk"] < scores[fmt]


# --------------------------------------------------------------------------- malformed files


def test_header_only(exported: Path, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text(raw(exported).split("\r\n")[0] + "\r\n", encoding="utf-8", newline="")
    with pytest.raises(IngestFileError) as error:
        ODK.read(path)
    assert str(error.value) == (f"{path}, line 1: the file has a header but no responses; check "
                                "the export's filters (date range, status) and export it again")


def test_duplicate_column_names(exported: Path, tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text(raw(exported).replace(",end,", ",start,", 1), encoding="utf-8", newline="")
    with pytest.raises(IngestFileError) as error:
        ODK.read(path)
    assert str(error.value) == (f"{path}, line 1: column 'start' appears twice (columns 2 and 3); "
                                "rename one in the export or the file")


def test_truncated_quoted_field(exported: Path, tmp_path: Path) -> None:
    text = raw(exported)
    # Cut inside the last row's first quoted answer.
    last = text.rstrip("\r\n").rindex("\r\n") + 2
    quote = text.index(',"', last) + 5
    path = tmp_path / "cut.csv"
    path.write_text(text[:quote], encoding="utf-8", newline="")
    line = text[:last].count("\n") + 1
    with pytest.raises(IngestFileError) as error:
        ODK.read(path)
    assert str(error.value) == (f"{path}, line {line}: the file is malformed (unexpected end of "
                                "data); it may be truncated: export it again")


def test_not_an_odk_export(platform_files: dict[str, Path]) -> None:
    path = platform_files["kobo"]
    with pytest.raises(IngestFileError) as error:
        ODK.read(path)
    assert str(error.value) == (f"{path}, line 1: no KEY or meta-instanceID column, so this is "
                                "not an ODK Central submissions CSV; download it again from the "
                                "form's Submissions page (Download > CSV), or read the file as "
                                "another format")
