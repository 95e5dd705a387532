"""Figures drawn from results: a :class:`Chart` says what to draw; matplotlib draws it.

A chart becomes inline SVG for HTML and PDF (vector, with ``role="img"``, an
``aria-label`` holding the alt text and a ``<title>``) or PNG for Word.
matplotlib is imported only when drawing, so building a context without
figures stays light.

Accessibility: colours come from the Okabe-Ito palette (safe for colour-blind
readers), every series also has its own hatching or marker shape so that a
greyscale print still tells them apart, and values are written beside the marks.
A value that disclosure control withholds is ``None`` and is never drawn: the
row says "withheld" instead.
"""

from __future__ import annotations

import io
import re
import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from markupsafe import Markup, escape

if TYPE_CHECKING:
    from collections.abc import Callable

    from matplotlib.axes import Axes

    Drawing = Callable[[Any], Any]
    """Draws on the matplotlib figure it is given (or returns a figure of its own)."""

# Okabe & Ito (2008), "Color Universal Design".
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
# One hatching per series, so that series differ without colour too.
HATCHES = ("", "//", "..", "xx", "\\\\", "++", "oo", "--")
# matplotlib draws every hatching on a 72 pt tile, but each one in HATCHES repeats every
# 12 pt: at matplotlib's hatch density a doubled symbol gives 12 lines, or 12 rows of dots
# with every other row shifted by half a step, to the inch. WeasyPrint draws a pattern's
# content afresh for every shape it fills, and a 72 pt tile of dots holds some 170 circles;
# a 12 pt tile draws the same texture with 1/36 of the content (tests/test_report_figures.py
# prints both and compares the pixels). PDF viewers may leave a hairline between tiles, so
# each hatched shape is first filled with its plain colour, which then shows there instead
# of white paper.
HATCH_TILE = 12
MARKERS = ("o", "s", "D", "^", "v", "P", "X", "*")


@dataclass(frozen=True)
class Series:
    """One series of marks: a value (or ``None``, not drawn) per category."""

    name: str
    """the legend entry (`""` for a chart of one series)"""
    values: list[float | None]
    """one value per category; `None` draws nothing"""
    printed: list[str]
    """each value as printed beside its mark; for a `None` value, `""` (nothing to draw
    here) or what withheld it (`<5`, `x`)"""


@dataclass(frozen=True)
class Chart:
    """What a figure draws: horizontal bars (stacked when several series) or dots."""

    kind: Literal["bars", "dots"]
    """`bars` (series stack left to right) or `dots` (one dot per value)"""
    categories: list[str]
    """the rows, top to bottom"""
    series: list[Series]
    """the series drawn"""
    axis: str = ""
    """the label of the value axis"""
    headings: tuple[int, ...] = ()
    """rows that head a block of rows ("Region", "Role"): bold, no marks"""
    maximum: float | None = None
    """the end of the value axis (100 for percentages); from the data when `None`"""
    reference: float | None = None
    """a value marked by a dashed line across the chart (the overall percent)"""
    reference_label: str = ""
    """the text beside the reference line"""
    withheld: str = "withheld"
    """written on a row where a withheld value is not drawn"""
    note: str = ""
    """a line under the chart"""
    legend: bool = field(default=True)
    """whether several series get a legend"""


def svg(chart: Chart, title: str, alt: str, salt: str = "consult") -> Markup:
    """``chart`` as an ``<svg>`` element: deterministic (no date, ids from ``salt``), accessible.

    ``salt`` keeps the ids of several figures in one HTML page apart.
    """
    return drawing_svg(lambda _: _draw(chart), title, alt, salt)


def png(chart: Chart, dpi: int = 200) -> bytes:
    """``chart`` as PNG bytes (for Word)."""
    return drawing_png(lambda _: _draw(chart), dpi=dpi)


def drawing_svg(draw: Drawing, title: str, alt: str, salt: str = "consult",
                size: tuple[float, float] = (6.5, 3.4)) -> Markup:
    """What ``draw`` draws on a matplotlib figure of ``size`` inches, as accessible inline SVG.

    ``draw`` may return the figure it drew on instead (a figure of its own size).
    Element ids are prefixed with ``salt``, so that figures in one page never
    share an id.
    """
    with _style(salt):
        fig = _figure(draw, size)
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = _lighter(text[text.index("<svg"):])
    text = prefix_ids(text, salt)
    head, rest = text.split(">", 1)
    return Markup(f'{head} role="img" aria-label="{escape(alt)}"><title>{escape(title)}</title>'
                  f"{rest}")


def drawing_png(draw: Drawing, dpi: int = 200, size: tuple[float, float] = (6.5, 3.4)) -> bytes:
    """What ``draw`` draws, as PNG bytes (for Word)."""
    with _style("consult"):
        fig = _figure(draw, size)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def prefix_ids(svg_text: str, prefix: str) -> Markup:
    """``svg_text`` with every id, and every reference to one, starting with ``prefix-``.

    matplotlib numbers the elements of each figure afresh (``patch_3``,
    ``text_14`` …), so two figures in one HTML page would share ids. Ids that
    already start with the prefix are left alone, so prefixing twice changes
    nothing.
    """
    start = re.escape(prefix + "-")
    return Markup(re.sub(rf'(\bid="|url\(#|href="#)(?!{start})([^")]+)', rf"\g<1>{prefix}-\g<2>",
                         str(svg_text)))


# --------------------------------------------------------------------------- lighter SVG

_PATTERN = re.compile(r'<pattern [^>]*width="72" height="72">.*?</pattern>', re.S)
_PATTERN_FACE = re.compile(r'<pattern id="([^"]+)"[^>]*>\s*<rect [^>]*fill="(#[0-9a-fA-F]+)"')
_HATCHED = re.compile(r'<path d="([^"]*)"((?: clip-path="[^"]*")?) style="fill: url\(#([^)]+)\);')
_SUBPATH = re.compile(r"M [^M]*")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")
# A matplotlib group holding a single element and nothing else: nothing refers to its id.
_LONE_CHILD = re.compile(r'<g id="[^"]*">\s*(<(?:path|use|rect)\b[^>]*/>|<text\b[^>]*>[^<]*</text>)'
                         r"\s*</g>")


def _lighter(svg_text: str) -> str:
    """matplotlib's SVG with the same drawing in fewer, smaller elements.

    Hatch patterns shrink to their :data:`HATCH_TILE`, over the plain colour of
    the shape they fill; the RDF metadata, empty groups and groups around a
    single element go. Every element a page holds costs the PDF printer
    (WeasyPrint styles and draws each one), and the figures hold most of the
    report's elements.
    """
    faces = dict(_PATTERN_FACE.findall(svg_text))

    def underlay(shape: re.Match[str]) -> str:
        face = faces.get(shape.group(3))
        plain = f'<path d="{shape.group(1)}"{shape.group(2)} style="fill: {face}"/>' if face else ""
        return plain + shape.group(0)

    text = _HATCHED.sub(underlay, _PATTERN.sub(_small_tile, svg_text))
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, flags=re.S)
    text = re.sub(r'\s*<g id="[^"]*"/>', "", text)
    while True:
        lighter = _LONE_CHILD.sub(r"\1", text)
        if lighter == text:
            return text
        text = lighter


def _small_tile(match: re.Match[str]) -> str:
    """One ``<pattern>`` cut from matplotlib's 72 pt tile to :data:`HATCH_TILE`."""
    size = HATCH_TILE
    pattern = match.group(0).replace('width="72" height="72"', f'width="{size}" height="{size}"', 1)
    pattern = pattern.replace('width="73" height="73"', f'width="{size + 1}" height="{size + 1}"', 1)

    def keep(path: re.Match[str]) -> str:
        # A line or dot is kept when it (with its stroke, under 1 pt) can reach into the tile.
        kept = []
        for part in _SUBPATH.findall(path.group(2)):
            numbers = [float(n) for n in _NUMBER.findall(part)]
            xs, ys = numbers[0::2], numbers[1::2]
            if max(xs) >= -1 and min(xs) <= size + 1 and max(ys) >= -1 and min(ys) <= size + 1:
                kept.append(part.strip())
        return f'{path.group(1)}{" ".join(kept)}"'

    return re.sub(r'(<path d=")([^"]*)"', keep, pattern)


# --------------------------------------------------------------------------- drawing


_ROW = 0.3  # inches a row
_WIDTH = 6.5  # inches: the text width of a letter page with 2 cm margins


def _figure(draw: Drawing, size: tuple[float, float]) -> Any:
    from matplotlib.figure import Figure

    fig = Figure(figsize=size)
    drawn = draw(fig)
    return drawn if drawn is not None else fig


def _style(salt: str) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    return matplotlib.rc_context({"svg.hashsalt": salt, "svg.fonttype": "none",
                                  "font.size": 8.5, "hatch.linewidth": 0.6,
                                  "font.family": "DejaVu Sans"})


def _draw(chart: Chart) -> Any:
    from matplotlib.figure import Figure

    labels = [textwrap.fill(c, 34) for c in chart.categories]
    lines = sum(label.count("\n") + 1 for label in labels)
    rows = max(len(labels), 1)
    named = [textwrap.fill(s.name, 90) for s in chart.series if s.name]
    columns = 2 if max((len(n) for n in named), default=0) <= 40 else 1
    legend_rows = 0
    if chart.legend and len(named) > 1:
        legend_rows = sum(max(n.count("\n") + 1 for n in named[k:k + columns])
                          for k in range(0, len(named), columns))
    # Room for the labels (about 0.068 in a character at 8.5 pt), the axis, legend and note.
    longest = max((len(line) for label in labels for line in label.split("\n")), default=4)
    left = min(0.16 + 0.068 * longest, 2.6)
    bottom = 0.45 + 0.2 * legend_rows + (0.2 if chart.note else 0)
    height = max(rows * _ROW, lines * 0.14) + bottom + 0.15
    fig = Figure(figsize=(_WIDTH, height))
    fig.subplots_adjust(left=left / _WIDTH, right=1 - 0.55 / _WIDTH, top=1 - 0.12 / height,
                        bottom=bottom / height)
    ax = fig.add_subplot()
    positions = list(range(rows))[::-1]
    top = _draw_bars(ax, chart, positions) if chart.kind == "bars" else \
        _draw_dots(ax, chart, positions)
    ax.set_yticks(positions, labels)
    for index in chart.headings:
        ax.get_yticklabels()[index].set_fontweight("bold")
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(-0.6, rows - 0.4)
    ax.set_xlim(0, top)
    if chart.axis:
        ax.set_xlabel(chart.axis)
    ax.spines[["top", "right"]].set_visible(False)
    if legend_rows:
        from matplotlib.patches import Patch

        handles = [_legend_handle(chart, i, textwrap.fill(s.name, 90), Patch)
                   for i, s in enumerate(chart.series) if s.name]
        fig.legend(handles=handles, loc="lower left", ncol=columns, frameon=False,
                   bbox_to_anchor=(0.0, 0.0 + (0.2 if chart.note else 0) / height),
                   handlelength=2.2, handleheight=1.1, fontsize=8)
    if chart.note:
        fig.text(0.01, 0.04 / height, chart.note, fontsize=7.5, style="italic", color="#333333")
    return fig


def _draw_bars(ax: Axes, chart: Chart, positions: list[int]) -> float:
    totals = [sum(v or 0.0 for v in values) for values in
              zip(*(s.values for s in chart.series), strict=True)] or [0.0]
    top = chart.maximum or max(max(totals) * 1.15, 1.0)
    for i, y in enumerate(positions):
        if i in chart.headings:
            continue
        # A row of one value gets its label after the bar; a stacked row, inside each part.
        single = sum(1 for s in chart.series if s.values[i] is not None) == 1 and not any(
            s.values[i] is None and s.printed[i] for s in chart.series)
        left, withheld = 0.0, False
        for k, series in enumerate(chart.series):
            value = series.values[i]
            if value is None:
                withheld = withheld or bool(series.printed[i])
                continue
            if value <= 0:
                continue
            colour = PALETTE[k % len(PALETTE)]
            ax.barh(y, value, left=left, height=0.62, color=colour, edgecolor="#000000",
                    linewidth=0.5, hatch=HATCHES[k % len(HATCHES)])
            if single:
                ax.text(left + value + top * 0.01, y, series.printed[i], va="center")
            elif value >= top * 0.07:
                ax.text(left + value / 2, y, series.printed[i], va="center", ha="center",
                        fontsize=7.5, color="#000000",
                        bbox={"boxstyle": "round,pad=0.15", "facecolor": "#ffffff",
                              "edgecolor": "none", "alpha": 0.85})
            left += value
        if withheld:
            ax.text(left + top * 0.01, y, f"({chart.withheld})", va="center", fontsize=7.5,
                    style="italic", color="#333333")
    return top


def _draw_dots(ax: Axes, chart: Chart, positions: list[int]) -> float:
    top = chart.maximum or max((v for s in chart.series for v in s.values if v is not None),
                               default=1.0) * 1.15
    for i, y in enumerate(positions):
        if i not in chart.headings:
            ax.plot([0, top], [y, y], color="#dddddd", linewidth=0.6, zorder=0)
    for k, series in enumerate(chart.series):
        for i, y in enumerate(positions):
            value = series.values[i]
            if value is None:
                if series.printed[i]:
                    ax.text(top * 0.01, y, f"({chart.withheld})", va="center", fontsize=7.5,
                            style="italic", color="#333333")
                continue
            ax.plot([value], [y], marker=MARKERS[k % len(MARKERS)], markersize=6.5,
                    color=PALETTE[k % len(PALETTE)], markeredgecolor="#000000",
                    markeredgewidth=0.6, linestyle="none", zorder=3)
            ax.text(value + top * 0.02, y, series.printed[i], va="center", fontsize=7.5,
                    bbox={"boxstyle": "round,pad=0.1", "facecolor": "#ffffff",
                          "edgecolor": "none", "alpha": 0.85}, zorder=4)
    if chart.reference is not None:
        ax.axvline(chart.reference, color="#555555", linestyle="--", linewidth=0.8, zorder=1)
        ax.text(chart.reference, 1.0, f" {chart.reference_label}", va="bottom", ha="center",
                transform=ax.get_xaxis_transform(), fontsize=7.5, color="#333333")
    return top


def _legend_handle(chart: Chart, k: int, name: str, patch: Any) -> Any:
    if chart.kind == "dots":
        from matplotlib.lines import Line2D

        return Line2D([], [], marker=MARKERS[k % len(MARKERS)], color=PALETTE[k % len(PALETTE)],
                      markeredgecolor="#000000", linestyle="none", label=name)
    return patch(facecolor=PALETTE[k % len(PALETTE)], edgecolor="#000000",
                 hatch=HATCHES[k % len(HATCHES)], label=name, linewidth=0.5)
