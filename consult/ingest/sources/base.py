"""The interface every source reader implements.

A reader knows one platform's file layout and nothing about the questionnaire:
it returns a :class:`SourceTable`, the file's data rows with a description of
each column (which platform question and choice it belongs to, or which
response-level field it holds). Mapping columns to questionnaire items and
values to choice codes is shared by all sources (``consult.ingest.mapping``).

Readers normalise the response-level ("meta") fields to canonical values so
the rest of ingest never sees a platform's conventions:

=================  ==========================================================
meta field         canonical value in ``rows``
=================  ==========================================================
``response_id``    the platform's id of the response, as written
``status``         ``complete``, ``preview``, ``spam`` or ``test``
``finished``       ``1`` or ``0``
``progress``       an integer 0-100 written as text, or ``""``
``started_at``     ISO 8601 (``2014-09-08T16:01:00`` or with an offset), or ``""``
``submitted_at``   same; ``""`` when never submitted
``language``       a language code (``en``, ``fr``) or ``""``
``referral_code``  the respondent's own code as written, or ``""``
``referred_by``    the referrer's code as written, or ``""``
``withdrawn``      ``1`` when the respondent withdrew consent, else ``0``/``""``
=================  ==========================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

META_FIELDS = (
    "response_id",
    "status",
    "finished",
    "progress",
    "started_at",
    "submitted_at",
    "language",
    "referral_code",
    "referred_by",
    "withdrawn",
)


@dataclass(frozen=True)
class SourceColumn:
    """What one column of a source file holds.

    Exactly one of these describes it:

    - ``meta``: a response-level field (one of :data:`META_FIELDS`);
    - ``question`` alone: the whole answer to a platform question (for a
      multiple choice, all selected choices in one cell, separated by
      :attr:`SourceTable.multi_separator`);
    - ``question`` and ``choice``: one choice of a multiple-choice question
      split into its own column; the cell is non-empty/``1``/``Y``/the choice
      label when selected and empty/``0`` when not;
    - ``question`` and ``other_text``: the "please specify" text of ``question``;
    - ``ignore``: a column ingest must not read (IP address, location,
      duplicated representations of another column, platform bookkeeping).
    """

    index: int
    name: str
    text: str = ""
    meta: str | None = None
    question: str | None = None
    choice: str | None = None
    choice_text: str | None = None
    other_text: bool = False
    ignore: bool = False


@dataclass
class SourceTable:
    """A source file read into rows of text, with its columns described.

    ``row_numbers[i]`` is the 1-based line (CSV) or row (XLSX) of ``rows[i]``
    in the file, so that every problem can be located.
    """

    format: str
    path: Path
    columns: list[SourceColumn]
    rows: list[list[str]]
    row_numbers: list[int]
    multi_separator: str | None = None
    notes: list[str] = field(default_factory=list)

    def column(self, meta: str) -> SourceColumn | None:
        """The column holding ``meta``, if the file has one."""
        return next((c for c in self.columns if c.meta == meta), None)


class SourceReader(Protocol):
    """A platform's reader: ``sniff`` says how sure it is, ``read`` reads."""

    name: str

    def sniff(self, path: Path, head: list[list[str]]) -> float:
        """Confidence 0-1 that ``path`` is this platform's export, from its first rows."""
        ...

    def read(self, path: Path) -> SourceTable:
        """Read the whole file; raise ``IngestFileError`` for a malformed file."""
        ...
