"""Numbering of tables and figures, and sentences that refer to them.

Tables and figures are numbered in reading order: whoever builds a part of the
report takes the next numbers from the one :class:`Numbering` of the context,
in the order the parts are printed (method, results by domain, synthesis,
appendices).
"""

from __future__ import annotations

from markupsafe import Markup, escape

from consult.report import formats
from consult.report.model import Figure, Sentence, Table


class Numbering:
    """Hands out table and figure numbers in the order they are asked for."""

    def __init__(self) -> None:
        self.tables = 0
        self.figures = 0

    def table(self) -> int:
        """The next table number."""
        self.tables += 1
        return self.tables

    def figure(self) -> int:
        """The next figure number."""
        self.figures += 1
        return self.figures


def sentence(template: str, t: dict[str, str], lang: str, refs: list[Table | Figure] | None = None,
             **values: str) -> Sentence:
    """``template`` filled with ``values``, ``refs`` and ``see`` (the references, linked in HTML).

    ``{refs}`` becomes "Table 3 and Figure 2", ``{see}`` "see Table 3 and Figure 2";
    without references, `` ({see})`` is left out of the sentence.

    ``template`` is fixed wording from strings.py; ``values`` may come from
    respondents or results.json and are escaped in the HTML version.
    """
    refs = refs or []
    if not refs:
        # Nothing to cite (no crossed tables without groupings): no empty "()".
        template = template.replace(" ({see})", "").replace("; {see})", ")")
    plain = [_ref_text(r, t) for r in refs]
    linked = [Markup('<a href="#{}">{}</a>').format(r.anchor, _ref_text(r, t)) for r in refs]
    refs_text = formats.join_list(plain, lang)
    refs_html = Markup(formats.join_list([str(x) for x in linked], lang))
    see_text = t["see"].format(refs=refs_text) if refs else ""
    see_html = Markup(escape(t["see"])).format(refs=refs_html) if refs else Markup("")
    text = template.format(see=see_text, refs=refs_text, **values)
    html = Markup(escape(template)).format(see=see_html, refs=refs_html, **values)
    return Sentence(text, html)


def ref_phrase(refs: list[Table | Figure], t: dict[str, str], lang: str) -> str:
    """``Table 1 and Figure 1`` (``le tableau 1 et la figure 1``)."""
    return formats.join_list([_ref_text(r, t) for r in refs], lang)


def _ref_text(ref: Table | Figure, t: dict[str, str]) -> str:
    key = "ref_table" if isinstance(ref, Table) else "ref_figure"
    return t[key].format(n=ref.number)
