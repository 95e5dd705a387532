"""The referral chains in the method section: sentences, a table and three figures.

Everything here comes from results.json's ``chains`` section, which holds
aggregates only (no respondent, id or code; small counts withheld): the
figures draw what is published and show a withheld count as withheld, never
as a number.

- *Respondents by referral wave*: a bar per wave (``by_wave``).
- *Regional mix of each wave*: each region's share of each wave, a line per
  region (``composition``), to see whether the mix settles as waves go on.
- *Recruitment tree by wave*: the trees drawn one level a row, each row split
  by region, joined to the next by the respondents who recruited
  (``composition``, ``recruiters_by_wave``). results.json keeps no tree of
  individuals, so the tree is shown as its levels.

Figures follow consult.report.figures: Okabe-Ito colours, a hatching or
marker and line style per region (greyscale prints), a title and alt text
listing every value, deterministic SVG.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from markupsafe import Markup, escape

from consult.report import formats
from consult.report.figures import HATCHES, MARKERS, PALETTE, Chart, Series
from consult.report.model import Figure, Sentence, Table, TableRow
from consult.report.notes import in_language, namer
from consult.report.refs import Numbering, sentence
from consult.report.strings import region_name
from consult.results import Results
from consult.results.model import ChainGroup, Chains, ChainTable

if TYPE_CHECKING:
    from matplotlib.axes import Axes

OTHER, NOT_STATED = "(other)", "(not stated)"
LINE_STYLES = ("-", "--", ":", "-.")
WITHHELD_FILL = "#DDDDDD"

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "heading": "Referral chains",
        "summary": "{n} respondents are in the referral chains: {seeds} seeds and {recruited} "
                   "respondents recruited by another respondent over {waves}; the longest chain "
                   "had {links} ({see}).",
        "seeds_only": "{n} respondents are in the referral chains, all of them seeds: no "
                      "respondent recruited another.",
        "other_roots": "{k} more respondents start chains of their own: their referrer's code "
                       "matches no respondent, or their chain looped back on itself.",
        "recruits": "Each seed's chain brought a median of {median} further respondents "
                    "(interquartile range {q1} to {q3}); respondents recruited {mean} others on "
                    "average, and {none} recruited no one.",
        "recruits_no_seed": "Respondents recruited {mean} others on average.",
        "homophily": "Of the recruitments with both regions known, {pct} stayed within the "
                     "recruiter's region: a homophily index of {index}, where 1 means no more "
                     "than chance ({see}).",
        "homophily_withheld": "Of the recruitments with both regions known, {pct} stayed within "
                              "the recruiter's region ({see}); the homophily index is withheld "
                              "so that small counts cannot be worked out.",
        "composition": "The regional mix of successive waves shows whether the sample moves away "
                       "from the seeds' composition ({see}).",
        "unavailable": "The responses carry no referral codes, so no referral chains could be "
                       "rebuilt.",
        "wave": "Wave {w}",
        "wave_seeds": "Wave 0 (seeds)",
        "wave_later": "Waves {w} and later",
        "waves_one": "one wave", "waves_many": "{n} waves",
        "links_one": "one link", "links_many": "{n} links",
        "respondents": "Respondents",
        "share_axis": "Share of the wave (%)",
        "withheld": "withheld",
        "withheld_points": "Points not drawn are withheld to protect small counts.",
        "recruiters": "{k} of them recruited",
        "recruiters_withheld": "recruiters withheld",
        "figure_waves": "Respondents by referral wave",
        "figure_waves_alt": "Bar chart of respondents by referral wave: {list}.",
        "figure_mix": "Regional mix of each referral wave",
        "figure_mix_alt": "Line chart of each region's share of each referral wave: {list}.",
        "figure_tree": "Recruitment tree by wave, coloured by region",
        "figure_tree_alt": "Recruitment tree drawn one wave a row, each row split by region: "
                           "{list}.",
        "tree_row": "{wave}: {n} respondents ({parts})",
        "tree_row_plain": "{wave}: {n} respondents",
        "tree_link": "{k} of whom recruited the next wave",
        "tree_link_withheld": "how many of them recruited is withheld",
        "table_transitions": "Recruitments between regions: the recruiter's region (rows) by the "
                             "recruit's region (columns)",
        "recruiter_region": "Recruiter's region",
    },
    "fr": {
        "heading": "Chaînes de recommandation",
        "summary": "{n} répondants font partie des chaînes de recommandation : {seeds} "
                   "répondants initiaux et {recruited} répondants recrutés par un autre "
                   "répondant en {waves} ; la plus longue chaîne comptait {links} ({see}).",
        "seeds_only": "{n} répondants font partie des chaînes de recommandation, tous "
                      "répondants initiaux : aucun n’en a recruté un autre.",
        "other_roots": "{k} autres répondants commencent leur propre chaîne : le code de la "
                       "personne qui les a recommandés ne correspond à aucun répondant, ou leur "
                       "chaîne revenait sur elle-même.",
        "recruits": "La chaîne de chaque répondant initial a amené une médiane de {median} "
                    "autres répondants (écart interquartile de {q1} à {q3}) ; les répondants en "
                    "ont recruté {mean} en moyenne, et {none} n’en ont recruté aucun.",
        "recruits_no_seed": "Les répondants en ont recruté {mean} en moyenne.",
        "homophily": "Parmi les recrutements dont les deux régions sont connues, {pct} sont "
                     "restés dans la région de la personne qui recrutait : un indice "
                     "d’homophilie de {index}, où 1 correspond au hasard ({see}).",
        "homophily_withheld": "Parmi les recrutements dont les deux régions sont connues, {pct} "
                              "sont restés dans la région de la personne qui recrutait ({see}) ; "
                              "l’indice d’homophilie n’est pas publié, afin que les petits "
                              "effectifs ne puissent pas être retrouvés.",
        "composition": "La répartition régionale des vagues successives montre si l’échantillon "
                       "s’éloigne de la composition des répondants initiaux ({see}).",
        "unavailable": "Les réponses ne comportent aucun code de recommandation : aucune chaîne "
                       "de recommandation n’a pu être reconstituée.",
        "wave": "Vague {w}",
        "wave_seeds": "Vague 0 (répondants initiaux)",
        "wave_later": "Vagues {w} et suivantes",
        "waves_one": "une vague", "waves_many": "{n} vagues",
        "links_one": "un maillon", "links_many": "{n} maillons",
        "respondents": "Répondants",
        "share_axis": "Part de la vague (%)",
        "withheld": "non publié",
        "withheld_points": "Les points absents ne sont pas publiés, pour protéger les petits "
                           "effectifs.",
        "recruiters": "{k} d’entre eux ont recruté",
        "recruiters_withheld": "recruteurs non publiés",
        "figure_waves": "Répondants par vague de recommandation",
        "figure_waves_alt": "Diagramme en barres des répondants par vague de recommandation : "
                            "{list}.",
        "figure_mix": "Répartition régionale de chaque vague de recommandation",
        "figure_mix_alt": "Graphique linéaire de la part de chaque région dans chaque vague de "
                          "recommandation : {list}.",
        "figure_tree": "Arbre de recrutement par vague, en couleur selon la région",
        "figure_tree_alt": "Arbre de recrutement dessiné une vague par ligne, chaque ligne "
                           "répartie par région : {list}.",
        "tree_row": "{wave} : {n} répondants ({parts})",
        "tree_row_plain": "{wave} : {n} répondants",
        "tree_link": "dont {k} ont recruté la vague suivante",
        "tree_link_withheld": "le nombre de ceux qui ont recruté n’est pas publié",
        "table_transitions": "Recrutements entre régions : région de la personne qui recrute "
                             "(lignes) et région de la personne recrutée (colonnes)",
        "recruiter_region": "Région de la personne qui recrute",
    },
}


@dataclass(frozen=True)
class ChainSection:
    """The referral chains, for the method section (results.json's ``chains``)."""

    available: bool
    """`false` when the responses carry no referral codes"""
    heading: str
    """"Referral chains" in the report's language"""
    sentences: list[Sentence]
    """what the chains show, citing the figures and the table; the reason when not available"""
    figures: list[Figure] = field(default_factory=list)
    """respondents by wave, the regional mix of each wave, the recruitment tree by wave"""
    table: Table | None = None
    """recruitments between regions, `None` when too few regions can be shown"""
    notes: list[str] = field(default_factory=list)
    """results.json's notes on the chains (merged regions and waves, unknown referrers)"""


def chain_section(numbering: Numbering, results: Results, lang: str, t: dict[str, str], *,
                  draw: bool) -> ChainSection:
    """The chain section in ``lang``; takes its figure and table numbers from ``numbering``."""
    c = STRINGS.get(lang, STRINGS["en"])
    chains = results.chains
    if not chains.available:
        text = c["unavailable"]
        return ChainSection(False, c["heading"], [Sentence(text, escape(text))])
    regions = _region_labels(chains, lang, t)
    figures = [_waves_figure(numbering, chains, lang, c, draw=draw)]
    if chains.composition is not None:
        figures.append(_mix_figure(numbering, chains.composition, regions, lang, c, draw=draw))
    figures.append(_tree_figure(numbering, chains, regions, lang, c, draw=draw))
    table = _transitions_table(numbering, chains.transitions, regions, lang, c)

    def num(value: int) -> str:
        return formats.number(value, lang)

    waves: list[Table | Figure] = list(figures[:1])
    mix: list[Table | Figure] = list(figures[1:])
    sentences = []
    if chains.longest_chain == 0:
        sentences.append(sentence(c["seeds_only"], t, lang, n=num(chains.n_respondents)))
    else:
        sentences.append(sentence(
            c["summary"], t, lang, waves, n=num(chains.n_respondents),
            seeds=num(chains.seeds), recruited=num(chains.recruited),
            waves=_plural(c, "waves", chains.longest_chain, lang),
            links=_plural(c, "links", chains.longest_chain, lang)))
    if chains.roots > chains.seeds:
        sentences.append(sentence(c["other_roots"], t, lang, k=num(chains.roots - chains.seeds)))
    sentences += _recruit_sentences(chains, lang, t, c)
    if chains.homophily is not None and chains.homophily.recruitments and table is not None:
        h = chains.homophily
        pct = formats.percent(h.pct_same, lang)
        cited: list[Table | Figure] = [table]
        if h.index is not None:
            sentences.append(sentence(c["homophily"], t, lang, cited, pct=pct,
                                      index=formats.number(h.index, lang, 1)))
        else:
            sentences.append(sentence(c["homophily_withheld"], t, lang, cited, pct=pct))
    if chains.composition is not None and chains.longest_chain:
        sentences.append(sentence(c["composition"], t, lang, mix))
    notes = in_language(chains.notes, lang, namer(results, lang, t))
    return ChainSection(True, c["heading"], sentences, figures, table, notes)


# --------------------------------------------------------------------------- sentences


def _recruit_sentences(chains: Chains, lang: str, t: dict[str, str],
                       c: dict[str, str]) -> list[Sentence]:
    per = chains.recruits_per_respondent
    if per is None or per.mean is None or not chains.longest_chain:
        return []
    mean = formats.number(per.mean, lang, 1)
    first = chains.recruits_distribution[0] if chains.recruits_distribution else None
    seed = chains.recruits_per_seed
    if seed is None or seed.median is None or first is None or first.or_more:
        return [sentence(c["recruits_no_seed"], t, lang, mean=mean)]
    return [sentence(c["recruits"], t, lang, median=_quantity(seed.median, lang),
                     q1=_quantity(seed.q1, lang), q3=_quantity(seed.q3, lang),
                     mean=mean, none=formats.percent(first.pct, lang))]


def _quantity(value: float | None, lang: str) -> str:
    """A count as a whole number, or with one decimal when it falls between two (a median)."""
    if value is None:
        return "–"
    return formats.number(value, lang, 0 if float(value).is_integer() else 1)


def _plural(c: dict[str, str], word: str, n: int, lang: str) -> str:
    return c[f"{word}_one"] if n == 1 else c[f"{word}_many"].format(n=formats.number(n, lang))


def _wave_label(key: str, c: dict[str, str]) -> str:
    if key == "0":
        return c["wave_seeds"]
    if key.endswith("+"):
        return c["wave_later"].format(w=key[:-1])
    return c["wave"].format(w=key)


def _region_labels(chains: Chains, lang: str, t: dict[str, str]) -> dict[str, str]:
    groups: list[ChainGroup] = []
    for table in (chains.composition, chains.transitions):
        if table is not None:
            groups += table.columns
    labels = {}
    for group in groups:
        labels[group.key] = (t["other_regions"] if group.key == OTHER else
                             t["not_stated"] if group.key == NOT_STATED else
                             region_name(group.label, lang))
    return labels


# --------------------------------------------------------------------------- table


def _transitions_table(numbering: Numbering, table: ChainTable | None, regions: dict[str, str],
                       lang: str, c: dict[str, str]) -> Table | None:
    if table is None:
        return None
    display = {(cell.row, cell.column): cell.display for cell in table.cells}
    rows = [TableRow(regions[row.key],
                     [formats.number(int(display[row.key, col.key]), lang)
                      if display[row.key, col.key].isdigit() else display[row.key, col.key]
                      for col in table.columns]) for row in table.rows]
    number = numbering.table()
    return Table(number, f"table-{number}", c["table_transitions"],
                 [c["recruiter_region"], *(regions[col.key] for col in table.columns)], rows,
                 notes=in_language(table.notes, lang, lambda name: region_name(name, lang)))


# --------------------------------------------------------------------------- figures


def _waves_figure(numbering: Numbering, chains: Chains, lang: str, c: dict[str, str], *,
                  draw: bool) -> Figure:
    labels = [_wave_label(str(w.wave), c) for w in chains.by_wave]
    values: list[float | None] = [float(w.count) for w in chains.by_wave]
    printed = [formats.number(w.count, lang) for w in chains.by_wave]
    chart = Chart("bars", labels, [Series("", values, printed)], axis=c["respondents"])
    alt = c["figure_waves_alt"].format(list=formats.join_list(
        [f"{label} {p}" for label, p in zip(labels, printed, strict=True)], lang))
    number = numbering.figure()
    svg = Markup("")
    if draw:
        from consult.report.figures import svg as draw_svg

        svg = draw_svg(chart, c["figure_waves"], alt, salt=f"figure-{number}")
    return Figure(number, f"figure-{number}", c["figure_waves"], alt, svg, labels, values, chart)


def _mix_figure(numbering: Numbering, table: ChainTable, regions: dict[str, str], lang: str,
                c: dict[str, str], *, draw: bool) -> Figure:
    cell = {(x.row, x.column): x for x in table.cells}
    labels, values, parts = [], [], []
    for row in table.rows:
        shown = []
        for col in table.columns:
            x = cell[row.key, col.key]
            labels.append(formats.labelled(_wave_label(row.key, c), regions[col.key], lang))
            values.append(x.share * 100 if x.share is not None and x.count is not None else None)
            shown.append(f"{regions[col.key]} "
                         f"{formats.percent(x.pct, lang, c['withheld'] if x.count is None else '')}")
        parts.append(formats.labelled(_wave_label(row.key, c), formats.join_list(shown, lang),
                                      lang))
    alt = c["figure_mix_alt"].format(list="; ".join(parts))
    number = numbering.figure()
    svg = Markup("")
    if draw:
        svg = _svg(_draw_mix(table, regions, c), c["figure_mix"], alt, f"figure-{number}")
    return Figure(number, f"figure-{number}", c["figure_mix"], alt, svg, labels, values)


def _tree_figure(numbering: Numbering, chains: Chains, regions: dict[str, str], lang: str,
                 c: dict[str, str], *, draw: bool) -> Figure:
    rows = _tree_rows(chains)
    parts = []
    for i, row in enumerate(rows):
        wave = _wave_label(row.key, c)
        if row.parts:
            shown = [f"{regions[k]} {formats.number(v, lang) if v is not None else c['withheld']}"
                     for k, v, _ in row.parts]
            text = c["tree_row"].format(wave=wave, n=formats.number(row.total, lang),
                                        parts=formats.join_list(shown, lang))
        else:
            text = c["tree_row_plain"].format(wave=wave, n=formats.number(row.total, lang))
        if i < len(rows) - 1:
            text += ", " + (c["tree_link"].format(k=formats.number(row.recruiters, lang))
                            if row.recruiters is not None else c["tree_link_withheld"])
        parts.append(text)
    alt = c["figure_tree_alt"].format(list="; ".join(parts))
    number = numbering.figure()
    svg = Markup("")
    if draw:
        svg = _svg(_draw_tree(rows, regions, c), c["figure_tree"], alt, f"figure-{number}")
    labels = [_wave_label(row.key, c) for row in rows]
    return Figure(number, f"figure-{number}", c["figure_tree"], alt, svg, labels,
                  [float(row.total) for row in rows])


@dataclass(frozen=True)
class _TreeRow:
    key: str
    total: int
    parts: list[tuple[str, int | None, str]]  # region, count (None: withheld), display
    recruiters: int | None


def _tree_rows(chains: Chains) -> list[_TreeRow]:
    recruiters: dict[str, int | None] = {}
    if chains.recruiters_by_wave is not None:
        recruiters = {x.row: x.count for x in chains.recruiters_by_wave.cells
                      if x.column == "recruited"}
    table = chains.composition or chains.recruiters_by_wave
    assert table is not None
    composition = chains.composition
    rows = []
    for group in table.rows:
        parts = []
        if composition is not None:
            parts = [(x.column, x.count, x.display) for x in composition.cells if x.row == group.key]
        rows.append(_TreeRow(group.key, group.total or 0, parts, recruiters.get(group.key)))
    return rows


def _svg(draw: Any, title: str, alt: str, salt: str) -> Markup:
    """Draw with ``draw(figure)`` and return accessible, deterministic inline SVG."""
    from consult.report.figures import drawing_svg

    return drawing_svg(draw, title, alt, salt)


def _draw_mix(table: ChainTable, regions: dict[str, str], c: dict[str, str]) -> Any:
    def draw(fig: Any) -> None:
        fig.subplots_adjust(left=0.1, right=0.97, top=0.95, bottom=0.34)
        ax = fig.add_subplot()
        cell = {(x.row, x.column): x for x in table.cells}
        xs = list(range(len(table.rows)))
        withheld = False
        # Each region a little aside, so that equal shares do not hide one another.
        dodge = 0.05
        for j, col in enumerate(table.columns):
            offset = (j - (len(table.columns) - 1) / 2) * dodge
            ys = []
            for row in table.rows:
                x = cell[row.key, col.key]
                withheld = withheld or x.count is None
                ys.append(x.share * 100 if x.share is not None and x.count is not None
                          else float("nan"))
            ax.plot([x + offset for x in xs], ys, color=PALETTE[j % len(PALETTE)],
                    marker=MARKERS[j % len(MARKERS)], linestyle=LINE_STYLES[j % len(LINE_STYLES)],
                    markeredgecolor="#000000", markeredgewidth=0.6, markersize=6, linewidth=1.4,
                    label=regions[col.key])
        ax.set_xticks(xs, [_wave_label(row.key, c) for row in table.rows])
        ax.set_ylim(0, 100)
        ax.set_xlim(-0.3, max(len(xs) - 0.7, 0.3))
        ax.set_ylabel(c["share_axis"])
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
        ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.14), ncol=3, frameon=False,
                  fontsize=8)
        if withheld:
            fig.text(0.01, 0.02, c["withheld_points"], fontsize=7.5, style="italic",
                     color="#333333")

    return draw


def _draw_tree(rows: list[_TreeRow], regions: dict[str, str], c: dict[str, str]) -> Any:
    def draw(fig: Any) -> None:
        from matplotlib.patches import Patch, Polygon

        height = 0.5
        inches = 0.75 * len(rows) + 0.6
        longest = max((len(_wave_label(r.key, c)) for r in rows), default=8)
        fig.set_size_inches(6.5, inches)
        # Room for the wave labels (about 0.068 in a character at 8.5 pt) and the notes on the right.
        fig.subplots_adjust(left=min(0.16 + 0.068 * longest, 2.4) / 6.5, right=1 - 1.5 / 6.5,
                            top=1 - 0.1 / inches, bottom=0.45 / inches)
        ax = fig.add_subplot()
        widest = max((row.total for row in rows), default=1) or 1
        order = list(regions)
        withheld = False
        for i, row in enumerate(rows):
            y = -i
            left = -row.total / 2
            drawn = 0
            for region, count, _ in row.parts:
                if count is None or count == 0:
                    continue
                j = order.index(region)
                ax.barh(y, count, left=left, height=height, color=PALETTE[j % len(PALETTE)],
                        edgecolor="#000000", linewidth=0.5, hatch=HATCHES[j % len(HATCHES)])
                if count >= widest * 0.06:
                    _count_label(ax, left + count / 2, y, str(count))
                left += count
                drawn += count
            rest = row.total - drawn
            if rest > 0:
                withheld = withheld or bool(row.parts)
                ax.barh(y, rest, left=left, height=height,
                        color=WITHHELD_FILL if row.parts else PALETTE[0],
                        edgecolor="#000000", linewidth=0.5,
                        linestyle="--" if row.parts else "-")
                if row.parts and rest >= widest * 0.15:
                    ax.text(left + rest / 2, y, c["withheld"], va="center", ha="center",
                            fontsize=7.5, style="italic", color="#333333")
            ax.text(widest / 2 + widest * 0.03, y, str(row.total), va="center", fontsize=8)
            if i < len(rows) - 1:
                below = rows[i + 1]
                top_width = row.recruiters if row.recruiters else row.total
                ax.add_patch(Polygon(
                    [(-top_width / 2, y - height / 2), (top_width / 2, y - height / 2),
                     (below.total / 2, y - 1 + height / 2), (-below.total / 2, y - 1 + height / 2)],
                    closed=True, facecolor="#EEEEEE", edgecolor="#777777", linewidth=0.5))
                note = (c["recruiters"].format(k=row.recruiters) if row.recruiters is not None
                        else c["recruiters_withheld"])
                ax.text(widest / 2 + widest * 0.03, y - 0.5, textwrap.fill(note, 20),
                        va="center", fontsize=7.5, style="italic", color="#333333")
        ax.set_yticks([-i for i in range(len(rows))], [_wave_label(r.key, c) for r in rows])
        ax.tick_params(axis="y", length=0)
        ax.set_xticks([])
        ax.set_xlim(-widest / 2 * 1.02, widest / 2 * 1.02)
        ax.set_ylim(-len(rows) + 0.5, 0.5)
        ax.spines[["top", "right", "bottom", "left"]].set_visible(False)
        handles = [Patch(facecolor=PALETTE[j % len(PALETTE)], edgecolor="#000000",
                         hatch=HATCHES[j % len(HATCHES)], label=regions[key], linewidth=0.5)
                   for j, key in enumerate(order)
                   if any(key == region for row in rows for region, _, _ in row.parts)]
        if withheld:
            handles.append(Patch(facecolor=WITHHELD_FILL, edgecolor="#000000", linestyle="--",
                                 label=c["withheld"], linewidth=0.5))
        if handles:
            fig.legend(handles=handles, loc="lower left", ncol=4, frameon=False, fontsize=8,
                       handlelength=2.2, handleheight=1.1)

    return draw


def _count_label(ax: Axes, x: float, y: float, text: str) -> None:
    ax.text(x, y, text, va="center", ha="center", fontsize=7.5, color="#000000",
            bbox={"boxstyle": "round,pad=0.15", "facecolor": "#ffffff", "edgecolor": "none",
                  "alpha": 0.85})
