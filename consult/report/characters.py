"""Text every report format can print: no character that XML 1.0 forbids.

Respondents' answers reach the report as typed, and a web form or an export
may carry control characters: a NUL, or the vertical tab that Word puts in
text pasted from it. XML 1.0 (and so Word's DOCX, and the SVG and XHTML a
browser parses) forbids the C0 controls other than tab, newline and carriage
return, U+FFFE, U+FFFF and lone surrogates; python-docx refuses such a string
outright. :func:`printable_context` cleans the whole report context once, after
it is built, so HTML, PDF, Markdown and Word all print the same clean text.
"""

from __future__ import annotations

import dataclasses
import re
from typing import TypeVar, cast

from markupsafe import Markup

# A vertical tab is Word's line break and a form feed its page break: both end a line.
_LINE_BREAKS = re.compile("[\x0b\x0c]")
_FORBIDDEN = re.compile("[\x00-\x08\x0e-\x1f\ufffe\uffff\ud800-\udfff]")

T = TypeVar("T")


def printable(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids; a vertical tab or form feed becomes a newline.

    Tab, newline and carriage return are kept; so is everything else, C1
    controls included (XML 1.0 allows them).
    """
    if not _FORBIDDEN.search(text) and not _LINE_BREAKS.search(text):
        return text
    return _FORBIDDEN.sub("", _LINE_BREAKS.sub("\n", text))


def printable_context(value: T) -> T:
    """``value`` with :func:`printable` applied to every string in it.

    Walks dataclasses (rebuilt with :func:`dataclasses.replace`), lists,
    tuples and dicts; :class:`~markupsafe.Markup` stays ``Markup``. Anything else
    (numbers, dates, functions drawing a figure) is returned as it is.
    """
    return cast(T, _clean(value))


def _clean(value: object) -> object:
    if isinstance(value, Markup):
        cleaned = printable(str(value))
        return value if cleaned == value else Markup(cleaned)
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_clean(v) for v in value)
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changed = {}
        for f in dataclasses.fields(value):
            if not f.init:
                continue
            old = getattr(value, f.name)
            new = _clean(old)
            if new is not old:
                changed[f.name] = new
        return dataclasses.replace(value, **changed) if changed else value
    return value
