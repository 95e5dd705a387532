"""Numbers, percentages, p-values, dates and lists written the way each language writes them.

English follows APA style (``45.7%``, ``p < .001``, ``p = .034``); French follows
Canadian French typography (``45,7 %``, ``p < 0,001``) with a non-breaking space
(U+00A0) before the per cent sign and between thousands.
"""

from __future__ import annotations

from datetime import date

NBSP = "\u00a0"

MONTHS = {
    "en": ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"],
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre"],
}


def number(value: float | int | None, lang: str, decimals: int | None = None) -> str:
    """``value`` with the language's decimal mark and thousands separator; ``""`` for None."""
    if value is None:
        return ""
    if decimals is None:
        decimals = 0 if float(value).is_integer() else 2
    text = f"{value:,.{decimals}f}"
    if lang == "fr":
        text = text.replace(",", NBSP).replace(".", ",")
    return text


def percent(pct: str | None, lang: str, display: str = "") -> str:
    """A percentage as printed in results.json (``"45.7"``) with its sign in ``lang``.

    A suppressed value (``None``) prints ``display`` (``<5`` or ``x``) or an en dash.
    """
    if pct is None:
        return display or "–"
    if lang == "fr":
        return pct.replace(".", ",") + NBSP + "%"
    return pct + "%"


def p_value(p: float | None, lang: str) -> str:
    """A p-value in APA style: ``p < .001``, ``p = .034``, ``p > .999`` (French: ``p = 0,034``)."""
    if p is None:
        return "p = –"
    if p < 0.001:
        text = "< 0.001"
    elif p >= 0.9995:  # would round to 1.000: APA writes p > .999
        text = "> 0.999"
    else:
        text = "= " + f"{p:.3f}"
    if lang == "fr":
        return "p " + text.replace(".", ",")
    # APA: no leading zero for a quantity that cannot exceed 1.
    return "p " + text.replace("0.", ".", 1)


def join_list(items: list[str], lang: str, conjunction: str | None = None) -> str:
    """``A, B, and C`` (English, serial comma) or ``A, B et C`` (French).

    ``conjunction`` replaces the language's word (``&`` for APA author lists).
    """
    words = [str(i) for i in items]
    if len(words) <= 1:
        return "".join(words)
    conjunction = conjunction or {"fr": "et"}.get(lang, "and")
    if len(words) == 2:
        return f"{words[0]} {conjunction} {words[1]}"
    comma = "," if lang != "fr" else ""
    return ", ".join(words[:-1]) + f"{comma} {conjunction} {words[-1]}"


def labelled(label: str, text: str, lang: str) -> str:
    """``Wave 0: …`` (English) or ``Vague 0 : …`` (French, a space before the colon)."""
    return f"{label} : {text}" if lang == "fr" else f"{label}: {text}"


def month_year(day: date, lang: str) -> str:
    """``November 2014`` / ``novembre 2014``."""
    return f"{MONTHS.get(lang, MONTHS['en'])[day.month - 1]} {day.year}"


def period(first: date | None, last: date | None, lang: str) -> str:
    """The fielding period as a phrase: ``between September and November 2014``."""
    if first is None or last is None:
        return {"fr": "à des dates inconnues"}.get(lang, "on unknown dates")
    months = MONTHS.get(lang, MONTHS["en"])
    between, conjunction, within = {"fr": ("entre", "et", "en")}.get(
        lang, ("between", "and", "in"))
    if (first.year, first.month) == (last.year, last.month):
        return f"{within} {month_year(first, lang)}"
    if first.year == last.year:
        return f"{between} {months[first.month - 1]} {conjunction} {month_year(last, lang)}"
    return f"{between} {month_year(first, lang)} {conjunction} {month_year(last, lang)}"
