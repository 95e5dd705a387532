"""Figures drawn from results as inline SVG (matplotlib, imported only here, only when drawing).

Colours come from the Okabe-Ito palette (safe for colour-blind readers and
distinct in greyscale); every figure has a title and alt text, and the SVG
carries both (``<title>`` and ``aria-label``) for screen readers.
"""

from __future__ import annotations

import io

from markupsafe import Markup, escape

# Okabe & Ito (2008), "Color Universal Design".
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


def bar_chart_svg(labels: list[str], values: list[int], title: str, alt: str) -> Markup:
    """A horizontal bar chart as an ``<svg>`` element, deterministic (no date, fixed ids)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with matplotlib.rc_context({"svg.hashsalt": "consult", "svg.fonttype": "none",
                                "font.size": 9}):
        fig, ax = plt.subplots(figsize=(6, 0.45 * max(len(labels), 2) + 0.8))
        positions = list(range(len(labels)))[::-1]
        ax.barh(positions, values, color=PALETTE[0], edgecolor="#000000", linewidth=0.5)
        ax.set_yticks(positions, labels)
        for y, v in zip(positions, values, strict=True):
            ax.text(v, y, f" {v}", va="center")
        ax.set_title(title)
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
        plt.close(fig)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    head, rest = svg.split(">", 1)
    return Markup(f'{head} role="img" aria-label="{escape(alt)}"><title>{escape(title)}</title>'
                  f"{rest}")
