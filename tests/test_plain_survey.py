"""A survey unlike R-361: no country item, no role item, no referral codes.

consult must write settings that such a questionnaire supports, and its report
must say only what is true of the data (audit findings 8 and 9).
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from consult.cli.main import app
from consult.project import load_project

runner = CliRunner()

# The questionnaire's only profile item; test_a_questionnaire_without_profile_items_says_so
# takes it out.
PROFILE = """\
profile:
  - id: faculty
    type: single_choice
    label: {en: Faculty, fr: Faculté}
    choices:
      - {code: arts, label: {en: Arts, fr: Arts}}
      - {code: science, label: {en: Science, fr: Sciences}}
"""
PLAIN = """\
id: plain
version: "1"
title: {en: Staff survey, fr: Enquête du personnel}
languages: [en, fr]
choice_lists:
  agree5:
    - {code: sd, label: {en: Strongly disagree, fr: Pas du tout d’accord}}
    - {code: d, label: {en: Disagree, fr: Pas d’accord}}
    - {code: n, label: {en: Neutral, fr: Neutre}}
    - {code: a, label: {en: Agree, fr: D’accord}}
    - {code: sa, label: {en: Strongly agree, fr: Tout à fait d’accord}}
""" + PROFILE + """\
domains:
  - id: tools
    title: {en: Tools, fr: Outils}
    items:
      - id: useful
        type: likert
        choice_list: agree5
        agree: [a, sa]
        label: {en: "The tools are useful.", fr: "Les outils sont utiles."}
      - id: fair
        type: likert
        choice_list: agree5
        agree: [a, sa]
        label: {en: "The tools are fair.", fr: "Les outils sont équitables."}
      - id: used
        type: single_choice
        label: {en: "Have you used them?", fr: "Les avez-vous utilisés?"}
        choices:
          - {code: "yes", label: {en: "Yes", fr: "Oui"}}
          - {code: "no", label: {en: "No", fr: "Non"}}
"""

N = 30


def plain_rows() -> list[dict[str, str]]:
    """30 finished responses in the canonical layout, without country or referral codes."""
    scale = ["sd", "d", "n", "a", "sa"]
    return [{"response_id": f"R_{i:03d}", "status": "complete", "finished": "1",
             "progress": "100", "started_at": f"2021-12-{1 + i % 20:02d}T10:00:00+00:00",
             "submitted_at": f"2021-12-{1 + i % 20:02d}T10:20:00+00:00", "language": "en",
             "faculty": "arts" if i % 3 else "science", "useful": scale[i % 5],
             "used": "yes" if i % 4 else "no"} for i in range(N)]


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project made from the plain questionnaire, its responses ingested and analysed."""
    folder = tmp_path_factory.mktemp("plain")
    source = folder / "plain.yaml"
    source.write_text(PLAIN, encoding="utf-8")
    root = folder / "project"
    result = runner.invoke(app, ["init", str(root), "--questionnaire", str(source)])
    assert result.exit_code == 0, result.output
    data = folder / "responses.csv"
    rows = plain_rows()
    with data.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    for command in (["ingest", str(data), "--format", "table", "--accept-mapping"], ["analyze"]):
        result = runner.invoke(app, ["--project", str(root), *command])
        assert result.exit_code == 0, result.output
    return root


@pytest.fixture
def project(plain: Path, tmp_path: Path) -> Path:
    """A private copy of the plain project, free to change."""
    return Path(shutil.copytree(plain, tmp_path / "plain"))


def test_init_writes_only_groupings_the_questionnaire_has(plain: Path) -> None:
    assert load_project(explicit=plain).settings.analysis.groupings == []
    assert "groupings = []\n" in (plain / "consult.toml").read_text(encoding="utf-8")


def test_init_writes_region_and_role_for_r361(tmp_path: Path) -> None:
    result = runner.invoke(app, ["init", str(tmp_path / "r361")])
    assert result.exit_code == 0, result.output
    settings = load_project(explicit=tmp_path / "r361").settings
    assert settings.analysis.groupings == ["region", "role"]


@pytest.mark.parametrize(("groupings", "message"), [
    ('["region", "role"]',
     "[analysis] groupings: 'region' needs a country item, and the questionnaire has none; "
     "write groupings = [] (this questionnaire can group by: faculty; [] gives overall tables "
     "only)"),
    ('["faculty", "role"]',
     "[analysis] groupings: 'role' is not a single-choice profile item of the questionnaire; "
     'write groupings = ["faculty"] (this questionnaire can group by: faculty; [] gives '
     "overall tables only)"),
], ids=["region", "role"])
def test_a_grouping_the_questionnaire_lacks_names_consult_toml(project: Path, groupings: str,
                                                               message: str) -> None:
    settings = project / "consult.toml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(text.replace("groupings = []", f"groupings = {groupings}"),
                        encoding="utf-8")
    result = runner.invoke(app, ["--project", str(project), "analyze"])
    assert result.exit_code == 1
    assert result.stderr == f"Error: {settings.resolve()}: {message}\n"


def test_without_groupings_analyze_and_the_report_cite_no_empty_reference(plain: Path,
                                                                          project: Path) -> None:
    result = runner.invoke(app, ["--project", str(project), "analyze"])
    assert "0 crossed tables (no groupings in consult.toml)" in result.stdout
    result = runner.invoke(app, ["--project", str(project), "report", "--format", "md",
                                 "--lang", "all"])
    assert result.exit_code == 0, result.output
    english = (project / "out" / "report" / "full.en.md").read_text(encoding="utf-8")
    french = (project / "out" / "report" / "full.fr.md").read_text(encoding="utf-8")
    assert "()" not in english and "()" not in french
    assert "chosen by 73.3% of those who answered." in english
    assert "choisie par 73,3\u00a0% des personnes qui ont répondu." in french


def test_the_report_says_only_what_the_data_show(project: Path) -> None:
    result = runner.invoke(app, ["--project", str(project), "report", "--format", "md",
                                 "--lang", "all", "--document", "glance"])
    assert result.exit_code == 0, result.output
    english = (project / "out" / "report" / "glance.en.md").read_text(encoding="utf-8")
    french = (project / "out" / "report" / "glance.fr.md").read_text(encoding="utf-8")
    # No referral codes: no snowball; no country item: no countries, no regions.
    assert ("Consultations were conducted via electronic questionnaire. In total, 30 "
            "respondents completed the online questionnaire in December 2021.\n") in english
    assert ("La consultation a été menée au moyen d’un questionnaire électronique. Au total, 30 "
            "répondants ont rempli le questionnaire en ligne en décembre 2021.\n") in french
    for text in (english, french):
        assert "snowball" not in text and "boule de neige" not in text
        assert "Not stated" not in text and "Non précisé" not in text


def test_analyze_says_no_country_is_known(project: Path) -> None:
    result = runner.invoke(app, ["--project", str(project), "analyze"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Analysed 30 respondents (plain 1), submitted 2021-12-01 to 2021-12-20."
    assert lines[1] == "  regions     none known (no respondent's country is known)"


def test_results_show_a_scale_nobody_answered(plain: Path) -> None:
    result = runner.invoke(app, ["--project", str(plain), "results", "show", "fair"])
    assert result.exit_code == 0, result.output
    assert "No answer on the scale: no median, no percent agreeing\n" in result.stdout
    assert "None" not in result.stdout


def test_a_questionnaire_without_profile_items_says_so(tmp_path: Path) -> None:
    source = tmp_path / "bare.yaml"
    source.write_text(PLAIN.replace(PROFILE, ""), encoding="utf-8")
    root = tmp_path / "bare"
    assert runner.invoke(app, ["init", str(root), "-q", str(source)]).exit_code == 0
    settings = root / "consult.toml"
    settings.write_text(settings.read_text(encoding="utf-8").replace(
        "groupings = []", 'groupings = ["role"]'), encoding="utf-8")
    result = runner.invoke(app, ["--project", str(root), "analyze"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {settings.resolve()}: [analysis] groupings: 'role' is not a single-choice profile "
        "item of the questionnaire; write groupings = [] (this questionnaire has no item to "
        "group by; [] gives overall tables only)\n")


def test_without_a_country_item_no_region_table_or_figure(project: Path) -> None:
    result = runner.invoke(app, ["--project", str(project), "report", "--format", "md",
                                 "--lang", "all", "--document", "full"])
    assert result.exit_code == 0, result.output
    english = (project / "out" / "report" / "full.en.md").read_text(encoding="utf-8")
    french = (project / "out" / "report" / "full.fr.md").read_text(encoding="utf-8")
    assert "Respondents by region" not in english and "The respondent profile is in" in english
    assert "Répondants selon la région" not in french
    assert "Le profil des répondants est présenté à" in french
    # Numbering starts with the first table there is.
    assert "Table 1." in english and "Figure 1." not in english.split("## Results")[0]
