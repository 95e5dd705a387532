"""The template context: everything a report template may use, built from results.json.

Templates see the fields of :class:`ReportContext` as top-level names
(``sample``, ``glance``, ``domains``, ``tables`` ...); docs/report-context.md
describes each one. The context is made from results.json, the project's
settings, its questionnaire (for domain titles) and the authors' ``text/*.md``
only: it never reads the database and never runs analysis. Every string in
it is printable in every format (:mod:`consult.report.characters`). Numbers are
formatted here, once, in the report's language; a count withheld by disclosure
control stays withheld (its ``display``, ``<5`` or ``x``, is printed instead).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from markupsafe import Markup

from consult.errors import ConsultError
from consult.project import Project
from consult.questionnaire import load_questionnaire
from consult.report import formats
from consult.report.chains import chain_section
from consult.report.characters import printable_context
from consult.report.figures import Chart, Series
from consult.report.instrument import questionnaire_info
from consult.report.model import (
    DomainSection,
    Figure,
    Glance,
    Passage,
    Practice,
    ProjectInfo,
    ProvenanceInfo,
    QuestionnaireInfo,
    QuestionnaireItem,
    QuestionnaireSection,
    Quote,
    RegionShare,
    ReportContext,
    SampleInfo,
    Sentence,
    Support,
    Synthesis,
    Table,
    TableRow,
)
from consult.report.notes import in_language, namer
from consult.report.practices import domain_note, practice_origin, practices, synthesis
from consult.report.refs import Numbering, sentence
from consult.report.sections import domain_section
from consult.report.strings import LANGUAGES, region_name, strings_for
from consult.report.tables import item_label, item_tables, number_tables, overall_table
from consult.results import Results

__all__ = [
    "AUTHOR_TEXTS", "Chart", "DomainSection", "Figure", "Glance", "Numbering", "Passage",
    "Practice", "ProjectInfo", "ProvenanceInfo", "QuestionnaireInfo", "QuestionnaireItem",
    "QuestionnaireSection", "Quote", "RegionShare", "ReportContext", "SampleInfo", "Sentence",
    "Series", "Support", "Synthesis", "Table", "TableRow", "build_context", "read_author_texts",
]

# Author passages the shipped templates ask for; any other text/*.md is available too.
AUTHOR_TEXTS = ("headline", "why", "found", "means", "contact", "acknowledgements", "summary",
                "introduction", "discussion")


def build_context(project: Project, results: Results, lang: str, *,
                  today: date | None = None, figures: bool = False) -> ReportContext:
    """Build the context of ``results`` in ``lang`` (``en`` or ``fr``).

    ``figures`` draws the figures as inline SVG (imports matplotlib); without
    it each figure is described (title, alt text, data) but ``svg`` is empty.
    Tables and figures are numbered in reading order: method, results by
    domain, synthesis, appendices.
    """
    if lang not in LANGUAGES:
        raise ConsultError(f"--lang {lang}: reports are written in {', '.join(LANGUAGES)} only")
    t = strings_for(lang)
    questionnaire = load_questionnaire(project.questionnaire_path)
    text = read_author_texts(project.root / "text", lang, t)
    sample = _sample(results, lang, t)
    numbering = Numbering()
    # Without a known region (no country item) a table of one "Not stated" row says nothing.
    regions_known = any(r.key != "(not stated)" for r in results.sample.by_region)
    region_table = _region_table(numbering, sample, t, lang) if regions_known else None
    region_figure = (_region_figure(numbering, sample, t, lang, draw=figures) if regions_known
                     else None)
    chains = chain_section(numbering, results, lang, t, draw=figures)
    ranked, source = practices(results, questionnaire, lang, t, sample.threshold)
    domains = []
    for d in questionnaire.domains:
        own = [p for p in ranked if p.domain_id == d.id]
        question = next((questionnaire.text(i.label, lang) for i in d.items if i.practice), "")
        domains.append(domain_section(numbering, questionnaire, results, d.id, lang, t, own,
                                      domain_note(source, own, question, sample.threshold, t),
                                      draw=figures))
    across = synthesis(numbering, ranked, source, lang, t, sample.threshold, draw=figures)
    profile = [item for item in results.items if item.domain is None]
    appendix_tables = [table for item in profile for table in (
        number_tables(numbering, item, results, lang, t) if item.type == "number"
        else item_tables(numbering, item, results, lang, t))]
    overall_tables = [overall_table(numbering, item, lang, t) for item in results.items
                      if item.type != "number"]
    all_tables = [*([region_table] if region_table else []),
                  *([chains.table] if chains.table else []),
                  *(tb for d in domains for tb in d.tables),
                  *([across.table] if across.table else []), *appendix_tables, *overall_tables]
    all_figures = [*([region_figure] if region_figure else []), *chains.figures,
                   *(f for d in domains for f in d.figures),
                   *([across.figure] if across.figure else [])]
    settings = project.settings.project
    authors_text = formats.join_list(settings.authors, lang)
    day = today or date.today()
    number = f" ({t['research_report']} {settings.report_number})" if settings.report_number else ""
    # APA: without authors the title takes the authors' place.
    cited = formats.join_list(settings.authors, lang, "&" if lang == "en" else None)
    citation = (f"{cited} ({day.year}). {settings.title}{number}." if authors_text
                else f"{settings.title}{number}. ({day.year}).")
    domain_titles = [questionnaire.text(d.title, lang).lower() for d in questionnaire.domains]
    prov = results.provenance
    # Answers and texts may carry characters XML forbids: clean them once, for every format.
    return printable_context(ReportContext(
        lang=lang,
        t=t,
        project=ProjectInfo(settings.title, settings.report_number, list(settings.authors),
                            authors_text, citation),
        sample=sample,
        glance=Glance(
            headline=text["headline"], why=text["why"], found=text["found"],
            facts=_facts(results, across.practices, lang, t),
            means=text["means"], contact=text["contact"],
            did=_did(results, sample, lang, t),
        ),
        region_table=region_table,
        region_figure=region_figure,
        chains=chains,
        sample_refs=(sentence(t["sample_refs"], t, lang, [region_table, region_figure],
                              appendix=t["ref_appendix"].format(n=t["appendix_b"]))
                     if region_table and region_figure else
                     sentence(t["sample_refs_profile"], t, lang,
                              appendix=t["ref_appendix"].format(n=t["appendix_b"]))),
        domains=domains,
        synthesis=across,
        questionnaire=questionnaire_info(questionnaire, lang, t),
        appendix_tables=appendix_tables,
        item_tables=overall_tables,
        tables=all_tables,
        figures=all_figures,
        text=text,
        provenance=ProvenanceInfo(
            f"{prov.questionnaire_id} {prov.questionnaire_version}", prov.data_sha256,
            prov.tool_version, prov.generated_at,
            ", ".join(f"{name} {version}" for name, version in sorted(prov.libraries.items())),
            _settings_lines(prov.settings), prov.monte_carlo_resamples),
        instrument_text=t["instrument_text"].format(
            qid=prov.questionnaire_id, version=prov.questionnaire_version,
            domains=formats.join_list(domain_titles, lang)),
        rendered_on=formats.month_year(day, lang),
        generated_line=t["generated"].format(version=prov.tool_version,
                                             sha=prov.data_sha256[:12], date=day.isoformat()),
    ))


def read_author_texts(folder: Path, lang: str, t: dict[str, str]) -> dict[str, Passage]:
    """Every ``text/*.md`` as a :class:`Passage`, with a marked placeholder for each missing one.

    ``text/why.fr.md`` is used for French when it exists, else ``text/why.md``.
    Raw HTML in the Markdown is escaped, not passed through.
    """
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False})
    keys = set(AUTHOR_TEXTS)
    if folder.is_dir():
        keys |= {p.name.split(".")[0] for p in folder.glob("*.md")}
    passages: dict[str, Passage] = {}
    for key in sorted(keys):
        candidates = [folder / f"{key}.{lang}.md", folder / f"{key}.md"]
        found = next((p for p in candidates if p.is_file()), None)
        if found is None:
            shown = f"text/{key}.md"
            note = f"[{t['placeholder']} {shown}]"
            passages[key] = Passage(key, shown, f"*{note}*",
                                    Markup('<p class="placeholder">{}</p>').format(note), True)
            continue
        source = found.read_text(encoding="utf-8").strip()
        passages[key] = Passage(key, f"text/{found.name}", source,
                                Markup(md.render(source)), False)
    return passages


# --------------------------------------------------------------------------- helpers


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value[:10]) if value else None


def _sample(results: Results, lang: str, t: dict[str, str]) -> SampleInfo:
    s = results.sample
    regions = [RegionShare(region_name(r.label, lang), r.count, formats.percent(r.pct, lang))
               for r in s.by_region]
    first, last = _date(s.fielding.first_submitted_at), _date(s.fielding.last_submitted_at)
    reasons = [f"{t.get('reason_' + reason, reason)} ({formats.number(n, lang)})"
               for reason, n in s.exclusions.items() if n]
    threshold = int(results.provenance.settings.get("disclosure", {}).get("threshold", 5))
    return SampleInfo(
        n_included=s.n_included, n_countries=s.n_countries, n_regions=s.n_regions,
        regions=regions,
        regions_text=formats.join_list([f"{r.label} ({r.pct})" for r in regions], lang),
        period=formats.period(first, last, lang), first_submitted=first, last_submitted=last,
        exclusions=dict(s.exclusions),
        exclusions_text=(t["exclusions"].format(list=formats.join_list(reasons, lang))
                         if reasons else t["exclusions_none"]),
        threshold=threshold, notes=in_language(s.notes, lang, namer(results, lang, t)),
    )


def _region_table(numbering: Numbering, sample: SampleInfo, t: dict[str, str],
                  lang: str) -> Table:
    rows = [TableRow(r.label, [formats.number(r.count, lang), r.pct]) for r in sample.regions]
    rows.append(TableRow(t["total"], [formats.number(sample.n_included, lang), ""]))
    number = numbering.table()
    return Table(number, f"table-{number}", t["figure_regions"],
                 [t["region"], t["respondents"], t["percent"]], rows)


def _region_figure(numbering: Numbering, sample: SampleInfo, t: dict[str, str], lang: str, *,
                   draw: bool) -> Figure:
    labels = [r.label for r in sample.regions]
    values = [r.count for r in sample.regions]
    printed = [formats.number(v, lang) for v in values]
    chart = Chart("bars", labels, [Series("", [float(v) for v in values], printed)],
                  axis=t["respondents"])
    alt = t["figure_regions_alt"].format(
        list=formats.join_list([f"{label} {n}" for label, n in zip(labels, printed, strict=True)],
                               lang))
    number = numbering.figure()
    svg = Markup("")
    if draw:
        from consult.report.figures import svg as draw_svg

        svg = draw_svg(chart, t["figure_regions"], alt, salt=f"figure-{number}")
    return Figure(number, f"figure-{number}", t["figure_regions"], alt, svg, labels,
                  [float(v) for v in values], chart)


def _did(results: Results, sample: SampleInfo, lang: str, t: dict[str, str]) -> list[str]:
    """*What we did*: only what the data show, for any questionnaire.

    Snowball sampling is claimed only when results.json rebuilt referral chains;
    countries and regions are left out when no respondent's country is known
    (a questionnaire without a country item).
    """
    did = [t["did_intro"] if results.chains.available else t["did_intro_plain"]]
    n = formats.number(sample.n_included, lang)
    if sample.n_countries:
        countries = (t["country_1"] if sample.n_countries == 1
                     else t["countries_n"].format(n=formats.number(sample.n_countries, lang)))
        did.append(t["did_total"].format(n=n, countries=countries, period=sample.period))
    else:
        did.append(t["did_total_plain"].format(n=n, period=sample.period))
    if sample.n_regions:
        did.append(t["did_regions"].format(regions=sample.regions_text))
    return did


def _facts(results: Results, ranked: list[Practice], lang: str, t: dict[str, str]) -> list[str]:
    """Key figures for *What we found*: the top practice, the most and least agreed statements."""
    facts = []
    if ranked:
        top = ranked[0]
        facts.append(t["fact_practice"].format(label=top.label, domain=top.domain,
                                               n=formats.number(top.n_respondents, lang),
                                               origin=practice_origin(top, lang, t)))
    agreed = [(float(i.overall.likert.pct_agree), i) for i in results.items
              if i.domain and i.overall.likert and i.overall.likert.pct_agree is not None]
    if agreed:
        most, least = max(agreed, key=lambda a: a[0]), min(agreed, key=lambda a: a[0])
        for _, item in [most] if most is least else [most, least]:
            likert = item.overall.likert
            assert likert is not None
            facts.append(t["fact_agree"].format(pct=formats.percent(likert.pct_agree, lang),
                                                label=item_label(item, lang).rstrip(".")))
    return facts


def _settings_lines(settings: dict[str, object], prefix: str = "") -> list[str]:
    """``{"disclosure": {"threshold": 5}}`` → ``["disclosure.threshold = 5"]``."""
    lines = []
    for key, value in sorted(settings.items()):
        if isinstance(value, dict):
            lines += _settings_lines(value, f"{prefix}{key}.")
        else:
            shown = ", ".join(map(str, value)) if isinstance(value, list) else value
            lines.append(f"{prefix}{key} = {shown}")
    return lines
