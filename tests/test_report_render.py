"""consult report: context, templates, overrides, escaping, errors and the command (issue 6)."""

from __future__ import annotations

import json
import os
import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from consult.cli.main import app
from consult.project import load_project
from consult.report import formats
from consult.report.context import build_context
from consult.report.render import render_report
from consult.report.strings import STRINGS
from consult.results import read_results

runner = CliRunner()
GOLDEN = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("CONSULT_REGENERATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic R-361 consultation (81 respondents, seed 2014), analysed once."""
    root = tmp_path_factory.mktemp("report") / "demo"
    assert runner.invoke(app, ["init", str(root)]).exit_code == 0
    base = ["--project", str(root)]
    csv = root / "synthetic" / "q.csv"
    for command in (["synth", "-f", "qualtrics", "-o", str(csv)],
                    ["ingest", str(csv), "--accept-mapping"], ["analyze"]):
        result = runner.invoke(app, [*base, *command])
        assert result.exit_code == 0, result.output
    return root


@pytest.fixture
def project(demo: Path, tmp_path: Path) -> Path:
    """A private copy of the demo project, free to change."""
    return Path(shutil.copytree(demo, tmp_path / "demo"))


def normalise(text: str) -> str:
    """Blank out what changes between runs: dates, versions, hashes."""
    text = re.sub(r"\b[0-9a-f]{12,64}\b", "HASH", text)
    text = re.sub(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}Z)?", "DATE", text)
    return re.sub(r"consult \d+\.\d+\.\d+\S*", "consult VERSION", text)


# --------------------------------------------------------------------------- formatting


def test_numbers_percentages_p_values_and_lists_in_each_language() -> None:
    assert formats.percent("45.7", "en") == "45.7%"
    assert formats.percent("45.7", "fr") == "45,7\u00a0%"
    assert formats.percent(None, "en", "<5") == "<5"
    assert formats.number(10000, "en") == "10,000"
    assert formats.number(10000, "fr") == "10\u00a0000"
    assert formats.p_value(0.0004, "en") == "p < .001"
    assert formats.p_value(0.0342, "en") == "p = .034"
    assert formats.p_value(0.0342, "fr") == "p = 0,034"
    assert formats.p_value(1.0, "en") == "p > .999"
    assert formats.join_list(["A", "B", "C"], "en") == "A, B, and C"
    assert formats.join_list(["A", "B", "C"], "fr") == "A, B et C"
    assert formats.join_list(["A", "B"], "en") == "A and B"
    assert formats.period(date(2014, 9, 9), date(2014, 11, 27), "en") == \
        "between September and November 2014"
    assert formats.period(date(2014, 9, 9), date(2014, 11, 27), "fr") == \
        "entre septembre et novembre 2014"


def test_every_language_has_every_string() -> None:
    assert {lang: set(s) for lang, s in STRINGS.items()} == \
        {lang: set(STRINGS["en"]) for lang in STRINGS}


# --------------------------------------------------------------------------- context


def test_the_glance_sentence_has_the_numbers_of_results_json(demo: Path) -> None:
    results = read_results(demo / "out" / "results.json")
    context = build_context(load_project(explicit=demo), results, "en")
    sample = results.sample
    regions = ", ".join(f"{r.label} ({r.pct}%)" for r in sample.by_region[:-1])
    last = sample.by_region[-1]
    assert context.glance.did[1] == (
        f"In total, {sample.n_included} respondents from {sample.n_countries} countries completed "
        "the online questionnaire between September and November 2014.")
    assert context.glance.did[2] == \
        f"Respondents represented {regions}, and {last.label} ({last.pct}%)."
    # The synthetic data (seed 2014) holds 81 respondents from 15 countries.
    assert (sample.n_included, sample.n_countries) == (81, 15)


def test_tables_are_numbered_and_suppressed_cells_stay_suppressed(demo: Path) -> None:
    results = read_results(demo / "out" / "results.json")
    context = build_context(load_project(explicit=demo), results, "en")
    assert [t.number for t in context.tables] == list(range(1, len(context.tables) + 1))
    printed = {c for t in context.tables for row in t.rows for c in row.cells}
    assert "<5" in printed and "x" in printed
    withheld = [c for item in results.items for t in item.by.values() for c in t.cells
                if c.suppressed]
    assert withheld and all(c.count is None for c in withheld)
    tests = [line for t in context.tables for line in t.tests]
    assert tests and all(re.search(r"p [<=>] \.\d{3}", line) for line in tests)


# --------------------------------------------------------------------------- rendering


def test_golden_glance_html(project: Path) -> None:
    done = render_report(load_project(explicit=project), formats_=("html",),
                         documents=("glance",), today=date(2015, 3, 1))
    html = normalise(done[0].path.read_text(encoding="utf-8"))
    golden = GOLDEN / "glance.en.html"
    if REGENERATE:
        golden.write_text(html, encoding="utf-8")
    assert html == golden.read_text(encoding="utf-8"), (
        "the glance page changed; if on purpose, regenerate with CONSULT_REGENERATE_GOLDEN=1")


def test_golden_full_report_html(project: Path) -> None:
    done = render_report(load_project(explicit=project), formats_=("html",),
                         documents=("full",), today=date(2015, 3, 1))
    html = normalise(done[0].path.read_text(encoding="utf-8"))
    # Figures are checked on their own (their SVG follows matplotlib's version); library
    # versions change with every upgrade.
    html = re.sub(r"<svg .*?</svg>", "<svg/>", html, flags=re.S)
    html = re.sub(r"\b(pandas|pingouin|scipy) [0-9][0-9.]*", r"\1 VERSION", html)
    golden = GOLDEN / "full.en.html"
    if REGENERATE:
        golden.write_text(html, encoding="utf-8")
    assert html == golden.read_text(encoding="utf-8"), (
        "the full report changed; if on purpose, regenerate with CONSULT_REGENERATE_GOLDEN=1")


def test_report_command_writes_every_format_and_language(project: Path) -> None:
    result = runner.invoke(app, ["--project", str(project), "report", "--format", "all",
                                 "--lang", "all"])
    assert result.exit_code == 0, result.output
    folder = project / "out" / "report"
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(f"{d}.{lang}.{f}" for d in ("glance", "full") for lang in ("en", "fr")
                           for f in ("html", "md", "pdf", "docx"))
    assert result.stdout.splitlines()[0] == f"Wrote {folder / 'glance.en.html'}"
    fr = (folder / "glance.fr.html").read_text(encoding="utf-8")
    assert "44,4\u00a0%" in fr and "entre septembre et novembre 2014" in fr
    en_md = (folder / "glance.en.md").read_text(encoding="utf-8")
    assert "In total, 81 respondents from 15 countries" in en_md
    full = (folder / "full.en.html").read_text(encoding="utf-8")
    assert "<svg" in full and 'aria-label="Bar chart of respondents by region' in full
    assert "Table 2. " in full and "χ²(" in full
    assert (folder / "full.en.pdf").read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext"):
        import subprocess

        text = subprocess.run(["pdftotext", str(folder / "glance.en.pdf"), "-"],
                              capture_output=True, text=True, check=True).stdout
        assert "81 respondents from 15 countries" in " ".join(text.split())


def test_author_text_replaces_the_placeholder(project: Path) -> None:
    (project / "text" / "why.md").write_text("This study *mattered*.\n", encoding="utf-8")
    (project / "text" / "why.fr.md").write_text("Cette étude comptait.\n", encoding="utf-8")
    render_report(load_project(explicit=project), formats_=("html",), langs=("en", "fr"),
                  documents=("glance",))
    en = (project / "out" / "report" / "glance.en.html").read_text(encoding="utf-8")
    fr = (project / "out" / "report" / "glance.fr.html").read_text(encoding="utf-8")
    assert "<p>This study <em>mattered</em>.</p>" in en
    assert "Text to come: write it in text/why.md" not in en
    assert "Text to come: write it in text/means.md" in en
    assert "Cette étude comptait." in fr


def test_respondent_and_author_markup_is_escaped(project: Path) -> None:
    path = project / "out" / "results.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["sample"]["by_region"][0]["label"] = "<script>alert(1)</script>"
    data["items"][3]["choices"][0]["label"]["en"] = "<b onclick=x()>bold</b>"
    path.write_text(json.dumps(data), encoding="utf-8")
    (project / "text" / "means.md").write_text("<script>alert(2)</script>\n", encoding="utf-8")
    render_report(load_project(explicit=project), formats_=("html",))
    for name in ("glance.en.html", "full.en.html"):
        html = (project / "out" / "report" / name).read_text(encoding="utf-8")
        assert "<script>" not in html
        assert "&lt;script&gt;alert(" in html
    assert "&lt;b onclick=x()&gt;bold&lt;/b&gt;" in (
        project / "out" / "report" / "full.en.html").read_text(encoding="utf-8")


def test_an_author_overrides_the_cover_and_a_section(project: Path) -> None:
    own = project / "templates" / "report"
    (own / "sections").mkdir(parents=True)
    (own / "cover.html.j2").write_text(
        '{% extends "default:report/cover.html.j2" %}\n'
        "{% block cover_title %}Our own cover: {{ project.title }}{% endblock %}\n",
        encoding="utf-8")
    (own / "sections" / "glance_body.html.j2").write_text(
        '{% extends "default:report/sections/glance_body.html.j2" %}\n', encoding="utf-8")
    (own / "glance.html.j2").write_text(
        '{% extends "default:report/glance.html.j2" %}\n'
        "{% block title %}Our glance{% endblock %}\n", encoding="utf-8")
    render_report(load_project(explicit=project), formats_=("html",))
    full = (project / "out" / "report" / "full.en.html").read_text(encoding="utf-8")
    glance = (project / "out" / "report" / "glance.en.html").read_text(encoding="utf-8")
    assert "<h1>Our own cover: International Consultation" in full
    assert "Research Report" in full  # the rest of the shipped cover is kept
    assert "<title>Our glance</title>" in glance and "In total, 81 respondents" in glance


def test_cover_and_citation_use_the_project_settings(project: Path) -> None:
    settings = project / "consult.toml"
    settings.write_text(settings.read_text(encoding="utf-8").replace(
        'report_number = ""', 'report_number = "R-999"').replace(
        "authors = []", 'authors = ["Axford, M.", "Stys, Y.", "McEachran, R."]'), encoding="utf-8")
    render_report(load_project(explicit=project), formats_=("html",), today=date(2015, 3, 1))
    full = (project / "out" / "report" / "full.en.html").read_text(encoding="utf-8")
    glance = (project / "out" / "report" / "glance.en.html").read_text(encoding="utf-8")
    assert '<p class="series">Research Report R-999</p>' in full
    assert '<p class="authors">Axford, M., Stys, Y., and McEachran, R.</p>' in full
    assert '<p class="date">March 2015</p>' in full
    assert ("Axford, M., Stys, Y., &amp; McEachran, R. (2015). International Consultation on "
            "the Management of Radicalized Offenders (Research Report R-999).") in glance


def test_an_undefined_name_is_an_error_naming_template_and_line(project: Path) -> None:
    own = project / "templates" / "report"
    own.mkdir(parents=True)
    (own / "glance.html.j2").write_text("<p>\n{{ project.title }}\n{{ headline_typo }}\n</p>\n",
                                        encoding="utf-8")
    result = runner.invoke(app, ["--project", str(project), "report", "-d", "glance"])
    assert result.exit_code == 1
    folder = project / "out" / "report"
    assert result.stderr == (
        f"Error: glance.en.html not written to {folder}: {own / 'glance.html.j2'}, line 3: "
        "'headline_typo' is undefined (every name a template uses must be in the context; see "
        "docs/report-context.md)\n")


def test_a_syntax_error_names_template_and_line(project: Path) -> None:
    own = project / "templates" / "report"
    own.mkdir(parents=True)
    (own / "glance.html.j2").write_text("<p>\n{% if %}\n", encoding="utf-8")
    result = runner.invoke(app, ["--project", str(project), "report", "-d", "glance"])
    assert result.exit_code == 1
    folder = project / "out" / "report"
    assert result.stderr.startswith(f"Error: glance.en.html not written to {folder}: "
                                    f"{own / 'glance.html.j2'}, line 2: ")


def test_report_without_results_says_run_analyze(tmp_path: Path) -> None:
    assert runner.invoke(app, ["init", str(tmp_path / "empty")]).exit_code == 0
    result = runner.invoke(app, ["--project", str(tmp_path / "empty"), "report"])
    assert result.exit_code == 1
    path = tmp_path / "empty" / "out" / "results.json"
    assert result.stderr == (f"Error: {path}: no such file; the report is rendered from "
                             "results.json, write it first with: consult analyze\n")


def test_report_help_has_an_example() -> None:
    result = runner.invoke(app, ["report", "--help"])
    assert result.exit_code == 0
    assert "Example: consult report" in result.stdout


def test_every_context_field_is_documented() -> None:
    import dataclasses

    from consult.report import context as ctx

    doc = (Path(__file__).parents[1] / "docs" / "report-context.md").read_text(encoding="utf-8")
    classes = [ctx.ReportContext, ctx.ProjectInfo, ctx.SampleInfo, ctx.RegionShare, ctx.Glance,
               ctx.Passage, ctx.DomainSection, ctx.Table, ctx.TableRow, ctx.Figure,
               ctx.ProvenanceInfo]
    missing = [f"{cls.__name__}.{f.name}" for cls in classes for f in dataclasses.fields(cls)
               if f"`{f.name}`" not in doc]
    assert missing == []
