"""The one exception hierarchy of consult.

Every message names the file, row, column or setting at fault and says what to
do about it. The command line prints the message as one line (or a short list
for a report of several problems) and exits non-zero; it never shows a
traceback unless ``--debug`` is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class ConsultError(Exception):
    """Base class of every error consult raises on purpose."""

    exit_code = 1


class ProjectNotFoundError(ConsultError):
    """No consultation project above the current folder."""


class SettingsError(ConsultError):
    """A bad value in ``consult.toml``."""


class StoreError(ConsultError):
    """The database cannot be opened, migrated or written."""


@dataclass(frozen=True)
class Issue:
    """One located problem found while checking an input.

    ``where`` is a human path into the input (``domains[2].items[0].type``);
    ``line`` is a 1-based line number when known; ``row``, ``column`` and
    ``item`` locate a problem in a data file (row as the file numbers it).
    ``severity`` is ``error`` (stops), ``warning`` or ``info``.
    """

    code: str
    message: str
    file: str = ""
    where: str = ""
    line: int | None = None
    severity: str = "error"
    hint: str = ""
    row: int | None = None
    column: str = ""
    item: str = ""

    def location(self) -> str:
        """``file, line N (where)`` or ``file, row N, column C`` with the parts that are known."""
        parts = [
            self.file or "",
            f"line {self.line}" if self.line is not None else "",
            f"row {self.row}" if self.row is not None else "",
            f"column {self.column}" if self.column else "",
        ]
        head = ", ".join(p for p in parts if p)
        if self.where:
            head = f"{head} ({self.where})" if head else self.where
        return head

    def __str__(self) -> str:
        text = f"{self.location()}: {self.message}" if self.location() else self.message
        if not self.hint:
            return text
        # The hint is a sentence of its own: end the message first.
        stop = "" if text.rstrip().endswith((".", "!", "?", ":", ";")) else "."
        return f"{text.rstrip()}{stop} {self.hint}".rstrip()


class ValidationFailed(ConsultError):
    """An input failed its checks; ``issues`` holds every problem found."""

    def __init__(self, summary: str, issues: Sequence[Issue]) -> None:
        self.summary = summary
        self.issues = list(issues)
        errors = [i for i in self.issues if i.severity == "error"]
        lines = [f"{summary}: {len(errors)} problem(s)"]
        lines += [f"  - {i}" for i in errors]
        super().__init__("\n".join(lines))


class QuestionnaireError(ValidationFailed):
    """The questionnaire file is invalid."""


class IngestFileError(ConsultError):
    """A source file that cannot be read at all (encoding, layout, truncation)."""
