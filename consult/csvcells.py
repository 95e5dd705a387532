"""CSV cells that a spreadsheet shows as text: no name or answer is ever run as a formula.

Coordinators and researchers open consult's CSV files in Excel or
LibreOffice, which treat a
cell starting with ``=``, ``+``, ``-`` or ``@`` (and, in some versions, a tab
or carriage return) as a formula. A nominee named
``=HYPERLINK("http://evil.example.org","x")`` would then become a link, or
worse. OWASP's advice (CSV Injection) is followed: such a cell is written
with a leading apostrophe, which spreadsheets hide and keep the rest as text.
Every CSV cell that consult writes from what people typed (contact and
nominee details, answers, theme labels made from answers) goes through
:func:`safe_cell`. The base of the package, so that sampling and analysis
share it.
"""

from __future__ import annotations

from collections.abc import Mapping

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """``value``, with an apostrophe in front when a spreadsheet would read it as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def safe_row(row: Mapping[str, str]) -> dict[str, str]:
    """``row`` with every cell made safe by :func:`safe_cell`."""
    return {column: safe_cell(value) for column, value in row.items()}
