"""Seeds: the consultation's first invitees (wave 0), from a file or one at a time.

A seeds file is CSV (comma, semicolon or tab separated, UTF-8) or XLSX (first
sheet) whose first row names the columns ``name``, ``email``,
``organisation``, ``country`` and ``language`` (in any order and case;
``e-mail`` and ``organization`` are accepted too). ``name`` and ``email`` are
required. Every row is checked before anything is written: one bad row and
nothing is imported, and the error lists every problem with its row and column.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from consult.errors import ConsultError, Issue, ValidationFailed
from consult.sampling.codes import new_code
from consult.sampling.contacts import check_contact
from consult.store import fielding
from consult.store.db import Store
from consult.store.fielding import Invitee, NewContact

SEED_COLUMNS = ("name", "email", "organisation", "country", "language")
REQUIRED_COLUMNS = ("name", "email")
_ALIASES = {"e-mail": "email", "e_mail": "email", "mail": "email",
            "organization": "organisation", "org": "organisation"}


def import_seeds(store: Store, path: Path, *, languages: Sequence[str],
                 now: datetime | None = None) -> list[Invitee]:
    """Add every seed in ``path`` with a personal wave-0 code, all or nothing.

    Raises
    ------
    ValidationFailed
        Listing every bad row (file, row, column and what to fix); nothing is written.
    """
    contacts, issues = _check_seeds(path, languages)
    known = fielding.emails_in_use(store, [c.email or "" for _, c in contacts])
    issues += [(row, Issue("known_email", f"{contact.email} is already a contact",
                           file=path.name, where=f"row {row}, column email"))
               for row, contact in contacts if contact.email in known]
    if issues:
        raise ValidationFailed(f"{path.name}: no seeds imported",
                               [issue for _, issue in sorted(issues, key=lambda i: i[0])])
    return fielding.add_seeds(store, [c for _, c in contacts], new_code, now or datetime.now(UTC))


def add_seed(store: Store, name: str, email: str, organisation: str = "", country: str = "",
             language: str = "", *, languages: Sequence[str],
             now: datetime | None = None) -> Invitee:
    """Add one seed with a personal wave-0 code.

    Raises
    ------
    ConsultError
        Naming each bad field and what to write instead.
    """
    contact, problems = check_contact(name, email, organisation, country, language,
                                      languages=languages)
    if contact is None:
        raise ConsultError("; ".join(f"{field}: {message}" for field, message in problems))
    if fielding.emails_in_use(store, [contact.email or ""]):
        raise ConsultError(f"email: {contact.email} is already a contact")
    return fielding.add_seeds(store, [contact], new_code, now or datetime.now(UTC))[0]


def read_seeds(path: Path, *, languages: Sequence[str]) -> list[tuple[int, NewContact]]:
    """Read and check a seeds file; return ``(row number, contact)`` pairs.

    Row numbers are the spreadsheet's: the header is row 1.

    Raises
    ------
    ValidationFailed
        Listing every problem found in the file.
    """
    contacts, issues = _check_seeds(path, languages)
    if issues:
        raise ValidationFailed(f"{path.name}: no seeds imported", [i for _, i in issues])
    return contacts


def _check_seeds(path: Path, languages: Sequence[str]
                 ) -> tuple[list[tuple[int, NewContact]], list[tuple[int, Issue]]]:
    table = _read_table(path)
    file = path.name
    if not table:
        return [], [(0, Issue("empty_file", "the file is empty; its first row must name the "
                              "columns " + ", ".join(SEED_COLUMNS), file=file))]
    header_row, header = table[0]
    columns = [_ALIASES.get(h.strip().lower(), h.strip().lower()) for h in header]
    issues = [(header_row, Issue("missing_column", f"no {name!r} column (the first row must "
                                 f"name the columns {', '.join(SEED_COLUMNS)}; found: "
                                 f"{', '.join(h.strip() for h in header)})",
                                 file=file, where=f"row {header_row}"))
              for name in REQUIRED_COLUMNS if name not in columns]
    if issues:
        return [], issues
    position = {name: columns.index(name) for name in SEED_COLUMNS if name in columns}
    contacts: list[tuple[int, NewContact]] = []
    first_row_of: dict[str, int] = {}
    for row_number, cells in table[1:]:
        values = {name: cells[i].strip() if i < len(cells) else ""
                  for name, i in position.items()}
        contact, problems = check_contact(
            values["name"], values["email"], values.get("organisation", ""),
            values.get("country", ""), values.get("language", ""), languages=languages)
        issues += [(row_number, Issue(f"bad_{column}", message, file=file,
                                      where=f"row {row_number}, column {column}"))
                   for column, message in problems]
        if contact is None:
            continue
        email = contact.email or ""
        if email in first_row_of:
            issues.append((row_number, Issue(
                "duplicate_email", f"{email} is also on row {first_row_of[email]}",
                file=file, where=f"row {row_number}, column email")))
            continue
        first_row_of[email] = row_number
        contacts.append((row_number, contact))
    if not issues and not contacts:
        issues.append((header_row, Issue(
            "no_rows", "no seeds: the file has a header row and nothing else", file=file)))
    return contacts, issues


def _read_table(path: Path) -> list[tuple[int, list[str]]]:
    """Non-empty rows of a CSV or XLSX file with their 1-based row numbers."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        rows = _xlsx_rows(path)
    elif suffix in {".csv", ".tsv", ".txt"}:
        rows = _csv_rows(path)
    else:
        raise ConsultError(f"{path.name}: give the seeds as a .csv or .xlsx file")
    return [(number, cells) for number, cells in enumerate(rows, start=1)
            if any(cell.strip() for cell in cells)]


def _csv_rows(path: Path) -> list[list[str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ConsultError(f"{path.name} is not UTF-8 text; save it from your spreadsheet as "
                           "'CSV UTF-8' and import it again") from None
    except OSError as exc:
        raise ConsultError(f"cannot read {path}: {exc.strerror}") from None
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096],
                                                                       delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [list(row) for row in csv.reader(io.StringIO(text), dialect)]


def _xlsx_rows(path: Path) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise ConsultError(f"{path.name} is not a readable .xlsx workbook ({exc})") from None
    try:
        sheet = workbook.worksheets[0]
        return [["" if cell is None else str(cell) for cell in row]
                for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()
