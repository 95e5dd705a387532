"""The results model: what results.json holds, as frozen pydantic models.

This is the one hand-over between analysis and reports. The JSON Schema in
``schema.json`` is generated from these models (``python -m
consult.results.schema``) and docs/results.md describes every field. Raise
``SCHEMA_VERSION`` on any change a reader would notice: a new required field,
a renamed one, a changed meaning.

Conventions: counts are integers; a count that disclosure control withholds is
``null`` and its ``display`` says why ("<5" for a primary suppression, "x"
for a secondary one); percentages are strings as printed ("45.7", no per cent
sign) with a ``share`` float (0-1) beside them for charts; floats are written
with at most 10 significant digits.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION: Literal["1.0"] = "1.0"

Share = Annotated[float, Field(ge=0, le=1)]
Count = Annotated[int, Field(ge=0)]
Pct = Annotated[str, Field(pattern=r"^\d{1,3}(\.\d{1,3})?$")]
Suppression = Literal["primary", "secondary"]
Kind = Literal["answer", "dont_know", "missing"]
TestName = Literal["chi2", "fisher_exact", "monte_carlo_chi2", "kruskal_wallis"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_serialization_defaults_required=True)


class Provenance(_Model):
    """Where the results come from: enough to reproduce them."""

    questionnaire_id: str = Field(description="The instrument's id (`r361`).")
    questionnaire_version: str = Field(description="The instrument's version.")
    data_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] = Field(
        description="SHA-256 of the included respondents and their answers in canonical form "
                    "(see docs/results.md): the same data on SQLite or PostgreSQL gives the same hash.")
    settings: dict[str, Any] = Field(
        description="The settings that shape the numbers: [analysis], [disclosure], [regions] and "
                    "[ingest] as in consult.toml (never [database] or [smtp]).")
    tool: Literal["consult"] = "consult"
    tool_version: str = Field(description="consult.__version__.")
    libraries: dict[str, str] = Field(description="Versions of pandas, scipy and pingouin.")
    monte_carlo_resamples: int = Field(description="Tables drawn for a Monte-Carlo p-value.")
    generated_at: str = Field(description="When the file was written (ISO 8601, UTC); the only "
                                          "part that differs between two runs on the same data.")


class CountRow(_Model):
    """One row of a one-way distribution of the respondents (region, role ...)."""

    key: str = Field(description="The region name or choice code; `(not stated)` for no answer.")
    label: str = Field(description="What a report prints.")
    count: Count
    pct: Pct | None = Field(description="Percent of the included respondents, as printed.")
    share: Share | None
    below_threshold: bool = Field(
        description="Fewer respondents than [disclosure] threshold: the group is merged or left out "
                    "in crossed tables.")


class CountryRow(_Model):
    """One country of the sample; small counts are suppressed."""

    country_iso3: str
    name: str
    region: str
    count: Count | None = Field(description="`null` when suppressed.")
    pct: Pct | None = Field(description="Percent of the included respondents; `null` when suppressed.")
    share: Share | None
    display: str = Field(description="The count as printed: a number, `<5` or `x`.")
    suppressed: Suppression | None


class Fielding(_Model):
    """When the included responses were submitted."""

    first_submitted_at: str | None = Field(description="ISO 8601 UTC, or `null` when unknown.")
    last_submitted_at: str | None


class Sample(_Model):
    """Who answered."""

    n_included: Count = Field(description="Respondents who count (no exclusion reason).")
    n_countries: Count
    n_regions: Count
    by_region: list[CountRow] = Field(description="Largest first, then by name.")
    by_country: list[CountryRow] = Field(
        description="By region (largest first), then count, then name; suppressed so that no "
                    "count below the threshold follows from the region totals.")
    by_item: dict[str, list[CountRow]] = Field(
        description="Every single-choice profile item (role, responsibility ...), in choice order.")
    fielding: Fielding
    exclusions: dict[str, Count] = Field(
        description="Excluded responses by reason (a response may have several reasons).")
    notes: list[str]


class Choice(_Model):
    """One answer option as the questionnaire defines it."""

    code: str
    label: dict[str, str] = Field(description="The label in each language of the questionnaire.")
    dont_know: bool = False
    agree: bool = Field(False, description="A Likert code counted as agreeing.")


class AnswerRow(_Model):
    """One answer code of an item over all respondents it applied to (no suppression)."""

    code: str = Field(description="The choice code; `(missing)` for no answer.")
    kind: Kind
    count: Count
    pct_answered: Pct | None = Field(
        description="Percent of those who answered the item (don't know included); `null` for the "
                    "missing row.")
    pct_applied: Pct | None = Field(
        description="Percent of all respondents the item applied to (missing included).")
    share_answered: Share | None
    ci_low: Share | None = Field(description="Wilson 95% interval of share_answered.")
    ci_high: Share | None


class LikertSummary(_Model):
    """A Likert item's median on its scale (don't know left out) and its agreement."""

    n_substantive: Count | None = Field(
        description="Answers on the scale (don't know excluded); `null` in a group whose "
                    "don't-know count is suppressed (it would give that count away).")
    median: str | None = Field(
        description="The code of the category holding the median (the lower one when the median "
                    "falls between two).")
    median_position: float | None = Field(description="The median of positions 1..k on the scale.")
    agree_count: Count | None = Field(description="Answers with one of the item's `agree` codes.")
    pct_agree: Pct | None = Field(description="Percent of those who answered (don't know "
                                              "included) who agree.")
    share_agree: Share | None
    ci_low: Share | None = Field(description="Wilson 95% interval of share_agree.")
    ci_high: Share | None


class NumberSummary(_Model):
    """A number item's distribution (no minimum or maximum: they point at individuals)."""

    n: Count
    mean: float | None
    sd: float | None
    median: float | None
    q1: float | None
    q3: float | None


class Overall(_Model):
    """An item over every respondent it applied to."""

    n_applied: Count = Field(description="Respondents the item applied to (its `relevant` "
                                         "condition held, or it has none).")
    n_not_applicable: Count
    n_answered: Count
    n_missing: Count
    n_dont_know: Count
    rows: list[AnswerRow] = Field(description="Choice order, then `other`, don't know, missing. "
                                              "Multiple choice: one row per choice, respondents "
                                              "selecting it.")
    likert: LikertSummary | None = None
    number: NumberSummary | None = None
    notes: list[str] = []


class Group(_Model):
    """A column of a crossed table: one region, role ... or several merged."""

    key: str = Field(description="Region name, choice code, `(other)` or `(not stated)`.")
    label: str
    n_applied: Count
    n_answered: Count
    n_missing: Count
    merged_from: list[str] = Field(description="For `(other)`: the groups it gathers.")


class Cell(_Model):
    """One group × answer cell of a crossed table (tidy: one record a cell)."""

    group: str
    code: str
    kind: Kind
    count: Count | None = Field(description="`null` when suppressed.")
    display: str = Field(description="The count as printed: a number, `<5` (primary) or `x` "
                                     "(secondary suppression).")
    pct_answered: Pct | None = Field(description="Percent of the group's answers; `null` when "
                                                 "suppressed and for missing.")
    share_answered: Share | None
    ci_low: Share | None
    ci_high: Share | None
    suppressed: Suppression | None


class GroupSummary(_Model):
    """A group's Likert or number summary."""

    group: str
    likert: LikertSummary | None = None
    number: NumberSummary | None = None


class StatTest(_Model):
    """One test of association (or of location) of an item across the groups."""

    test: TestName = Field(
        description="The method whose p-value is reported.")
    choice: str | None = Field(description="Multiple choice: the choice tested (selected or not).")
    n: Count
    statistic: float | None = Field(description="X² (chi2, monte_carlo_chi2), odds ratio "
                                                "(fisher_exact) or H (kruskal_wallis).")
    p_value: float | None = Field(description="The reported p-value.")
    p_holm: float | None = Field(description="Holm-adjusted across the family: every test of the "
                                             "same grouping.")
    family_size: Count
    dof: float | None
    chi2: float | None = Field(description="Pearson X², no continuity correction.")
    p_chi2: float | None = Field(description="Asymptotic p-value of chi2.")
    cramers_v: float | None
    cells: Count | None
    expected_below_5: Count | None
    min_expected: float | None
    resamples: Count | None
    seed: int | None
    warning: str | None


class CrossTable(_Model):
    """An item crossed by one grouping, with its tests."""

    grouping: str = Field(description="`region`, `country` or a profile item id.")
    groups: list[Group]
    cells: list[Cell] = Field(description="Every group × answer code, groups in order, codes in "
                                          "the order of overall.rows.")
    summaries: list[GroupSummary] = []
    tests: list[StatTest] = []
    suppressed_primary: Count
    suppressed_secondary: Count
    notes: list[str] = []


class ItemResult(_Model):
    """Every number about one closed item."""

    item_id: str
    type: Literal["single_choice", "multiple_choice", "likert", "number"]
    domain: str | None = Field(description="The domain id; `null` for profile items.")
    label: dict[str, str]
    applies_when: str | None = Field(description="The item's `relevant` condition, as text.")
    choices: list[Choice]
    overall: Overall
    by: dict[str, CrossTable] = Field(description="One crossed table per grouping (none when the "
                                                  "groups are too small to show).")
    notes: list[str] = []


class WaveCount(_Model):
    """Respondents at one depth of the rebuilt referral trees (one-way: never suppressed)."""

    wave: Count = Field(description="The depth: 0 for the roots (seeds), n for n links below.")
    count: Count
    pct: Pct | None = Field(description="Percent of the respondents in the chains.")
    share: Share | None


class RecruitsCount(_Model):
    """Respondents who recruited a given number of others (one-way; the top is grouped)."""

    recruits: Count = Field(description="Respondents recruited; with `or_more`, this many or more.")
    or_more: bool = Field(description="The last row, gathering every count from `recruits` up "
                                      "so that no small group of prolific recruiters stands "
                                      "out.")
    count: Count
    pct: Pct | None = Field(description="Percent of the respondents in the chains.")
    share: Share | None


class ChainGroup(_Model):
    """A row or column of a referral-chain table: a region, a wave, or several merged."""

    key: str = Field(description="Region name, `(other)` or `(not stated)`; for waves the wave "
                                 "as text (`0`, `1` ...), `3+` for waves 3 and later together; "
                                 "`recruited` / `not_recruited` for the recruiters' table.")
    label: str = Field(description="What a report prints (`Other regions`, `Not stated`, `3+`).")
    total: Count | None = Field(description="The row's or column's total when it is published "
                                            "(it is then a total that suppression protects "
                                            "against); `null` when it is not given.")
    merged_from: list[str] = Field(description="The regions or waves a merged group gathers; "
                                               "empty otherwise.")


class ChainCell(_Model):
    """One cell of a referral-chain table; small counts are suppressed."""

    row: str = Field(description="The row's key.")
    column: str = Field(description="The column's key.")
    count: Count | None = Field(description="`null` when suppressed.")
    display: str = Field(description="The count as printed: a number, `<5` or `x`.")
    pct: Pct | None = Field(description="Percent of the table's base (the row's total for "
                                        "composition and recruiters, all recruitments for "
                                        "transitions); `null` when suppressed.")
    share: Share | None
    suppressed: Suppression | None


class ChainTable(_Model):
    """A two-way table of the referral chains, protected like the crossed tables."""

    rows: list[ChainGroup]
    columns: list[ChainGroup]
    cells: list[ChainCell] = Field(description="Every row × column, rows in order, then columns "
                                               "in order.")
    total: Count = Field(description="The table's grand total.")
    suppressed_primary: Count
    suppressed_secondary: Count
    notes: list[str] = []


class ChainHomophily(_Model):
    """Recruitment homophily on region, as the R package RDS reports it (recruitment = TRUE)."""

    index: float | None = Field(description="Observed ÷ expected same-region recruitments on the "
                                            "regions as shown in `transitions` (1: none; 2: "
                                            "twice chance); `null` when it cannot be computed or "
                                            "is withheld (`notes` say why).")
    observed_same: Count = Field(description="Recruitments within a region (the table's "
                                             "diagonal).")
    expected_same: float | None = Field(description="Those expected if recruits' regions were "
                                                    "independent of their recruiters': Σ r_g·c_g "
                                                    "/ T; `null` when withheld with `index`.")
    recruitments: Count = Field(description="T: recruitments with both regions known.")
    pct_same: Pct | None = Field(description="Percent of recruitments within a region.")
    share_same: Share | None
    notes: list[str] = []


class Chains(_Model):
    """Referral chains rebuilt from the respondents' codes: aggregates only, never a person.

    Every field has a default so that a results.json written before chains were
    analysed (``"chains": {}``) still reads, as not available.
    """

    available: bool = Field(False, description="`false` when no respondent carries a referral "
                                               "code (a plain export): `reason` says so and "
                                               "everything else is empty.")
    reason: str | None = Field("results.json was written before referral chains were "
                               "analysed; run consult analyze again",
                               description="Why the chains are not available; `null` when they are.")
    n_respondents: Count = Field(0, description="Included respondents in the chains (with a code "
                                                "of their own or their recruiter's).")
    n_without_code: Count = Field(0, description="Included respondents with no code at all "
                                                 "(open links): left out of the chains.")
    seeds: Count = Field(0, description="Respondents without a recruiter: the seeds.")
    roots: Count = Field(0, description="Trees: seeds, respondents whose referrer is unknown, and "
                                        "cycles broken open.")
    recruited: Count = Field(0, description="Respondents with a recruiter in the chains "
                                            "(n_respondents − roots).")
    unknown_referrer: Count = Field(0, description="Respondents whose referrer's code matches no "
                                                   "respondent: kept, as roots of their own trees.")
    cycles: Count = Field(0, description="Recruitment loops found (each broken at one point).")
    in_cycles: Count = Field(0, description="Respondents in those loops.")
    shared_code: Count = Field(0, description="Respondents whose code another respondent also "
                                              "used.")
    wave_mismatches: Count = Field(0, description="Respondents whose recorded wave differs from "
                                                  "their depth in the rebuilt tree.")
    longest_chain: Count = Field(0, description="Links from a root to the deepest respondent.")
    by_wave: list[WaveCount] = Field([], description="Respondents by depth (rebuilt wave), 0 "
                                                     "first.")
    recruits_per_seed: NumberSummary | None = Field(
        None, description="Respondents in each seed's tree besides the seed (summary only: no "
                          "seed's own count).")
    recruits_per_respondent: NumberSummary | None = Field(
        None, description="Respondents each respondent recruited directly.")
    recruits_distribution: list[RecruitsCount] = Field(
        [], description="How many respondents recruited 0, 1, 2 ... others; the last row gathers "
                        "the top so that it holds at least the threshold.")
    transitions: ChainTable | None = Field(
        None, description="Recruiter region (rows) × recruit region (columns), recruitments with "
                          "both regions known; regions below the threshold merged, small cells "
                          "suppressed. Row and column totals are not given (they would give away "
                          "the seeds of each region). `null` with fewer than two regions to show.")
    homophily: ChainHomophily | None = Field(None, description="On `transitions`; `null` with it.")
    composition: ChainTable | None = Field(
        None, description="Wave (rows) × region (columns): the regional mix of each wave, for a "
                          "convergence figure; late waves below the threshold merged.")
    recruiters_by_wave: ChainTable | None = Field(
        None, description="Wave (rows) × whether the respondent recruited anyone (`recruited`, "
                          "`not_recruited`): the branching of the trees, wave by wave.")
    notes: list[str] = Field([], description="Sentences a report may print: merges, suppression, "
                                             "unknown referrers, cycles.")


class Results(_Model):
    """The whole of results.json."""

    schema_version: Literal["1.0"] = SCHEMA_VERSION
    provenance: Provenance
    sample: Sample
    items: list[ItemResult] = Field(description="Closed items in questionnaire order.")
    chains: Chains = Field(default_factory=Chains, description="Referral chains rebuilt from "
                           "the respondents' codes (docs/results.md); `available: false` with a "
                           "reason when there are none.")
    themes: dict[str, Any] = Field(default_factory=dict, description="Themes of free-text "
                                   "answers by item id, each an ItemThemes of "
                                   "consult/results/themes.py (written by `consult themes fit`; "
                                   "docs/themes.md); empty until then.")
    best_practices: dict[str, Any] = Field(default_factory=dict,
                                           description="Recommended practices (a later issue).")

    def item(self, item_id: str) -> ItemResult:
        """The results of ``item_id``; ``KeyError`` when there are none."""
        for item in self.items:
            if item.item_id == item_id:
                return item
        raise KeyError(item_id)
