"""Exporting the instrument: XLSForm (compiled by pyxform) and Markdown."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from consult.cli.main import app
from consult.questionnaire import Condition, Questionnaire, load_questionnaire
from consult.questionnaire.markdown import to_markdown
from consult.questionnaire.xlsform import relevant_expression, to_xlsform

R361 = Path(__file__).resolve().parents[1] / "questionnaires" / "r361.yaml"
MINIMAL_SETTINGS = '[project]\ntitle = "A consultation"\n'
XF = "{http://www.w3.org/2002/xforms}"

runner = CliRunner()


@pytest.fixture(scope="module")
def r361() -> Questionnaire:
    return load_questionnaire(R361)


@pytest.fixture(scope="module")
def r361_xform(r361: Questionnaire, tmp_path_factory: pytest.TempPathFactory) -> str:
    xls2xform = pytest.importorskip("pyxform.xls2xform",
                                    reason="pyxform is in the xlsform extra")
    path = to_xlsform(r361, tmp_path_factory.mktemp("xlsform") / "r361.xlsx")
    warnings: list[str] = []
    result = xls2xform.convert(xlsform=str(path), warnings=warnings, validate=False,
                               pretty_print=False)
    assert warnings == []
    return str(result.xform)


def binds(xform: str) -> dict[str, dict[str, str]]:
    """Each bind of the XForm by the last part of its nodeset."""
    root = ET.fromstring(xform)
    return {b.attrib["nodeset"].rsplit("/", 1)[-1]: b.attrib for b in root.iter(f"{XF}bind")}


def sheet_rows(path: Path, name: str) -> list[dict[str, Any]]:
    sheet = load_workbook(path, read_only=True)[name]
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


# --------------------------------------------------------------------------- XLSForm


def test_xlsform_compiles_with_every_item(r361: Questionnaire, r361_xform: str) -> None:
    found = binds(r361_xform)
    assert [i.id for i in r361.items() if i.id not in found] == []
    others = [f"{i.id}_other" for i in r361.items() if i.other]
    assert others and all(name in found for name in others)
    assert found["experience_years"]["type"] == "int"
    assert found["experience_years"]["constraint"] == ". >= 0 and . <= 60"
    assert found["country"]["required"] == "true()"
    assert found["acc_approach"]["required"] == "false()"


def test_xlsform_relevant_of_rec_methods(r361_xform: str) -> None:
    found = binds(r361_xform)
    relevant = " ".join(found["rec_methods"]["relevant"].split())
    assert relevant == "/data/recruitment/rec_attempts = 'yes'"
    other = " ".join(found["rec_methods_other"]["relevant"].split())
    assert other == "selected( /data/recruitment/rec_methods , 'other')"


def test_xlsform_has_both_languages(r361: Questionnaire, r361_xform: str) -> None:
    root = ET.fromstring(r361_xform)
    languages = [t.attrib["lang"] for t in root.iter(f"{XF}translation")]
    assert languages == ["English (en)", "French (fr)"]
    item = r361.item("rec_methods")
    # pyxform turns typographic quotes into straight ones in every cell, by design.
    assert item.label["en"] in r361_xform
    assert item.label["fr"].replace("’", "'") in r361_xform
    instance = next(root.iter(f"{XF}instance"))[0]
    assert instance.attrib == {"id": "r361", "version": "1.0"}
    assert ">FRA<" in r361_xform  # the country list holds ISO3 codes


def test_xlsform_sheets(r361: Questionnaire, tmp_path: Path) -> None:
    path = to_xlsform(r361, tmp_path / "deep" / "form.xlsx")
    survey = {row["name"]: row for row in sheet_rows(path, "survey")
              if row["type"] != "end group"}
    assert survey["profile"]["type"] == "begin group"
    assert survey["profile"]["label::French (fr)"] == "Profil du répondant"
    assert survey["accommodation"]["label::English (en)"] == "Accommodation"
    assert survey["role"]["type"] == "select_one role_choices"
    assert survey["acc_factors"]["type"] == "select_multiple acc_factors_choices"
    assert survey["acc_effective"]["type"] == "select_one acc_effective_choices"
    assert survey["acc_effective"]["appearance"] == "likert"
    assert survey["acc_practice"]["type"] == "text"
    assert survey["acc_practice"]["appearance"] == "multiline"
    assert survey["experience_years"]["type"] == "integer"
    assert survey["country"]["type"] == "select_one countries"
    assert survey["acc_approach_other"]["relevant"] == "selected(${acc_approach}, 'other')"
    assert survey["int_tools"]["constraint"] == (
        "not(selected(., 'none') and count-selected(.) > 1) and "
        "not(selected(., 'dont_know') and count-selected(.) > 1)"
    )
    hint = r361.item("country").help
    assert hint is not None and survey["country"]["hint::French (fr)"] == hint["fr"]
    choices = sheet_rows(path, "choices")
    acc = [(r["name"], r["label::French (fr)"]) for r in choices
           if r["list_name"] == "acc_approach_choices"]
    assert acc[-1] == ("other", "Autre (veuillez préciser)")
    assert ("dont_know", "Je ne sais pas") in acc
    assert sheet_rows(path, "settings") == [{
        "form_title": r361.title["en"], "form_id": "r361", "version": "1.0",
        "default_language": "English (en)",
    }]


# One case per condition form: (condition as written in YAML, XPath expected).
RELEVANT_CASES = [
    ({"item": "q1", "equals": "yes"}, "${q1} = 'yes'"),
    ({"item": "q1", "not_equals": "no"}, "${q1} != 'no'"),
    ({"item": "q1", "in": ["a", "b"]}, "(${q1} = 'a' or ${q1} = 'b')"),
    ({"item": "q2", "selected": "a"}, "selected(${q2}, 'a')"),
    ({"item": "q3", "answered": True}, "${q3} != ''"),
    ({"item": "q3", "answered": False}, "${q3} = ''"),
    ({"all": [{"item": "q1", "equals": "yes"}, {"item": "q2", "selected": "a"}]},
     "(${q1} = 'yes' and selected(${q2}, 'a'))"),
    ({"any": [{"item": "q1", "equals": "yes"}, {"item": "q3", "answered": True}]},
     "(${q1} = 'yes' or ${q3} != '')"),
    ({"all": [{"any": [{"item": "q1", "equals": "a"}, {"item": "q1", "equals": "b"}]},
              {"item": "q3", "answered": False}]},
     "((${q1} = 'a' or ${q1} = 'b') and ${q3} = '')"),
]


@pytest.mark.parametrize(("condition", "expected"), RELEVANT_CASES)
def test_relevant_expression(condition: dict[str, Any], expected: str) -> None:
    assert relevant_expression(Condition.model_validate(condition)) == expected


# --------------------------------------------------------------------------- Markdown


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_markdown_has_every_domain_and_item(r361: Questionnaire, lang: str) -> None:
    text = to_markdown(r361, lang)
    assert text.startswith(f"# {r361.title[lang]}\n")
    for domain in r361.domains:
        assert f"\n## {domain.title[lang]}\n" in text
    for number, item in enumerate(r361.items(), start=1):
        assert f"\n### {number}. {item.label[lang]}\n" in text


def test_markdown_states_combined_conditions(r361: Questionnaire) -> None:
    relevant = Condition.model_validate({"all": [
        {"item": "rec_attempts", "equals": "yes"},
        {"any": [{"item": "rec_methods", "selected": "online"},
                 {"item": "experience_years", "answered": False}]},
    ]})
    domains = list(r361.domains)
    items = list(domains[1].items)
    items[-1] = items[-1].model_copy(update={"relevant": relevant})
    domains[1] = domains[1].model_copy(update={"items": items})
    text = to_markdown(r361.model_copy(update={"domains": domains}))
    n = {item.id: number for number, item in enumerate(r361.items(), start=1)}
    assert (
        f"Asked only if question {n['rec_attempts']} (`rec_attempts`) is “Yes” and "
        f"(question {n['rec_methods']} (`rec_methods`) includes “Internet, social media or "
        f"mobile phones” or question {n['experience_years']} (`experience_years`) is not "
        "answered)."
    ) in text


def test_markdown_states_conditions_and_choices(r361: Questionnaire) -> None:
    text = to_markdown(r361)
    number = [i.id for i in r361.items()].index("rec_attempts") + 1
    assert f"Asked only if question {number} (`rec_attempts`) is “Yes”." in text
    assert "`experience_years` · number · required · whole number · from 0 to 60" in text
    assert "- Don't know `dont_know` (don't know)" in text
    assert "- Other (please specify) `other`" in text
    french = to_markdown(r361, "fr")
    assert f"Posée seulement si la question {number} (`rec_attempts`) est «\u00a0Oui\u00a0»." \
        in french


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    # Settings and questionnaire are all export reads; no database is needed.
    root = tmp_path / "consultation"
    root.mkdir()
    (root / "consult.toml").write_text(MINIMAL_SETTINGS, encoding="utf-8")
    (root / "questionnaire.yaml").write_bytes(R361.read_bytes())
    return root


def test_cli_export_xlsform_into_the_project(project_dir: Path) -> None:
    result = runner.invoke(app, ["--project", str(project_dir), "questionnaire", "export",
                                 "--format", "xlsform"])
    assert result.exit_code == 0, result.output
    written = project_dir.resolve() / "out" / "questionnaire.xlsx"
    assert result.stdout.strip() == f"Wrote {written}"
    names = [row["name"] for row in sheet_rows(written, "survey")]
    assert "rec_methods" in names


def test_cli_export_markdown_in_french_beside_the_current_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, r361: Questionnaire) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["questionnaire", "export", "-f", "markdown", "--lang", "fr",
                                 str(R361)])
    assert result.exit_code == 0, result.output
    written = tmp_path / "r361.md"
    assert result.stdout.strip() == f"Wrote {written}"
    text = written.read_text(encoding="utf-8")
    assert text == to_markdown(r361, "fr")
    assert r361.domains[0].title["fr"] in text


def test_cli_export_to_a_chosen_file(tmp_path: Path) -> None:
    target = tmp_path / "r361-en.md"
    result = runner.invoke(app, ["questionnaire", "export", "--format", "markdown", str(R361),
                                 "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8").startswith("# International Consultation")


def test_cli_export_unknown_format() -> None:
    result = runner.invoke(app, ["questionnaire", "export", "--format", "pdf", str(R361)])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "Error: Invalid value for '--format' / '-f': Value error, 'pdf' is not one of "
        "'xlsform', 'markdown'."
    )


def test_cli_export_unknown_language(tmp_path: Path) -> None:
    result = runner.invoke(app, ["questionnaire", "export", "--format", "markdown", "--lang",
                                 "de", str(R361), "-o", str(tmp_path / "x.md")])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Error: --lang 'de': the questionnaire is written in en, fr"
    ]
    assert not (tmp_path / "x.md").exists()


def test_cli_export_lang_with_xlsform(tmp_path: Path) -> None:
    result = runner.invoke(app, ["questionnaire", "export", "--format", "xlsform", "--lang",
                                 "fr", str(R361), "-o", str(tmp_path / "x.xlsx")])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Error: --lang applies to --format markdown; an XLSForm holds every language of the "
        "questionnaire"
    ]


def test_cli_export_help_has_an_example() -> None:
    result = runner.invoke(app, ["questionnaire", "export", "--help"])
    assert result.exit_code == 0 and "Example: consult questionnaire export" in result.stdout
