"""The template context: everything a report template may use, built from results.json.

Templates see the fields of :class:`ReportContext` as top-level names
(``sample``, ``glance``, ``domains``, ``tables`` ...); docs/report-context.md
describes each one. The context is made from results.json, the project's
settings, its questionnaire (for domain titles) and the authors' ``text/*.md``
only: it never reads the database and never runs analysis. Numbers are
formatted here, once, in the report's language; a count withheld by disclosure
control stays withheld (its ``display``, ``<5`` or ``x``, is printed instead).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from markupsafe import Markup

from consult.errors import ConsultError
from consult.project import Project
from consult.questionnaire import Questionnaire, load_questionnaire
from consult.report import formats
from consult.report.strings import LANGUAGES, strings_for
from consult.results import ItemResult, Results
from consult.results.model import CrossTable, StatTest

# Author passages the shipped templates ask for; any other text/*.md is available too.
AUTHOR_TEXTS = ("headline", "why", "found", "means", "contact", "acknowledgements", "summary",
                "introduction", "discussion")


@dataclass(frozen=True)
class Passage:
    """An author's paragraph(s) from ``text/<key>.md`` (or ``text/<key>.<lang>.md``)."""

    key: str
    file: str
    markdown: str
    html: Markup
    missing: bool


@dataclass(frozen=True)
class RegionShare:
    """One region of the sample, formatted: ``North America (45.7%)``."""

    label: str
    count: int
    pct: str


@dataclass(frozen=True)
class TableRow:
    """One row of a numbered table: a label and one printed cell per column."""

    label: str
    cells: list[str]


@dataclass(frozen=True)
class Table:
    """A numbered table (``number`` counts from 1 across the whole report)."""

    number: int
    anchor: str
    title: str
    header: list[str]
    rows: list[TableRow]
    tests: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Figure:
    """A numbered figure; ``svg`` is inline SVG markup or empty when figures are off."""

    number: int
    anchor: str
    title: str
    alt: str
    svg: Markup
    labels: list[str]
    values: list[int]


@dataclass(frozen=True)
class DomainSection:
    """The results of one questionnaire domain: its title, introduction and tables."""

    id: str
    title: str
    intro: str
    tables: list[Table]


@dataclass(frozen=True)
class ProjectInfo:
    """``[project]`` settings as the report prints them."""

    title: str
    report_number: str
    authors: list[str]
    authors_text: str
    citation: str


@dataclass(frozen=True)
class SampleInfo:
    """Who answered, formatted."""

    n_included: int
    n_countries: int
    n_regions: int
    regions: list[RegionShare]
    regions_text: str
    period: str
    first_submitted: date | None
    last_submitted: date | None
    exclusions: dict[str, int]
    exclusions_text: str
    threshold: int
    notes: list[str]


@dataclass(frozen=True)
class Glance:
    """The one-page "Research at a glance"."""

    headline: Passage
    why: Passage
    did: list[str]
    found: Passage
    means: Passage
    contact: Passage


@dataclass(frozen=True)
class ProvenanceInfo:
    """Where the numbers come from, printed in every report."""

    questionnaire: str
    data_sha256: str
    tool_version: str
    generated_at: str


@dataclass(frozen=True)
class ReportContext:
    """The whole template context (see docs/report-context.md)."""

    lang: str
    t: dict[str, str]
    project: ProjectInfo
    sample: SampleInfo
    glance: Glance
    domains: list[DomainSection]
    appendix_tables: list[Table]
    tables: list[Table]
    figures: list[Figure]
    text: dict[str, Passage]
    provenance: ProvenanceInfo
    instrument_text: str
    rendered_on: str
    generated_line: str

    def as_dict(self) -> dict[str, object]:
        """The fields as template variables (not recursive: nested objects keep attributes)."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def build_context(project: Project, results: Results, lang: str, *,
                  today: date | None = None, figures: bool = False) -> ReportContext:
    """Build the context of ``results`` in ``lang`` (``en`` or ``fr``).

    ``figures`` draws the figures as inline SVG (imports matplotlib); without
    it each figure is described but ``svg`` is empty.
    """
    if lang not in LANGUAGES:
        raise ConsultError(f"--lang {lang}: reports are written in {', '.join(LANGUAGES)} only")
    t = strings_for(lang)
    questionnaire = load_questionnaire(project.questionnaire_path)
    text = read_author_texts(project.root / "text", lang, t)
    sample = _sample(results, lang, t)
    counter = _Counter()
    region_table = _region_table(counter, sample, t, lang)
    figure_list = [_region_figure(sample, t, lang, draw=figures)]
    domains = [_domain(counter, questionnaire, results, d.id, lang, t)
               for d in questionnaire.domains]
    appendix = [_item_tables(counter, item, lang, t) for item in results.items
                if item.domain is None and item.type != "number"]
    appendix_tables = [table for tables in appendix for table in tables]
    all_tables = [region_table, *(tb for d in domains for tb in d.tables), *appendix_tables]
    settings = project.settings.project
    authors_text = formats.join_list(settings.authors, lang)
    day = today or date.today()
    number = f" ({t['research_report']} {settings.report_number})" if settings.report_number else ""
    # APA: without authors the title takes the authors' place.
    cited = formats.join_list(settings.authors, lang, "&" if lang == "en" else None)
    citation = (f"{cited} ({day.year}). {settings.title}{number}." if authors_text
                else f"{settings.title}{number}. ({day.year}).")
    prov = results.provenance
    domain_titles = [questionnaire.text(d.title, lang).lower() for d in questionnaire.domains]
    return ReportContext(
        lang=lang,
        t=t,
        project=ProjectInfo(settings.title, settings.report_number, list(settings.authors),
                            authors_text, citation),
        sample=sample,
        glance=Glance(
            headline=text["headline"], why=text["why"], found=text["found"],
            means=text["means"], contact=text["contact"],
            did=[t["did_intro"],
                 t["did_total"].format(n=formats.number(sample.n_included, lang),
                                       countries=formats.number(sample.n_countries, lang),
                                       period=sample.period),
                 t["did_regions"].format(regions=sample.regions_text)],
        ),
        domains=domains,
        appendix_tables=appendix_tables,
        tables=all_tables,
        figures=figure_list,
        text=text,
        provenance=ProvenanceInfo(f"{prov.questionnaire_id} {prov.questionnaire_version}",
                                  prov.data_sha256, prov.tool_version, prov.generated_at),
        instrument_text=t["instrument_text"].format(
            qid=prov.questionnaire_id, version=prov.questionnaire_version,
            domains=formats.join_list(domain_titles, lang)),
        rendered_on=formats.month_year(day, lang),
        generated_line=t["generated"].format(version=prov.tool_version,
                                             sha=prov.data_sha256[:12], date=day.isoformat()),
    )


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


class _Counter:
    """Numbers tables in the order they are made."""

    def __init__(self) -> None:
        self.tables = 0

    def next_table(self) -> int:
        self.tables += 1
        return self.tables


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value[:10]) if value else None


def _sample(results: Results, lang: str, t: dict[str, str]) -> SampleInfo:
    s = results.sample
    regions = [RegionShare(r.label, r.count, formats.percent(r.pct, lang)) for r in s.by_region]
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
        threshold=threshold, notes=list(s.notes),
    )


def _region_table(counter: _Counter, sample: SampleInfo, t: dict[str, str], lang: str) -> Table:
    rows = [TableRow(r.label, [formats.number(r.count, lang), r.pct]) for r in sample.regions]
    rows.append(TableRow("Total", [formats.number(sample.n_included, lang), ""]))
    number = counter.next_table()
    return Table(number, f"table-{number}", t["figure_regions"],
                 [t["region"], t["respondents"], t["percent"]], rows)


def _region_figure(sample: SampleInfo, t: dict[str, str], lang: str, *, draw: bool) -> Figure:
    labels = [r.label for r in sample.regions]
    values = [r.count for r in sample.regions]
    alt = t["figure_regions_alt"].format(
        list=formats.join_list([f"{r.label} {formats.number(r.count, lang)}"
                                for r in sample.regions], lang))
    svg = Markup("")
    if draw:
        from consult.report.figures import bar_chart_svg

        svg = bar_chart_svg(labels, values, t["figure_regions"], alt)
    return Figure(1, "figure-1", t["figure_regions"], alt, svg, labels, values)


def _domain(counter: _Counter, questionnaire: Questionnaire, results: Results, domain_id: str,
            lang: str, t: dict[str, str]) -> DomainSection:
    domain = next(d for d in questionnaire.domains if d.id == domain_id)
    tables = [table for item in results.items if item.domain == domain_id
              and item.type != "number" for table in _item_tables(counter, item, lang, t)]
    return DomainSection(domain.id, questionnaire.text(domain.title, lang),
                         questionnaire.text(domain.intro, lang), tables)


def _item_tables(counter: _Counter, item: ItemResult, lang: str,
                 t: dict[str, str]) -> list[Table]:
    labels = {c.code: c.label.get(lang) or next(iter(c.label.values()), c.code)
              for c in item.choices}
    labels["(missing)"] = t["missing"]
    question = item.label.get(lang) or next(iter(item.label.values()), item.item_id)
    tables = []
    for grouping, cross in item.by.items():
        number = counter.next_table()
        title = f"{question} ({t['by']} {t.get('grouping_' + grouping, grouping)})"
        tables.append(Table(number, f"table-{number}", title,
                            *_cross_rows(item, cross, labels, lang, t),
                            tests=[_apa(test, labels, lang, t) for test in cross.tests],
                            notes=list(cross.notes)))
    return tables


def _cross_rows(item: ItemResult, cross: CrossTable, labels: dict[str, str], lang: str,
                t: dict[str, str]) -> tuple[list[str], list[TableRow]]:
    special = {"(other)": t["other"], "(not stated)": t["not_stated"]}
    header = [t["answer"]]
    header += [f"{special.get(g.key, g.label)} ({t['n']} = {formats.number(g.n_applied, lang)})"
               for g in cross.groups]
    header.append(f"{t['overall']} ({t['n']} = {formats.number(item.overall.n_applied, lang)})")
    overall = {row.code: row for row in item.overall.rows}
    cells = {(c.group, c.code): c for c in cross.cells}
    rows = []
    for row in item.overall.rows:
        printed = []
        for group in cross.groups:
            cell = cells.get((group.key, row.code))
            if cell is None:
                printed.append("–")
            elif cell.count is None or cell.pct_answered is None:
                printed.append(cell.display)
            else:
                printed.append(f"{cell.display} ({formats.percent(cell.pct_answered, lang)})")
        whole = overall[row.code]
        printed.append(f"{formats.number(whole.count, lang)}"
                       + (f" ({formats.percent(whole.pct_answered, lang)})"
                          if whole.pct_answered is not None else ""))
        rows.append(TableRow(labels.get(row.code, row.code), printed))
    return header, rows


def _apa(test: StatTest, labels: dict[str, str], lang: str, t: dict[str, str]) -> str:
    """One test in APA style: ``χ²(3, N = 80) = 7.81, p = .050``."""
    n = formats.number(test.n, lang)
    dof = formats.number(test.dof, lang, 0) if test.dof is not None else "?"
    stat = formats.number(test.statistic, lang, 2)
    p = formats.p_value(test.p_value, lang)
    if test.test == "fisher_exact":
        text = f"{t['fisher_exact']}, N = {n}, {p}"
    elif test.test == "kruskal_wallis":
        text = f"H({dof}, N = {n}) = {stat}, {p}"
    else:
        text = f"χ²({dof}, N = {n}) = {stat}, {p}"
        if test.test == "monte_carlo_chi2":
            text += f" ({t['monte_carlo'].format(resamples=formats.number(test.resamples, lang))})"
    if test.p_holm is not None:
        text += "; " + formats.p_value(test.p_holm, lang).replace("p ", "p (Holm) ", 1)
    if test.choice is not None:
        text = f"{labels.get(test.choice, test.choice)}: {text}"
    return text
