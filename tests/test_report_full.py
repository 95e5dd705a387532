"""The full report in every format: Word, PDF text and pages, figures, best practices (issue 6).

One synthetic consultation (81 respondents, seed 2014) is analysed and its
free-text answers fitted into themes (the real MiniLM pipeline), then rendered
once to every format and language; the tests read those files back. Expected
values are computed from results.json, not written down.
"""

from __future__ import annotations

import html as html_lib
import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import NamedTuple

import pytest
from typer.testing import CliRunner

from consult.cli.main import app
from consult.project import load_project
from consult.questionnaire import load_questionnaire
from consult.report.render import render_report
from consult.report.strings import region_name
from consult.results import Results, read_results
from consult.results.themes import Quote, best_practices, item_themes

runner = CliRunner()
R361 = Path(__file__).resolve().parents[1] / "questionnaires" / "r361.yaml"
needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                   reason="pdftotext (poppler-utils) is not installed")


@dataclass(frozen=True)
class Demo:
    root: Path
    results: Results
    folder: Path

    def read(self, name: str) -> str:
        return (self.folder / name).read_text(encoding="utf-8")


def analysed_demo(root: Path, *after: list[str]) -> Path:
    """The synthetic R-361 consultation (seed 2014) in ``root``, ingested from a Qualtrics
    export and analysed through the command line; then the commands ``after``."""
    assert runner.invoke(app, ["init", str(root)]).exit_code == 0
    csv = root / "synthetic" / "q.csv"
    for command in (["synth", "-f", "qualtrics", "-o", str(csv)],
                    ["ingest", str(csv), "--accept-mapping"], ["analyze"], *after):
        result = runner.invoke(app, ["--project", str(root), *command])
        assert result.exit_code == 0, result.output
    return root


@pytest.fixture(scope="module")
def themed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo consultation, analysed, with the themes of its open answers fitted."""
    return analysed_demo(tmp_path_factory.mktemp("full") / "demo", ["themes", "fit"])


@pytest.fixture(scope="module")
def demo(themed: Path, tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """Every document in every format and language, rendered once through the command."""
    root = Path(shutil.copytree(themed, tmp_path_factory.mktemp("rendered") / "demo"))
    result = runner.invoke(app, ["--project", str(root), "report", "--format", "all",
                                 "--lang", "all"])
    assert result.exit_code == 0, result.output
    return Demo(root, read_results(root / "out" / "results.json"), root / "out" / "report")


@pytest.fixture
def project(themed: Path, tmp_path: Path) -> Path:
    """A private copy of the themed project, free to change."""
    return Path(shutil.copytree(themed, tmp_path / "demo"))


def chain_parts(demo: Demo) -> tuple[int, int]:
    """Tables and figures of the referral chains (another part of the method section)."""
    from consult.report.context import build_context

    chains = build_context(load_project(explicit=demo.root), demo.results, "en").chains
    if chains is None:
        return 0, 0
    return (1 if chains.table else 0), len(chains.figures)


def pdf_text(path: Path) -> tuple[str, int]:
    """The text of a PDF in reading order (whitespace collapsed) and its number of pages."""
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    pages = text.count("\f") + (0 if text.endswith("\f") else 1)
    return " ".join(text.split()), pages


class Candidate(NamedTuple):
    label: str
    domain: str | None
    n_respondents: int
    quotes: list[Quote]


def ranked_practices(results: Results) -> list[Candidate]:
    """The candidates as the report must rank them, cited by at least the small-cell threshold.

    results.json's ``best_practices`` when written; else every theme of a practice question,
    most respondents first, then most countries, then by label.
    """
    threshold = results.provenance.settings["disclosure"]["threshold"]
    section = best_practices(results.best_practices)
    if section is not None:
        found = [Candidate(p.label, p.domain, p.n_respondents, p.quotes)
                 for p in section.practices]
    else:
        questionnaire = load_questionnaire(R361)
        themes = [(t, item) for item, fit in item_themes(results.themes).items()
                  if questionnaire.item(item).practice for t in fit.themes]
        themes.sort(key=lambda x: (-x[0].n_respondents, -x[0].n_countries, x[0].label))
        found = [Candidate(t.label, getattr(questionnaire.domain_of(item), "id", None),
                           t.n_respondents, t.quotes) for t, item in themes]
    return [c for c in found if c.n_respondents >= threshold]


# --------------------------------------------------------------------------- formats


def test_every_document_in_every_format_and_language(demo: Demo) -> None:
    names = sorted(p.name for p in demo.folder.iterdir())
    assert names == sorted(f"{d}.{lang}.{f}" for d in ("glance", "full") for lang in ("en", "fr")
                           for f in ("html", "md", "pdf", "docx"))


@needs_poppler
def test_pdf_has_the_key_sentences_and_a_sane_page_count(demo: Demo) -> None:
    sample = demo.results.sample
    glance, glance_pages = pdf_text(demo.folder / "glance.en.pdf")
    assert glance_pages == 1
    assert (f"In total, {sample.n_included} respondents from {sample.n_countries} countries "
            "completed the online questionnaire") in glance
    full, full_pages = pdf_text(demo.folder / "full.en.pdf")
    assert 20 <= full_pages <= 150, full_pages
    train = demo.results.item("train_important")
    assert train.overall.likert is not None
    assert (f"{train.overall.likert.pct_agree}% of those who answered agreed that “Training "
            "staff to recognize") in full
    top = ranked_practices(demo.results)[0]
    assert f"“{top.label}” (" in full
    assert f") was the practice cited most often, by {top.n_respondents} " in full
    assert "Synthesis of best practices across domains" in full
    assert "Appendix A: The questionnaire" in full
    # The provenance: the data hash's first characters in every page footer of the body.
    assert f"data SHA-256 {demo.results.provenance.data_sha256[:12]}" in full
    french, french_pages = pdf_text(demo.folder / "glance.fr.pdf")
    assert french_pages == 1
    first = sample.by_region[0]
    assert f"{region_name(first.label, 'fr')} ({first.pct.replace('.', ',')} %)" in french


@needs_poppler
def test_the_glance_page_holds_r361_length_text_on_one_page(project: Path) -> None:
    # As long as R-361's own glance page (about 500 words with the generated ones).
    sentence = ("Respondents described how their jurisdiction manages radicalized offenders "
                "and which practices they would recommend to other correctional services. ")
    (project / "text" / "headline.md").write_text("Staff training is a key best practice.\n",
                                                  encoding="utf-8")
    for name, paragraphs in (("why", 1), ("found", 3), ("means", 1)):
        text = "\n\n".join(sentence * 3 for _ in range(paragraphs))
        (project / "text" / f"{name}.md").write_text(text + "\n", encoding="utf-8")
    render_report(load_project(explicit=project), formats_=("pdf",), documents=("glance",))
    text, pages = pdf_text(project / "out" / "report" / "glance.en.pdf")
    assert pages == 1
    assert text.count("Respondents described how") == 3 * 5
    assert "Staff training is a key best practice." in text


def test_word_has_headings_numbered_tables_figures_and_quotes(demo: Demo) -> None:
    import docx

    results = demo.results
    document = docx.Document(str(demo.folder / "full.en.docx"))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    questionnaire = load_questionnaire(demo.root / "questionnaire.yaml")
    for heading in ["Contents", "Acknowledgements", "Executive summary", "Introduction", "Method",
                    "Results", *(questionnaire.text(d.title, "en") for d in questionnaire.domains),
                    "Synthesis of best practices across domains", "Discussion and limitations",
                    "Appendix A: The questionnaire", "Appendix B: Full tables",
                    "Appendix C: Provenance of the numbers"]:
        assert heading in headings
    # Tables: respondents by region, the chains', each item by each grouping, the synthesis,
    # the overall distribution of each closed item, and the provenance table (not numbered).
    chain_tables, chain_figures = chain_parts(demo)
    crossed = sum(len(item.by) for item in results.items)
    overall = sum(1 for item in results.items if item.type != "number")
    assert len(document.tables) == 1 + chain_tables + crossed + 1 + overall + 1
    captions = [p.text for p in document.paragraphs if p.style.name == "Caption"]
    table_captions = [c for c in captions if c.startswith("Table ")]
    assert table_captions[0] == "Table 1. Respondents by region"
    assert [int(c.split()[1].rstrip(".")) for c in table_captions] == \
        list(range(1, len(document.tables)))
    figure_captions = [c for c in captions if c.startswith("Figure ")]
    key_items = sum(1 for item in results.items if item.domain and item.by
                    and item.type in ("likert", "single_choice"))
    assert len(figure_captions) == 1 + chain_figures + key_items + 1
    # Every figure of this part is a picture (a chain figure without a chart says where it is).
    assert len(document.inline_shapes) >= 1 + key_items + 1
    assert all(shape._inline.docPr.get("descr") for shape in document.inline_shapes)
    text = "\n".join(p.text for p in document.paragraphs)
    sample = results.sample
    assert (f"In total, {sample.n_included} respondents from {sample.n_countries} countries "
            "completed the online questionnaire") in text
    quotes = {p.text for p in document.paragraphs if p.style.name == "Quote"}
    top = ranked_practices(results)[0]
    assert top.quotes[0].text in quotes
    assert f"— {top.quotes[0].attribution}" in quotes
    page_breaks = document.element.body.xml.count('w:type="page"')
    assert page_breaks >= 3  # after the cover, the contents and the front matter
    assert results.provenance.data_sha256 in document.core_properties.keywords


def test_word_in_french(demo: Demo) -> None:
    import docx

    document = docx.Document(str(demo.folder / "full.fr.docx"))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert {"Méthode", "Résultats", "Annexe A : Le questionnaire"} <= set(headings)
    assert "Synthèse des pratiques exemplaires dans l’ensemble des volets" in headings
    first = demo.results.sample.by_region[0]
    region_table = document.tables[0]
    assert region_table.rows[1].cells[0].text == region_name(first.label, "fr")
    assert region_table.rows[1].cells[2].text == first.pct.replace(".", ",") + "\u00a0%"
    glance = docx.Document(str(demo.folder / "glance.fr.docx"))
    assert "Pourquoi nous avons mené cette étude" in [p.text for p in glance.paragraphs]


def test_markdown_carries_the_sentences_tables_and_quotes(demo: Demo) -> None:
    text = demo.read("full.en.md")
    top = ranked_practices(demo.results)[0]
    assert "## Synthesis of best practices across domains" in text
    assert "**Table 1. Respondents by region**" in text
    assert f"“{top.label}”" in text and f"by {top.n_respondents} respondents" in text
    assert demo.results.provenance.data_sha256 in text
    assert "\n> " in text  # quotes are block quotes


# --------------------------------------------------------------------------- figures


def test_figures_are_accessible_and_ids_unique(demo: Demo) -> None:
    page = demo.read("full.en.html")
    figures = re.findall(r"<figure [^>]*>.*?</figure>", page, flags=re.S)
    key_items = sum(1 for item in demo.results.items if item.domain and item.by
                    and item.type in ("likert", "single_choice"))
    assert len(figures) == 1 + chain_parts(demo)[1] + key_items + 1
    for figure in figures:
        assert 'role="figure"' in figure and "<figcaption" in figure
        assert re.search(r'<svg [^>]*role="img" aria-label="[^"]{20,}"', figure)
        assert "<title>" in figure
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    # Every cross-reference leads somewhere.
    assert {h for h in re.findall(r'href="#([^"]+)"', page)} <= set(ids)
    # Series differ by hatching (greyscale) as well as by Okabe-Ito colour.
    assert "<pattern" in page and "#e69f00" in page.lower()


def test_withheld_counts_are_never_drawn(demo: Demo) -> None:
    from consult.report.context import build_context

    results = demo.results
    context = build_context(load_project(explicit=demo.root), results, "en")
    drawn = {f.title: f for d in context.domains for f in d.figures}
    checked = 0
    for item in results.items:
        if item.domain is None or not item.by:
            continue
        if item.type == "single_choice":
            figure = next(f for title, f in drawn.items() if item.label["en"].rstrip(".") in title)
            withheld = sum(1 for cross in item.by.values() for cell in cross.cells
                           if cell.code != "(missing)" and cell.count is None)
        elif item.type == "likert":
            figure = next(f for title, f in drawn.items() if item.label["en"].rstrip(".") in title)
            withheld = sum(1 for cross in item.by.values() for s in cross.summaries
                           if s.likert is None or s.likert.pct_agree is None)
        else:
            continue
        assert figure.chart is not None
        assert sum(1 for v in figure.values if v is None) == withheld
        # Nothing drawn is a suppressed cell: the values drawn equal the published percents.
        published = {float(c.pct_answered) for cross in item.by.values() for c in cross.cells
                     if c.pct_answered is not None} | {
            float(s.likert.pct_agree) for cross in item.by.values() for s in cross.summaries
            if s.likert and s.likert.pct_agree is not None} | {
            float(r.pct_answered) for r in item.overall.rows if r.pct_answered is not None}
        assert {v for v in figure.values if v is not None} <= published
        checked += 1
    assert checked == sum(1 for i in results.items if i.domain and i.by
                          and i.type in ("likert", "single_choice"))


# --------------------------------------------------------------------------- best practices


def test_each_domain_lists_its_candidate_practices_with_quotes(demo: Demo) -> None:
    page = demo.read("full.en.html")
    questionnaire = load_questionnaire(demo.root / "questionnaire.yaml")
    ranked = ranked_practices(demo.results)
    assert ranked
    for domain in questionnaire.domains:
        section = re.search(rf'<section class="practices" id="practices-{domain.id}">(.*?)'
                            r"</section>", page, flags=re.S)
        assert section is not None
        own = [c for c in ranked if c.domain == domain.id]
        labels = re.findall(r"<strong>(.*?)</strong>", section.group(1))
        assert labels == [html_lib.escape(c.label, quote=False) for c in own]
        blocks = section.group(1).split('<div class="practice">')[1:]
        for block, candidate in zip(blocks, own, strict=True):
            quotes = re.findall(r"<footer>— (.*?)</footer>", block)
            assert 1 <= len(quotes) <= 3
            assert quotes == [html_lib.escape(q.attribution, quote=False)
                              for q in candidate.quotes[:3]]


def test_without_a_ranking_the_themes_are_ranked(project: Path) -> None:
    path = project / "out" / "results.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["best_practices"] = {}
    path.write_text(json.dumps(data), encoding="utf-8")
    render_report(load_project(explicit=project), formats_=("html",), documents=("full",))
    page = html_lib.unescape((project / "out" / "report" / "full.en.html").read_text(
        encoding="utf-8"))
    ranked = ranked_practices(read_results(path))
    assert ranked
    assert f"“{ranked[0].label}” (" in page
    assert f"was the practice cited most often, by {ranked[0].n_respondents} respondents" in page
    accommodation = re.search(r'id="practices-accommodation">(.*?)</section>', page, flags=re.S)
    assert accommodation is not None
    assert re.findall(r"<strong>(.*?)</strong>", accommodation.group(1)) == \
        [c.label for c in ranked if c.domain == "accommodation"]


def test_results_best_practices_take_precedence_over_the_themes(project: Path) -> None:
    path = project / "out" / "results.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    theme = item_themes(data["themes"])["train_practice"].themes[0]
    data["best_practices"] = {"ranking": "marked by the authors first", "practices": [{
        "rank": 1, "item_id": "train_practice", "domain": "training", "theme_id": theme.id,
        "label": "Staff awareness training", "n_respondents": theme.n_respondents,
        "n_countries": 9, "n_regions": 4,
        "by_region": [r.model_dump() for r in theme.by_region],
        "quotes": [q.model_dump() for q in theme.quotes], "marked": True}]}
    path.write_text(json.dumps(data), encoding="utf-8")
    render_report(load_project(explicit=project), formats_=("html",), documents=("full",))
    page = (project / "out" / "report" / "full.en.html").read_text(encoding="utf-8")
    assert (f"“Staff awareness training” (Staff training and awareness) was the practice cited "
            f"most often, by {theme.n_respondents} respondents from 9 countries and 4 regions") \
        in page
    assert "marked as a best practice by the authors" in page
    accommodation = re.search(r'id="practices-accommodation">(.*?)</section>', page, flags=re.S)
    assert accommodation is not None and "<strong>" not in accommodation.group(1)


def test_without_themes_the_report_says_how_to_get_them(project: Path) -> None:
    path = project / "out" / "results.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["themes"], data["best_practices"] = {}, {}
    path.write_text(json.dumps(data), encoding="utf-8")
    render_report(load_project(explicit=project), formats_=("html",), documents=("full",))
    page = (project / "out" / "report" / "full.en.html").read_text(encoding="utf-8")
    questionnaire = load_questionnaire(project / "questionnaire.yaml")
    practice_domains = sum(1 for d in questionnaire.domains if any(i.practice for i in d.items))
    # Once in each domain asking for a practice, and once in the synthesis.
    assert page.count("have not been grouped into themes yet (consult themes fit)") == \
        practice_domains + 1
    assert "<table" in page and 'id="synthesis"' in page


def test_respondents_words_never_become_markup(project: Path) -> None:
    path = project / "out" / "results.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    # Whichever ranking the report reads: the themes' own, or results.json's best practices.
    for theme in [data["themes"]["acc_practice"]["themes"][0],
                  *data["best_practices"].get("practices", [])[:1]]:
        theme["quotes"][0]["text"] = "<img src=x onerror=alert(1)> *bold* [link](http://x)"
        theme["label"] = "<script>alert(2)</script>"
    path.write_text(json.dumps(data), encoding="utf-8")
    render_report(load_project(explicit=project), formats_=("html", "md", "docx"),
                  documents=("full",))
    folder = project / "out" / "report"
    page = (folder / "full.en.html").read_text(encoding="utf-8")
    assert "<img src=x" not in page and "<script>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "&lt;script&gt;alert(2)" in page
    markdown = (folder / "full.en.md").read_text(encoding="utf-8")
    assert "\\<img src=x" in markdown and "\\*bold\\*" in markdown and "\\[link\\]" in markdown
    assert "\\<script>alert(2)\\</script>" in markdown
    import docx

    text = [p.text for p in docx.Document(str(folder / "full.en.docx")).paragraphs]
    assert "<img src=x onerror=alert(1)> *bold* [link](http://x)" in text


# --------------------------------------------------------------------------- structure


def test_tables_and_figures_are_numbered_in_reading_order(demo: Demo) -> None:
    page = demo.read("full.en.html")
    body = page[page.index('<section id="acknowledgements">'):]
    tables = [int(n) for n in re.findall(r"<caption>Table (\d+)\.", body)]
    figures = [int(n) for n in re.findall(r'<figcaption id="[^"]+">Figure (\d+)\.', body)]
    assert tables == list(range(1, len(tables) + 1))
    assert figures == list(range(1, len(figures) + 1))
    contents = page[page.index('<nav id="contents">'):page.index("</nav>")]
    assert contents.count('href="#table-') == len(tables)
    assert contents.count('href="#figure-') == len(figures)
    # Each reference in a sentence points at a table or figure of its own domain section.
    for section in re.findall(r'<section id="domain-[^"]+" class="domain">(.*?)</section>', body,
                              flags=re.S):
        own = set(re.findall(r'id="((?:table|figure)-\d+)"', section))
        cited = set(re.findall(r'<p class="finding">.*?</p>', section, flags=re.S))
        refs = {r for p in cited for r in re.findall(r'href="#([^"]+)"', p)}
        assert refs <= own


def test_questionnaire_appendix_in_the_report_language(demo: Demo) -> None:
    questionnaire = load_questionnaire(demo.root / "questionnaire.yaml")
    for lang in ("en", "fr"):
        page = html_lib.unescape(demo.read(f"full.{lang}.html"))
        appendix = page[page.index('id="appendix-questionnaire"'):page.index(
            'id="appendix-tables"')]
        for number, item in enumerate(questionnaire.items(), start=1):
            assert f'<li id="question-{item.id}"><p class="question"><span class="number">{number}.</span> ' \
                   f"{questionnaire.text(item.label, lang)}</p>" in appendix
            for choice in item.choices or []:
                assert f"<li>{questionnaire.text(choice.label, lang)}</li>" in appendix
    assert "Posée seulement si la réponse à la question" in html_lib.unescape(
        demo.read("full.fr.html"))


def test_french_uses_french_region_names_and_numbers(demo: Demo) -> None:
    page = demo.read("full.fr.html")
    for row in demo.results.sample.by_region:
        name = region_name(row.label, "fr")
        assert f"<th scope=\"row\">{name}</th><td>{row.count}</td>" \
               f"<td>{row.pct.replace('.', ',')}\u00a0%</td>" in page
    assert "Amérique du Nord" in page and ">North America<" not in page
    assert "Autres régions (n\u00a0=\u00a0" in page
    # results.json's notes on merged groups and withheld counts are in French too.
    assert "had fewer than" not in page and "count(s) below" not in page
    assert "aucun groupe aussi petit n’est présenté seul" in page
    # An item's "other" option is named in French too.
    assert '<th scope="row">Autre</th>' in page and '<th scope="row">Other</th>' not in page


def test_provenance_is_embedded_in_every_format(demo: Demo) -> None:
    provenance = demo.results.provenance
    page = demo.read("full.en.html")
    assert f"<code>{provenance.data_sha256}</code>" in page
    assert provenance.generated_at in page
    assert f"{provenance.questionnaire_id} {provenance.questionnaire_version}" in page
    for name in ("full.en.md", "full.fr.md"):
        assert provenance.data_sha256 in demo.read(name)
    assert f"SHA-256 {provenance.data_sha256[:12]}" in demo.read("glance.en.html")


def test_the_context_reference_is_up_to_date() -> None:
    from consult.report.reference import DOC, reference

    assert DOC.read_text(encoding="utf-8") == reference(), (
        "docs/report-context.md is out of date: run python -m consult.report.reference")


def test_an_author_rewords_a_section_and_the_cover(project: Path) -> None:
    own = project / "templates" / "report"
    (own / "sections").mkdir(parents=True)
    (own / "cover.html.j2").write_text(
        '{% extends "default:report/cover.html.j2" %}\n'
        "{% block series %}Rapport final{% endblock %}\n", encoding="utf-8")
    (own / "sections" / "glance_body.html.j2").write_text(
        '{% extends "default:report/sections/glance_body.html.j2" %}\n'
        '{% block why %}<section id="why"><h2>Why this consultation</h2>'
        "{{ glance.why.html }}</section>{% endblock %}\n", encoding="utf-8")
    render_report(load_project(explicit=project), formats_=("html",), today=date(2015, 3, 1))
    folder = project / "out" / "report"
    glance = (folder / "glance.en.html").read_text(encoding="utf-8")
    full = (folder / "full.en.html").read_text(encoding="utf-8")
    assert "<h2>Why this consultation</h2>" in glance and "Why we did this study" not in glance
    assert "<h2>What we did</h2>" in glance  # the other sections are the shipped ones
    assert '<p class="series">Rapport final</p>' in full and "<h1>International" in full
    for path in own.rglob("*.j2"):
        path.unlink()
    render_report(load_project(explicit=project), formats_=("html",), documents=("glance",))
    assert "Why we did this study" in (folder / "glance.en.html").read_text(encoding="utf-8")
