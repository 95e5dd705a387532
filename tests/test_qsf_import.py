"""Importing a Qualtrics survey (.qsf): a small survey built here, and a real one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from consult.cli.main import app
from consult.errors import ConsultError, Issue
from consult.questionnaire import ItemType, Questionnaire, load_questionnaire
from consult.questionnaire.load import parse_questionnaire
from consult.questionnaire.qsf import dump_yaml, import_qsf

BENCHMARK = (Path(__file__).resolve().parents[2] / "shared" / "benchmarks"
             / "proctoring-educators" / "survey.qsf")

runner = CliRunner()


def question(qid: str, tag: str, kind: str, selector: str, text: str,
             **payload: Any) -> dict[str, Any]:
    """One ``SQ`` element as Qualtrics writes it."""
    return {
        "SurveyID": "SV_test", "Element": "SQ", "PrimaryAttribute": qid,
        "Payload": {
            "QuestionID": qid, "DataExportTag": tag, "QuestionType": kind,
            "Selector": selector, "QuestionText": text, "Language": [],
            "Validation": {"Settings": {"ForceResponse": "OFF", "Type": "None"}},
            **payload,
        },
    }


def selected(qid: str, choice: str, operator: str = "Selected") -> dict[str, Any]:
    """Qualtrics logic: ``choice`` of ``qid`` is (not) selected."""
    locator = f"q://{qid}/SelectableChoice/{choice}"
    return {"0": {"0": {"LogicType": "Question", "QuestionID": qid, "Operator": operator,
                        "LeftOperand": locator, "ChoiceLocator": locator,
                        "Type": "Expression", "Description": f"If {qid} {choice} {operator}"},
                  "Type": "If"},
            "Type": "BooleanExpression"}


def small_survey() -> dict[str, Any]:
    """One block: single choice (recoded), multiple choice with "other", text, a
    descriptive text, a 2-statement matrix, a number and a repeated export tag."""
    blocks = [
        {"Type": "Default", "Description": "Your Work & Views", "ID": "BL_1",
         "BlockElements": [{"Type": "Question", "QuestionID": f"QID{n}"} for n in range(1, 8)]},
        {"Type": "Trash", "Description": "Trash / Unused Questions", "ID": "BL_9",
         "BlockElements": [{"Type": "Question", "QuestionID": "QID99"}]},
    ]
    return {
        "SurveyEntry": {"SurveyID": "SV_test", "SurveyName": "Proctoring Pilot (2021)",
                        "SurveyLanguage": "EN"},
        "SurveyElements": [
            {"SurveyID": "SV_test", "Element": "BL", "Payload": blocks},
            {"SurveyID": "SV_test", "Element": "FL",
             "Payload": {"Type": "Root", "FlowID": "FL_1",
                         "Flow": [{"Type": "Block", "ID": "BL_1", "FlowID": "FL_2"}]}},
            question("QID1", "Q1", "MC", "SAVR", "<p>Do you <b>use</b> proctoring&nbsp;tools?</p>",
                     SubSelector="TX", ChoiceOrder=[1, 2, 3],
                     Choices={"1": {"Display": "Yes"}, "2": {"Display": "No"},
                              "3": {"Display": "I&#39;m unsure"}},
                     RecodeValues={"1": "10", "2": "20", "3": "99"},
                     Validation={"Settings": {"ForceResponse": "ON", "Type": "None"}}),
            question("QID2", "Q2", "MC", "MAVR", "Which tools? Select all that apply.",
                     SubSelector="TX", ChoiceOrder=["1", "2", "3", "4"],
                     Choices={"1": {"Display": "Examity"}, "2": {"Display": "Honorlock"},
                              "3": {"Display": "None of these", "ExclusiveAnswer": True},
                              "4": {"Display": "Other (please specify)", "TextEntry": "true"}},
                     DisplayLogic=selected("QID1", "1")),
            question("QID3", "Q3", "TE", "ML", "Why?"),
            question("QID4", "T1", "DB", "TB", "<p>Thank you. Now a few statements.</p>"),
            question("QID5", "Q5", "Matrix", "Likert", "How far do you agree?",
                     SubSelector="SingleAnswer", ChoiceOrder=[1, 2], AnswerOrder=[1, 2],
                     Choices={"1": {"Display": "Proctoring deters cheating"},
                              "2": {"Display": "Proctoring invades privacy"}},
                     Answers={"1": {"Display": "Disagree"}, "2": {"Display": "Agree"}}),
            question("QID6", "Q6", "TE", "SL", "How many exams did you proctor?",
                     Validation={"Settings": {
                         "ForceResponse": "OFF", "Type": "ContentType",
                         "ContentType": "ValidNumber",
                         "ValidNumber": {"Min": "0", "Max": "100", "NumDecimals": "0"}}}),
            question("QID7", "Q3", "TE", "SL", "Anything else?"),
            question("QID99", "Q99", "TE", "SL", "An unused question"),
        ],
    }


def write(tmp_path: Path, survey: dict[str, Any], name: str = "survey.qsf") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(survey), encoding="utf-8")
    return path


def loaded(data: dict[str, Any]) -> Questionnaire:
    """The questionnaire the imported dict becomes, asserting it loads cleanly."""
    questionnaire, issues = parse_questionnaire(
        yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    assert [str(i) for i in issues if i.severity == "error"] == []
    assert questionnaire is not None
    return questionnaire


def codes(q: Questionnaire, item_id: str) -> list[str]:
    return [c.code for c in q.item(item_id).choices or []]


# --------------------------------------------------------------------------- small survey


def test_small_survey_imports_and_loads(tmp_path: Path) -> None:
    data, _ = import_qsf(write(tmp_path, small_survey()))
    q = loaded(data)
    assert (q.id, q.version, q.languages) == ("proctoring_pilot_2021", "1.0", ["en"])
    assert q.title == {"en": "Proctoring Pilot (2021)"}
    assert [d.id for d in q.domains] == ["your_work_views"]
    assert q.domains[0].title == {"en": "Your Work & Views"}
    assert {i.id: i.type for i in q.items()} == {
        "q1": ItemType.SINGLE_CHOICE,
        "q2": ItemType.MULTIPLE_CHOICE,
        "q3": ItemType.FREE_TEXT,
        "q5_1": ItemType.LIKERT,
        "q5_2": ItemType.LIKERT,
        "q6": ItemType.NUMBER,
        "q3_2": ItemType.FREE_TEXT,
    }


def test_small_survey_items(tmp_path: Path) -> None:
    q = loaded(import_qsf(write(tmp_path, small_survey()))[0])
    q1 = q.item("q1")
    assert q1.label == {"en": "Do you use proctoring tools?"}  # tags and entities gone
    assert q1.required is True
    assert codes(q, "q1") == ["10", "20", "99"]  # the recode values
    assert [c.label["en"] for c in q1.choices or []] == ["Yes", "No", "I'm unsure"]
    assert [c.dont_know for c in q1.choices or []] == [False, False, True]
    q2 = q.item("q2")
    assert codes(q, "q2") == ["1", "2", "3"] and q2.other is True
    assert [c.exclusive for c in q2.choices or []] == [False, False, True]
    assert q2.required is False
    # Display logic on choice 1 of QID1 reads its recode value.
    assert q2.relevant is not None
    assert q2.relevant.model_dump(by_alias=True, exclude_none=True) == {"item": "q1",
                                                                        "equals": "10"}
    assert q.item("q3").label == {"en": "Why?"}
    statement = q.item("q5_2")
    assert statement.label == {"en": "How far do you agree? — Proctoring invades privacy"}
    assert codes(q, "q5_2") == ["1", "2"]
    assert [c.label["en"] for c in statement.choices or []] == ["Disagree", "Agree"]
    number = q.item("q6")
    assert (number.min, number.max, number.integer) == (0, 100, True)
    # The descriptive text came first in nothing: it is skipped, not an intro.
    assert q.domains[0].intro is None


def test_small_survey_issues(tmp_path: Path) -> None:
    _, issues = import_qsf(write(tmp_path, small_survey()))
    by_code: dict[str, list[Issue]] = {}
    for issue in issues:
        by_code.setdefault(issue.code, []).append(issue)
    assert all(i.file == "survey.qsf" for i in issues)
    assert [i.message for i in by_code["trash"]] == ["1 question(s) in the trash were skipped"]
    assert [(i.where, i.severity) for i in by_code["descriptive"]] == [("QID4 (T1)", "info")]
    renames = {i.message for i in by_code["renamed"]}
    assert "export tag 'Q1' became item id 'q1'" in renames
    assert "export tag 'Q3' became item id 'q3_2'" in renames  # the repeated tag
    assert "export tag 'Q5_1' became item id 'q5_1'" in renames
    assert [i.where for i in by_code["guessed-dont-know"]] == ["QID1 (Q1)"]
    assert "error" not in {i.severity for i in issues}


def test_descriptive_text_first_in_a_block_becomes_the_intro(tmp_path: Path) -> None:
    survey = small_survey()
    elements = survey["SurveyElements"][0]["Payload"][0]["BlockElements"]
    elements.insert(0, elements.pop(3))  # QID4 (the DB) first
    q = loaded(import_qsf(write(tmp_path, survey))[0])
    assert q.domains[0].intro == {"en": "Thank you. Now a few statements."}


def test_branch_that_ends_the_survey_guards_what_follows(tmp_path: Path) -> None:
    survey = small_survey()
    blocks = survey["SurveyElements"][0]["Payload"]
    blocks[0]["BlockElements"], rest = blocks[0]["BlockElements"][:1], blocks[0]["BlockElements"][1:]
    blocks.append({"Type": "Standard", "Description": "Main", "ID": "BL_2",
                   "BlockElements": rest})
    survey["SurveyElements"][1]["Payload"]["Flow"] = [
        {"Type": "Block", "ID": "BL_1", "FlowID": "FL_2"},
        {"Type": "Branch", "FlowID": "FL_3", "BranchLogic": selected("QID1", "2"),
         "Flow": [{"Type": "EndSurvey", "FlowID": "FL_4"}]},
        {"Type": "Standard", "ID": "BL_2", "FlowID": "FL_5"},
    ]
    q = loaded(import_qsf(write(tmp_path, survey))[0])
    screened = {"any": [{"item": "q1", "not_equals": "20"}, {"item": "q1", "answered": False}]}
    q3 = q.item("q3").relevant
    assert q3 is not None and q3.model_dump(by_alias=True, exclude_none=True) == screened
    # q2's own display logic joins the block's condition.
    q2 = q.item("q2").relevant
    assert q2 is not None and q2.model_dump(by_alias=True, exclude_none=True) == {
        "all": [screened, {"item": "q1", "equals": "10"}]}


def test_logic_that_cannot_be_translated_is_reported(tmp_path: Path) -> None:
    survey = small_survey()
    payload = survey["SurveyElements"][3]["Payload"]  # QID2, multiple choice
    assert payload["QuestionID"] == "QID2"
    survey["SurveyElements"][4]["Payload"]["DisplayLogic"] = selected("QID2", "1", "NotSelected")
    data, issues = import_qsf(write(tmp_path, survey))
    assert loaded(data).item("q3").relevant is None
    [issue] = [i for i in issues if i.code == "logic"]
    assert issue.severity == "warning" and issue.where == "QID3 (Q3)"
    assert "operator 'NotSelected' on a multiple choice" in issue.message


def test_translations_are_read_and_gaps_reported(tmp_path: Path) -> None:
    survey = small_survey()
    survey["SurveyElements"][2]["Payload"]["Language"] = {"FR": {
        "QuestionText": "Utilisez-vous des outils de surveillance?",
        "Choices": {"1": {"Display": "Oui"}, "2": {"Display": "Non"},
                    "3": {"Display": "Je ne sais pas"}},
    }}
    data, issues = import_qsf(write(tmp_path, survey))
    q = loaded(data)
    assert q.languages == ["en", "fr"]
    assert q.item("q1").label["fr"] == "Utilisez-vous des outils de surveillance?"
    assert q.item("q3").label == {"en": "Why?", "fr": "Why?"}  # copied, and reported
    [gap] = [i for i in issues if i.code == "missing-translation"]
    assert gap.severity == "warning" and "'fr'" in gap.message


def test_dump_yaml_round_trips(tmp_path: Path) -> None:
    data, _ = import_qsf(write(tmp_path, small_survey()))
    assert yaml.safe_load(dump_yaml(data)) == data
    # The matrix statements share their answers: each gets its own copy, so the
    # YAML has no anchors (&id001) for an author to trip over.
    assert "&id" not in yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def test_not_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "survey.qsf"
    path.write_text("Q1,Q2\n1,2\n", encoding="utf-8")
    with pytest.raises(ConsultError, match=r"survey\.qsf is not a Qualtrics survey file"):
        import_qsf(path)


# --------------------------------------------------------------------------- real survey


@pytest.mark.benchmark_data
def test_benchmark_survey_imports() -> None:
    if not BENCHMARK.is_file():
        pytest.skip(f"benchmark data not found at {BENCHMARK}")
    data, issues = import_qsf(BENCHMARK)
    q = loaded(data)
    assert "error" not in {i.severity for i in issues}
    q6 = q.item("q6")
    assert q6.type is ItemType.SINGLE_CHOICE
    assert [c.label["en"] for c in q6.choices or []] == ["Yes", "No", "I'm Unsure"]
    # Q4 is a matrix in this survey (one column per tool in the response export,
    # Q4_1 ... Q4_8), so it becomes one likert item per tool.
    matrix = [i for i in q.items() if i.id.startswith("q4_")]
    assert [i.id for i in matrix] == [f"q4_{n}" for n in range(1, 9)]
    assert {i.type for i in matrix} == {ItemType.LIKERT}
    assert [c.label["en"] for c in matrix[0].choices or []] == ["Aware", "Unaware", "I'm Unsure"]
    q29 = q.item("q29")  # "Select all monitoring methods you enabled"
    assert q29.type is ItemType.MULTIPLE_CHOICE and q29.other
    # Questions in the trash are not imported.
    assert "q74" not in {i.id for i in q.items()}
    # The "yes" path is behind "used proctoring tools" = Yes (choice 1 of Q6).
    q7 = q.item("q7").relevant
    assert q7 is not None and {"item": "q6", "equals": "1"} in (
        q7.model_dump(by_alias=True, exclude_none=True)["all"])


# --------------------------------------------------------------------------- CLI


def test_cli_import_writes_a_valid_questionnaire(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    source = write(tmp_path, small_survey(), "pilot.qsf")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    result = runner.invoke(app, ["questionnaire", "import", str(source)])
    assert result.exit_code == 0, result.output
    written = work / "pilot.yaml"
    assert load_questionnaire(written).item("q2").other is True
    # Notes: the trash, the descriptive text, 7 renamed ids, "other" and a "don't know".
    assert result.stdout.strip() == (
        f"Wrote {written}: 1 domains, 7 items (0 warning(s), 11 note(s)); "
        f"check it with: consult questionnaire check {written}"
    )
    assert "info: pilot.qsf: 1 question(s) in the trash were skipped" in result.stderr
    # A second run refuses to overwrite; --force does.
    again = runner.invoke(app, ["questionnaire", "import", str(source)])
    assert again.exit_code == 1
    assert again.stderr.splitlines() == [
        f"Error: {written} already exists; pass --force to overwrite it or --output to "
        "write elsewhere"
    ]
    forced = runner.invoke(app, ["questionnaire", "import", str(source), "--force"])
    assert forced.exit_code == 0, forced.output


def test_cli_import_to_a_chosen_file(tmp_path: Path) -> None:
    target = tmp_path / "nested" / "questionnaire.yaml"
    result = runner.invoke(app, ["questionnaire", "import", str(write(tmp_path, small_survey())),
                                 "-o", str(target)])
    assert result.exit_code == 0, result.output
    check = runner.invoke(app, ["questionnaire", "check", str(target)])
    assert check.exit_code == 0, check.output


def test_cli_import_not_json(tmp_path: Path) -> None:
    path = tmp_path / "survey.qsf"
    path.write_text("Q1,Q2\n1,2\n", encoding="utf-8")
    result = runner.invoke(app, ["questionnaire", "import", str(path), "-o",
                                 str(tmp_path / "out.yaml")])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Error: {path} is not a Qualtrics survey file (.qsf): not valid JSON (Expecting value "
        "at line 1); export it from Qualtrics with Tools > Import/Export > Export Survey"
    ]
    assert not (tmp_path / "out.yaml").exists()


def test_cli_import_json_without_survey_elements(tmp_path: Path) -> None:
    path = write(tmp_path, {"SurveyEntry": {"SurveyName": "x"}})
    result = runner.invoke(app, ["questionnaire", "import", str(path), "-o",
                                 str(tmp_path / "out.yaml")])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Error: {path} is not a Qualtrics survey file (.qsf): it has no SurveyElements list; "
        "export it from Qualtrics with Tools > Import/Export > Export Survey"
    ]


def test_cli_import_help_has_an_example() -> None:
    result = runner.invoke(app, ["questionnaire", "import", "--help"])
    assert result.exit_code == 0 and "Example: consult questionnaire import" in result.stdout

