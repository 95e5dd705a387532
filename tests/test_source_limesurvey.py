"""LimeSurvey: the synthetic writer's exact layout and the reader that reads it back."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from consult.errors import IngestFileError
from consult.ingest.sources import reader
from consult.ingest.sources.base import META_FIELDS, SourceTable
from consult.ingest.sources.limesurvey import LIMESURVEY
from consult.ingest.sources.text import read_rows
from consult.questionnaire import ItemType, Questionnaire, load_questionnaire
from consult.resources import shipped_questionnaires
from consult.synth import SynthConsultation, SynthResponse, generate
from consult.synth.exports import writer
from consult.synth.exports.limesurvey import write_limesurvey

RESPONSE_COLUMNS = ["id", "submitdate", "lastpage", "startlanguage", "seed", "token", "startdate",
                    "datestamp", "refurl"]
DATE = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"
PAGES = 8  # the profile and seven domains


@pytest.fixture(scope="module")
def r361() -> Questionnaire:
    return load_questionnaire(shipped_questionnaires()["r361"])


@pytest.fixture(scope="module")
def consultation(r361: Questionnaire) -> SynthConsultation:
    # junk=0.3 gives every junk kind twice over 40 respondents; CAN and FRA answer in French.
    return generate(r361, 40, seed=1980, junk=0.3)


@pytest.fixture(scope="module")
def exported(consultation: SynthConsultation, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_limesurvey(consultation, tmp_path_factory.mktemp("ls") / "limesurvey.csv")


@pytest.fixture(scope="module")
def table(exported: Path) -> SourceTable:
    return LIMESURVEY.read(exported)


def raw(path: Path) -> str:
    """The file's text with its line ends as written."""
    return path.read_bytes().decode("utf-8")


def parsed(path: Path, delimiter: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(raw(path), newline=""), delimiter=delimiter))


def kept(consultation: SynthConsultation) -> list[SynthResponse]:
    return [r for r in consultation.responses if r.kind not in ("preview", "spam")]


def code(item_id: str) -> str:
    return item_id.replace("_", "")


# --------------------------------------------------------------------------- the writer


def test_header(exported: Path, r361: Questionnaire) -> None:
    header = parsed(exported)[0]
    assert header[:9] == RESPONSE_COLUMNS
    assert header[9:14] == ["country", "role", "responsibility", "experienceyears", "accapproach"]
    assert header[14:26] == ["accapproach[other]", *(f"accfactors[SQ00{n}]" for n in range(1, 10)),
                             "accfactors[other]", "acceffective"]
    assert header[-2:] == ["bestpractice", "ref"]
    assert all(re.fullmatch(r"[a-z0-9]+(\[(SQ\d{3}|other)\])?", name) for name in header[9:])
    assert len(header) == len(set(header))


def test_rows_dates_and_response_columns(exported: Path, consultation: SynthConsultation) -> None:
    header, *rows = parsed(exported)
    col = {name: i for i, name in enumerate(header)}
    assert len(rows) == len(kept(consultation))
    languages = set()
    for row, response in zip(rows, kept(consultation), strict=True):
        assert row[col["id"]].isdigit()
        assert re.fullmatch(DATE, row[col["startdate"]])
        assert row[col["startdate"]] == response.started_at.strftime("%Y-%m-%d %H:%M:%S")
        assert re.fullmatch(DATE, row[col["datestamp"]])
        assert row[col["token"]] == response.referral_code
        assert row[col["ref"]] == (response.referred_by or "")
        assert row[col["startlanguage"]] == response.language
        assert row[col["seed"]].isdigit()
        languages.add(response.language)
        if response.finished:
            assert row[col["submitdate"]] == response.submitted_at.strftime("%Y-%m-%d %H:%M:%S")
            assert row[col["lastpage"]] == str(PAGES)
        else:
            assert row[col["submitdate"]] == ""
            assert 0 <= int(row[col["lastpage"]]) < PAGES
    assert languages == {"en", "fr"}


def test_junk_left_out_partials_and_duplicates_kept(exported: Path,
                                                    consultation: SynthConsultation) -> None:
    header, *rows = parsed(exported)
    ids = [row[0] for row in rows]
    tokens = [row[header.index("token")] for row in rows]
    assert len(set(ids)) == len(rows) - sum(r.kind == "duplicate_id" for r in consultation.responses)
    for r in consultation.responses:
        if r.kind in ("preview", "spam"):
            assert r.referral_code not in tokens
        elif r.kind == "partial":
            assert rows[tokens.index(r.referral_code)][1] == ""
        elif r.kind == "duplicate_code":
            assert tokens.count(r.referral_code) >= 2


def test_semicolon_variant(consultation: SynthConsultation, exported: Path, table: SourceTable,
                           tmp_path: Path) -> None:
    path = write_limesurvey(consultation, tmp_path / "semi.csv", delimiter=";")
    assert raw(path).startswith("id;submitdate;lastpage;startlanguage;seed;token;startdate;")
    assert parsed(path, ";") == parsed(exported)
    assert LIMESURVEY.read(path).rows == table.rows


def test_registered_under_limesurvey(consultation: SynthConsultation, tmp_path: Path,
                                     exported: Path) -> None:
    path = writer("limesurvey")(consultation, tmp_path / "l.csv")
    assert path.read_bytes() == exported.read_bytes()
    assert reader("limesurvey") is LIMESURVEY and LIMESURVEY.name == "limesurvey"


# --------------------------------------------------------------------------- the reader


def test_meta_is_canonical(table: SourceTable, consultation: SynthConsultation) -> None:
    assert table.format == "limesurvey" and table.notes == []
    assert [table.column(m) is not None for m in META_FIELDS] == [
        m not in ("progress", "withdrawn") for m in META_FIELDS]

    def cell(i: int, meta: str) -> str:
        column = table.column(meta)
        assert column is not None
        return table.rows[i][column.index]

    for i, response in enumerate(kept(consultation)):
        assert cell(i, "status") == "complete"
        assert cell(i, "finished") == ("1" if response.finished else "0")
        assert cell(i, "started_at") == response.started_at.strftime("%Y-%m-%dT%H:%M:%S")
        assert cell(i, "submitted_at") == (response.submitted_at.strftime("%Y-%m-%dT%H:%M:%S")
                                           if response.finished else "")
        assert cell(i, "language") == response.language
        assert cell(i, "referral_code") == response.referral_code
        assert cell(i, "referred_by") == (response.referred_by or "")
        assert cell(i, "response_id").isdigit()
    assert table.row_numbers == read_rows(table.path)[1][1:]


def test_column_descriptions_keep_limesurvey_codes(table: SourceTable) -> None:
    by_name = {c.name: c for c in table.columns}
    assert by_name["accapproach"].question == "accapproach"
    assert (by_name["accapproach[other]"].question, by_name["accapproach[other]"].other_text) == (
        "accapproach", True)
    sq = by_name["accfactors[SQ003]"]
    assert (sq.question, sq.choice, sq.ignore) == ("accfactors", "SQ003", False)
    assert by_name["accfactors[other]"].other_text
    assert by_name["experienceyears"].question == "experienceyears"
    assert {c.name: c.meta for c in table.columns if c.meta} == {
        "id": "response_id", "submitdate": "submitted_at", "startlanguage": "language",
        "token": "referral_code", "startdate": "started_at", "ref": "referred_by",
        "[status]": "status", "[finished]": "finished"}
    assert [c.name for c in table.columns if c.ignore] == ["lastpage", "seed", "datestamp", "refurl"]
    assert table.multi_separator is None


def test_every_complete_response_carries_its_answers(table: SourceTable, r361: Questionnaire,
                                                     consultation: SynthConsultation) -> None:
    token = table.column("referral_code")
    finished = table.column("finished")
    assert token is not None and finished is not None
    row_of: dict[str, list[str]] = {}
    for row in table.rows:
        if row[finished.index] == "1":
            row_of.setdefault(row[token.index], row)
    column = {c.name: c.index for c in table.columns}
    checked_y = 0
    for response in consultation.complete:
        row = row_of[response.referral_code]
        for item in r361.items():
            value = response.answers.get(item.id)
            codes = [c.code for c in item.choices or []]
            if item.type is ItemType.MULTIPLE_CHOICE:
                chosen = value if isinstance(value, list) else []
                cells = [row[column[f"{code(item.id)}[SQ{n:03d}]"]] for n in range(1, len(codes) + 1)]
                # SQ<n> is the n-th choice in the questionnaire's order.
                assert [n for n, cell in enumerate(cells, start=1) if cell == "Y"] == [
                    codes.index(c) + 1 for c in chosen if c != "other"]
                assert set(cells) <= {"", "Y"}
                checked_y += len(chosen)
            elif item.type in (ItemType.SINGLE_CHOICE, ItemType.LIKERT):
                expected = ("" if value is None else "-oth-" if value == "other"
                            else f"A{codes.index(str(value)) + 1}")
                assert row[column[code(item.id)]] == expected
            else:
                assert row[column[code(item.id)]] == ("" if value is None else str(value))
            if item.other:
                assert row[column[f"{code(item.id)}[other]"]] == response.other_text.get(item.id, "")
    assert checked_y > 100


def rewrite(path: Path, target: Path, rename: dict[str, str] | None = None,
            edit: dict[tuple[int, str], str] | None = None,
            keep: Callable[[str], bool] | None = None) -> Path:
    """Copy a LimeSurvey CSV renaming columns, changing cells and keeping the columns ``keep`` accepts."""
    header, *rows = parsed(path)
    for (number, name), value in (edit or {}).items():
        rows[number][header.index(name)] = value
    wanted = [i for i, name in enumerate(header) if keep is None or keep(name)]
    header = [(rename or {}).get(name, name) for name in header]
    with target.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        for row in [header, *rows]:
            out.writerow([row[i] for i in wanted])
    return target


def test_code_column_when_tokens_are_empty(exported: Path, tmp_path: Path) -> None:
    header, *rows = parsed(exported)
    blank = {(i, "token"): "" for i in range(len(rows))}
    path = rewrite(exported, tmp_path / "code.csv", rename={"refurl": "code"},
                   edit={**blank, **{(i, "refurl"): row[header.index("token")]
                                     for i, row in enumerate(rows)}})
    read = LIMESURVEY.read(path)
    by_name = {c.name: c for c in read.columns}
    assert by_name["code"].meta == "referral_code" and by_name["token"].ignore
    assert [row[by_name["code"].index] for row in read.rows] == [row[5] for row in rows]


def test_undated_submissions(exported: Path, tmp_path: Path) -> None:
    path = rewrite(exported, tmp_path / "undated.csv", edit={(0, "submitdate"): "1980-01-01 00:00:00"})
    read = LIMESURVEY.read(path)
    submitted, finished = read.column("submitted_at"), read.column("finished")
    assert submitted is not None and finished is not None
    assert (read.rows[0][submitted.index], read.rows[0][finished.index]) == ("", "1")
    assert read.notes == ["1 response(s) submitted without a date (submitdate 1980-01-01 00:00:00, "
                          "first at line 2): the survey does not keep date stamps"]


def test_array_and_comment_columns(exported: Path, tmp_path: Path) -> None:
    path = rewrite(exported, tmp_path / "array.csv",
                   rename={"accfactors[SQ001]": "grid[SQ001]",
                           "accfactors[SQ002]": "accfactors[SQ002comment]"},
                   edit={(0, "accfactors[SQ001]"): "A3", (1, "accfactors[SQ002]"): "see notes"})
    by_name = {c.name: c for c in LIMESURVEY.read(path).columns}
    assert (by_name["grid[SQ001]"].question, by_name["grid[SQ001]"].choice) == ("grid[SQ001]", None)
    assert by_name["accfactors[SQ002comment]"].ignore


def test_ipaddr_is_ignored(exported: Path, tmp_path: Path) -> None:
    path = rewrite(exported, tmp_path / "ip.csv", rename={"refurl": "ipaddr"})
    by_name = {c.name: c for c in LIMESURVEY.read(path).columns}
    assert by_name["ipaddr"].ignore


# --------------------------------------------------------------------------- sniffing


@pytest.fixture(scope="module")
def platform_files(consultation: SynthConsultation,
                   tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("platforms")
    files = {name: writer(name)(consultation, folder / f"{name}.csv")
             for name in ("kobo", "odk", "limesurvey")}
    files["limesurvey-semicolon"] = write_limesurvey(consultation, folder / "semi.csv", delimiter=";")
    return files


@pytest.mark.parametrize("fmt", ["kobo", "odk", "limesurvey", "limesurvey-semicolon"])
def test_sniff_ranks_limesurvey_only_on_limesurvey_files(platform_files: dict[str, Path],
                                                         fmt: str) -> None:
    path = platform_files[fmt]
    head = read_rows(path)[0][:5]
    scores = {name: reader(name).sniff(path, head) for name in ("kobo", "odk", "limesurvey")}
    if fmt.startswith("limesurvey"):
        assert scores["limesurvey"] > 0.5
        assert scores["limesurvey"] > max(scores["kobo"], scores["odk"])
    else:
        assert scores["limesurvey"] < scores[fmt]


# --------------------------------------------------------------------------- malformed files


def test_header_only(exported: Path, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text(raw(exported).split("\r\n")[0] + "\r\n", encoding="utf-8", newline="")
    with pytest.raises(IngestFileError) as error:
        LIMESURVEY.read(path)
    assert str(error.value) == (f"{path}, line 1: the file has a header but no responses; check "
                                "the export's filters (date range, status) and export it again")


def test_duplicate_column_names(exported: Path, tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text(raw(exported).replace(",acceffective,", ",accapproach,", 1), encoding="utf-8",
                    newline="")
    with pytest.raises(IngestFileError) as error:
        LIMESURVEY.read(path)
    assert str(error.value) == (f"{path}, line 1: column 'accapproach' appears twice (columns 14 "
                                "and 26); rename one in the export or the file")


def test_truncated_quoted_field(tmp_path: Path) -> None:
    path = tmp_path / "cut.csv"
    path.write_text(",".join(RESPONSE_COLUMNS) + ",bestpractice\r\n"
                    '1,2014-09-08 16:01:00,8,en,1,TOKEN,2014-09-08 15:01:00,2014-09-08 16:01:00,,ok\r\n'
                    '2,2014-09-08 17:01:00,8,en,1,TOKEN,2014-09-08 16:01:00,2014-09-08 17:01:00,,"Ke',
                    encoding="utf-8", newline="")
    with pytest.raises(IngestFileError) as error:
        LIMESURVEY.read(path)
    assert str(error.value) == (f"{path}, line 3: the file is malformed (unexpected end of data); "
                                "it may be truncated: export it again")


def test_not_a_limesurvey_export(platform_files: dict[str, Path]) -> None:
    path = platform_files["odk"]
    with pytest.raises(IngestFileError) as error:
        LIMESURVEY.read(path)
    assert str(error.value) == (f"{path}, line 1: no id or submitdate column, so this is not a "
                                "LimeSurvey response export; export it again (Responses > Export "
                                '> CSV, "Question code" headings, "Answer codes"), or read the '
                                "file as another format")
