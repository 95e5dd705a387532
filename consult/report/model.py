"""The template context as frozen dataclasses: every name a report template can use.

Each field carries a docstring (the string right below it); ``python -m
consult.report.reference`` turns them into docs/report-context.md, and a test
checks that the checked-in file is up to date. Numbers here are already
formatted in the report's language, except counts kept as integers for
arithmetic in templates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from markupsafe import Markup

from consult.report.figures import Chart

if TYPE_CHECKING:
    from consult.report.chains import ChainSection
    from consult.report.figures import Drawing


@dataclass(frozen=True)
class Passage:
    """An author's paragraph(s) from ``text/<key>.md`` (or ``text/<key>.<lang>.md``)."""

    key: str
    """the name (`why`)"""
    file: str
    """the file it came from (`text/why.fr.md`) or would come from"""
    markdown: str
    """the text as written (for Markdown output); a placeholder when missing"""
    html: Markup
    """the text as HTML (raw HTML escaped); a marked placeholder when missing"""
    missing: bool
    """`true` while the author has not written it"""


@dataclass(frozen=True)
class Sentence:
    """A generated sentence that may refer to numbered tables and figures."""

    text: str
    """plain text (Markdown and Word): "… (see Table 3 and Figure 2)." """
    html: Markup
    """the same with each reference a link (`<a href="#table-3">Table 3</a>`)"""


@dataclass(frozen=True)
class RegionShare:
    """One region of the sample, formatted: ``North America (45.7%)``."""

    label: str
    """the region's name in the report's language"""
    count: int
    """respondents (an integer)"""
    pct: str
    """percent of the included respondents, formatted (`45.7%` / `45,7 %`)"""


@dataclass(frozen=True)
class TableRow:
    """One row of a numbered table: a label and one printed cell per column."""

    label: str
    """the row's label (an answer in the report's language, a region …)"""
    cells: list[str]
    """printed cells: `12 (33.3%)`, `<5` or `x` when withheld, `0` …"""


@dataclass(frozen=True)
class Table:
    """A numbered table (``number`` counts from 1 across the whole report)."""

    number: int
    """1, 2, … across the whole report, in reading order"""
    anchor: str
    """`table-N`, the HTML id for cross-references"""
    title: str
    """the caption after "Table N." """
    header: list[str]
    """column headings (answer, each group with its n, overall)"""
    rows: list[TableRow]
    """the rows"""
    tests: list[str] = field(default_factory=list)
    """the tests in APA style ("χ²(2, N = 79) = 0.81, p = .668; p (Holm) = 1.000")"""
    notes: list[str] = field(default_factory=list)
    """notes from results.json (merged groups, suppression)"""


@dataclass(frozen=True)
class Figure:
    """A numbered figure; ``svg`` is inline SVG markup, empty when figures are not drawn."""

    number: int
    """1, 2, … across the whole report, in reading order"""
    anchor: str
    """`figure-N`, the HTML id for cross-references"""
    title: str
    """the caption after "Figure N." """
    alt: str
    """alt text listing every value drawn"""
    svg: Markup
    """inline SVG (HTML and PDF) with `role="img"` and the alt text; empty for Markdown"""
    labels: list[str]
    """one label per mark drawn (a region, or "region: answer")"""
    values: Sequence[float | None]
    """the value of each mark; `None` where a withheld count is not drawn"""
    chart: Chart | None = None
    """what is drawn (kind, categories, series), from which Word gets a PNG"""
    drawing: Drawing | None = None
    """for a figure drawn without a `Chart`: the function drawing it on a matplotlib figure
    (`consult.report.figures.drawing_svg`), so that Word gets a PNG too"""


@dataclass(frozen=True)
class Quote:
    """A respondent's words, redacted, attributed only by region and role."""

    text: str
    """the quote (redacted in results.json; escaped in HTML)"""
    attribution: str
    """"Region, role" in the report's language (`Oceania, custodial`)"""


@dataclass(frozen=True)
class Support:
    """How many respondents of one region cite a practice; small counts stay withheld."""

    label: str
    """the region in the report's language"""
    display: str
    """the count as printed: a number, `<5` or `x`"""


@dataclass(frozen=True)
class Practice:
    """A candidate best practice: a theme of an open question, with its support and quotes."""

    rank: int
    """rank across all domains (1 for the most widely cited)"""
    label: str
    """the theme's name (from themes.yaml or its keywords)"""
    domain_id: str
    """the domain it belongs to (`training`), `""` outside a domain"""
    domain: str
    """the domain's title in the report's language"""
    item_id: str
    """the open question it comes from"""
    n_respondents: int
    """respondents citing it (never below the small-cell threshold: smaller ones are left out)"""
    n_countries: int
    """countries those respondents come from"""
    n_regions: int
    """regions they come from"""
    support: str
    """"cited by 24 respondents from 9 countries and 4 regions" """
    by_region: list[Support]
    """respondents citing it in each region"""
    quotes: list[Quote]
    """2–3 quotes, attributed "Region, role" """
    marked: bool
    """the authors marked it as a best practice in themes.yaml"""


@dataclass(frozen=True)
class DomainSection:
    """The results of one questionnaire domain."""

    id: str
    """the domain id (`accommodation`)"""
    title: str
    """the domain's title in the report's language"""
    intro: str
    """its introduction in the report's language, or `""`"""
    findings: list[Sentence]
    """generated sentences about its key items, each referring to its tables and figures"""
    tables: list[Table]
    """each closed item crossed by each grouping"""
    figures: list[Figure]
    """its key items by region and role (single-choice answers, Likert agreement)"""
    practice_question: str
    """the open question asking for a practice, `""` when the domain has none"""
    practices: list[Practice]
    """its candidate best practices, most widely cited first"""
    practices_note: str
    """the sentence introducing them, or saying why there are none"""


@dataclass(frozen=True)
class Synthesis:
    """Candidate best practices ranked across all domains."""

    practices: list[Practice]
    """every candidate, most widely cited first"""
    findings: list[Sentence]
    """"“Staff awareness training” (Staff training and awareness) was the practice cited most
    often …" """
    ranking: str
    """how the candidates are ranked, in words"""
    source: str
    """`best_practices` (results.json's ranking), `themes` (ranked from the themes) or `none`"""
    table: Table | None
    """the ranking as a numbered table, `None` without candidates"""
    figure: Figure | None
    """respondents citing each candidate, `None` without candidates"""


@dataclass(frozen=True)
class QuestionnaireItem:
    """One question as the respondents saw it."""

    number: int
    """its number through the whole questionnaire"""
    id: str
    """the item id"""
    label: str
    """the question in the report's language"""
    kind: str
    """what kind of answer it takes, in words ("Select all that apply")"""
    help: str
    """its help text, or `""`"""
    condition: str
    """when it is asked ("Asked only if question 21 is “Yes”."), or `""`"""
    choices: list[str]
    """its choices in the report's language (with "Other (please specify)")"""


@dataclass(frozen=True)
class QuestionnaireSection:
    """The respondent profile or one domain of the questionnaire."""

    id: str
    """`profile` or the domain id"""
    title: str
    """its title in the report's language"""
    intro: str
    """its introduction, or `""`"""
    items: list[QuestionnaireItem]
    """its questions"""


@dataclass(frozen=True)
class QuestionnaireInfo:
    """The instrument, for Appendix A."""

    id: str
    """`r361`"""
    version: str
    """`1.0`"""
    title: str
    """its title in the report's language"""
    description: str
    """its description, or `""`"""
    meta: str
    """"Questionnaire r361, version 1.0." """
    sections: list[QuestionnaireSection]
    """the profile, then each domain"""


@dataclass(frozen=True)
class ProjectInfo:
    """``[project]`` settings as the report prints them."""

    title: str
    """`[project] title`"""
    report_number: str
    """`[project] report_number` (e.g. `R-361`), or `""`"""
    authors: list[str]
    """`[project] authors`, a list"""
    authors_text: str
    """the authors as a phrase ("A, B, and C")"""
    citation: str
    """APA reference: "Axford, M., Stys, Y., & McEachran, R. (2015). Title (Research Report
    R-361)." """


@dataclass(frozen=True)
class SampleInfo:
    """Who answered, formatted."""

    n_included: int
    """respondents included in the analysis (an integer)"""
    n_countries: int
    """countries they come from"""
    n_regions: int
    """regions they come from"""
    regions: list[RegionShare]
    """the regions, largest first"""
    regions_text: str
    """"North America (45.7%), Oceania (41.9%), Europe (8.6%), and Asia (3.7%)" """
    period: str
    """"between September and November 2014" """
    first_submitted: date | None
    """the first included response's date, or `None`"""
    last_submitted: date | None
    """the last included response's date, or `None`"""
    exclusions: dict[str, int]
    """excluded responses by reason"""
    exclusions_text: str
    """the sentence about exclusions"""
    threshold: int
    """the small-cell threshold of `[disclosure]`"""
    notes: list[str]
    """sentences from results.json's `sample.notes`"""


@dataclass(frozen=True)
class Glance:
    """The one-page "Research at a glance"."""

    headline: Passage
    """`text/headline.md`: the one-sentence headline"""
    why: Passage
    """`text/why.md`: Why we did this study"""
    did: list[str]
    """the generated sentences of *What we did*: how the answers were collected (snowball
    sampling only when results.json has referral chains), how many answered (from how many
    countries, when countries are known) and when, and the regions they represented (left out
    when no region is known)"""
    found: Passage
    """`text/found.md`: What we found"""
    facts: list[str]
    """the key figures printed under *What we found*, computed from results.json: the practice
    cited most often, the statements with the most and the least agreement"""
    means: Passage
    """`text/means.md`: What it means"""
    contact: Passage
    """`text/contact.md`: For more information, after the citation"""


@dataclass(frozen=True)
class ProvenanceInfo:
    """Where the numbers come from: results.json's provenance block, printed in every report."""

    questionnaire: str
    """"r361 1.0" """
    data_sha256: str
    """results.json's `provenance.data_sha256`"""
    tool_version: str
    """consult version that wrote results.json"""
    generated_at: str
    """when results.json was written"""
    libraries: str
    """"pandas 2.3.3, pingouin 0.7.0, scipy 1.17.1" """
    settings: list[str]
    """the settings that shape the numbers, one `section.key = value` a line"""
    monte_carlo_resamples: int
    """tables drawn for a Monte Carlo p-value"""


@dataclass(frozen=True)
class ReportContext:
    """The whole template context: each field is a top-level name in templates."""

    lang: str
    """the report's language, `en` or `fr`"""
    t: dict[str, str]
    """fixed wording in `lang` (`t.why`, `t.table` …; see `consult/report/strings.py`)"""
    project: ProjectInfo
    """`[project]` settings"""
    sample: SampleInfo
    """who answered"""
    glance: Glance
    """the parts of Research at a glance"""
    region_table: Table | None
    """Table 1: respondents by region; `None` when no respondent's region is known (a
    questionnaire without a country item)"""
    region_figure: Figure | None
    """Figure 1: respondents by region; `None` as for `region_table`"""
    sample_refs: Sentence
    """"Respondents by region are shown in Table 1 and Figure 1; the respondent profile is in
    Appendix B." """
    domains: list[DomainSection]
    """the results, one section per questionnaire domain"""
    synthesis: Synthesis
    """candidate best practices ranked across domains"""
    questionnaire: QuestionnaireInfo
    """the instrument, for Appendix A"""
    appendix_tables: list[Table]
    """Appendix B: tables of the respondent profile (role, responsibility, experience …)"""
    item_tables: list[Table]
    """Appendix B: every closed item over all respondents, with confidence intervals"""
    tables: list[Table]
    """every table in reading order (Table 1 is respondents by region)"""
    figures: list[Figure]
    """every figure in reading order (Figure 1 is respondents by region)"""
    text: dict[str, Passage]
    """every author passage by name (`text.why`, `text.discussion` …)"""
    provenance: ProvenanceInfo
    """where the numbers come from"""
    instrument_text: str
    """"The questionnaire (r361, version 1.0) covered …" """
    rendered_on: str
    """month and year of rendering ("March 2015"), for the cover"""
    generated_line: str
    """the footer: tool version, data hash, date"""
    chains: ChainSection | None = None
    """the referral chains of the method section (`consult/report/chains.py`): sentences, the
    figures by wave and the table of recruitments between regions"""

    def as_dict(self) -> dict[str, object]:
        """The fields as template variables (not recursive: nested objects keep attributes)."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}
