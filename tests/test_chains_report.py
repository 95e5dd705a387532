"""The referral chains in the report: sentences, figures, table, both languages, privacy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_chains import HAND
from typer.testing import CliRunner

from consult.analysis.chains_section import chains_section
from consult.cli.main import app
from consult.project import load_project
from consult.questionnaire import load_questionnaire
from consult.report.chains import STRINGS, chain_section
from consult.report.context import build_context
from consult.report.refs import Numbering
from consult.report.render import make_environment, render_template
from consult.report.strings import strings_for
from consult.results import Results, read_results
from consult.results.model import Chains
from consult.synth import generate
from consult.synth.exports import writer
from consult.synth.generate import SynthConsultation

runner = CliRunner()
OKABE_ITO = ("#0072b2", "#e69f00")


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SynthConsultation]:
    """A project of 120 synthetic responses with referral codes, analysed and reported."""
    root = tmp_path_factory.mktemp("chains-report") / "p"
    assert runner.invoke(app, ["init", str(root)]).exit_code == 0
    project = load_project(explicit=root)
    consultation = generate(load_questionnaire(project.questionnaire_path), 120, seed=21,
                            junk=0.0)
    export = writer("canonical")(consultation, root / "export.csv")
    base = ["--project", str(root)]
    for command in (["ingest", str(export), "--accept-mapping"], ["analyze"],
                    ["report", "--format", "html", "--lang", "all", "--document", "full"],
                    ["report", "--format", "md", "--lang", "all", "--document", "full"]):
        result = runner.invoke(app, [*base, *command])
        assert result.exit_code == 0, result.output
    return root, consultation


def chain_part(html: str) -> str:
    start = html.index('<section id="chains">')
    return html[start:html.index("</section>", start)]


def test_the_method_section_tells_the_chains_with_figures_and_a_table(
        reported: tuple[Path, SynthConsultation]) -> None:
    root, consultation = reported
    complete = consultation.complete
    seeds = sum(r.referred_by is None for r in complete)
    waves = max(r.wave for r in complete)
    html = (root / "out" / "report" / "full.en.html").read_text(encoding="utf-8")
    part = chain_part(html)
    assert (f"<p>{len(complete)} respondents are in the referral chains: {seeds} seeds and "
            f"{len(complete) - seeds} respondents recruited by another respondent over {waves} "
            f"waves; the longest chain had {waves} links") in part
    # Three figures after Figure 1 (respondents by region), each an accessible SVG.
    captions = re.findall(r"<figcaption[^>]*>(Figure \d+\. [^<]*)</figcaption>", part)
    assert captions == ["Figure 2. Respondents by referral wave",
                        "Figure 3. Regional mix of each referral wave",
                        "Figure 4. Recruitment tree by wave, coloured by region"]
    svgs = re.findall(r"<svg[^>]*>", part)
    assert len(svgs) == 3 and all('role="img"' in s and "aria-label=" in s for s in svgs)
    assert part.count("<title>") >= 3
    assert all(colour in part.lower() for colour in OKABE_ITO)
    counts = {w: sum(r.wave == w for r in complete) for w in range(waves + 1)}
    alt = re.search(r'aria-label="(Bar chart of respondents by referral wave[^"]*)"', part)
    assert alt is not None
    assert f"Wave 0 (seeds) {counts[0]}" in alt.group(1)
    assert f"Wave {waves} {counts[waves]}" in alt.group(1)
    assert "Table 2. Recruitments between regions" in part
    assert "homophily" in part


def test_the_markdown_and_french_reports_have_the_section_too(
        reported: tuple[Path, SynthConsultation]) -> None:
    root, consultation = reported
    out = root / "out" / "report"
    md = (out / "full.en.md").read_text(encoding="utf-8")
    assert "### Referral chains" in md
    assert "**Figure 4. Recruitment tree by wave, coloured by region**" in md
    assert "- Figure 3. Regional mix of each referral wave" in md  # the list of figures
    assert "- Table 2. Recruitments between regions" in md  # the list of tables
    french = (out / "full.fr.md").read_text(encoding="utf-8")
    n = len(consultation.complete)
    assert "### Chaînes de recommandation" in french
    assert f"{n} répondants font partie des chaînes de recommandation" in french
    html = chain_part((out / "full.fr.html").read_text(encoding="utf-8"))
    assert "Arbre de recrutement par vague" in html
    # French puts a space before a colon, in the figures' descriptions too.
    assert "Vague 0 (répondants initiaux) :" in html
    assert "initiaux):" not in html and "initiaux):" not in french


def test_no_code_or_response_id_reaches_the_report(
        reported: tuple[Path, SynthConsultation]) -> None:
    root, consultation = reported
    written = [p.read_text(encoding="utf-8") for p in (root / "out" / "report").glob("full.*")]
    assert len(written) == 4
    for response in consultation.responses:
        for text in written:
            assert response.referral_code not in text
            assert response.response_id not in text


def test_without_codes_the_section_says_so(reported: tuple[Path, SynthConsultation]) -> None:
    root, _ = reported
    project = load_project(explicit=root)
    results = read_results(root / "out" / "results.json")
    plain = results.model_copy(update={"chains": Chains(available=False, reason="none")})
    env = make_environment(root / "templates")
    for lang, sentence in (("en", "The responses carry no referral codes"),
                           ("fr", "Les réponses ne comportent aucun code de recommandation")):
        context = build_context(project, plain, lang)
        text = render_template(env, "report/full.md.j2", context)
        assert sentence in text
        assert "Recruitment tree" not in text and "Arbre de recrutement" not in text
        html = render_template(env, "report/full.html.j2", context)
        assert sentence in chain_part(html) and "<figure" not in chain_part(html)


def test_a_sample_too_small_to_cross_regions_still_draws_waves_and_tree(
        reported: tuple[Path, SynthConsultation]) -> None:
    root, _ = reported
    results = read_results(root / "out" / "results.json")
    small: Results = results.model_copy(update={"chains": chains_section(HAND, threshold=5)})
    section = chain_section(Numbering(), small, "en", strings_for("en"), draw=True)
    assert section.table is None
    assert [f.title for f in section.figures] == ["Respondents by referral wave",
                                                  "Recruitment tree by wave, coloured by region"]
    assert all(f.svg.startswith("<svg") for f in section.figures)
    # Depth 2 and deeper are merged (2 + 3 + 1 respondents) and withheld recruiters stay so.
    assert section.figures[1].alt == (
        "Recruitment tree drawn one wave a row, each row split by region: Wave 0 (seeds): 2 "
        "respondents, how many of them recruited is withheld; Wave 1: 4 respondents, how many "
        "of them recruited is withheld; Waves 2 and later: 6 respondents.")


def test_every_language_has_every_chain_string() -> None:
    assert {lang: set(s) for lang, s in STRINGS.items()} == \
        {lang: set(STRINGS["en"]) for lang in STRINGS}
