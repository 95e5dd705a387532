"""What every command shares: the consoles, the project lookup, the error boundary."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from consult.errors import ConsultError, ValidationFailed
from consult.project import Project, load_project

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    """``data`` as plain, indented JSON on stdout: no colours or markup, whatever the terminal.

    For ``--json`` options, whose output other programs read. (rich's
    ``print_json`` highlights token by token: a quarter of a second for an
    ingest's 800 problems.)
    """
    import json
    import sys

    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


@dataclass
class State:
    """Options given before the command name."""

    project_dir: Path | None = None
    debug: bool = False


def counted(n: int, word: str, plural: str | None = None) -> str:
    """``1 theme``, ``2 themes``: a count with its noun in agreement."""
    return f"{n} {word if n == 1 else plural or word + 's'}"


def project_of(ctx: typer.Context) -> Project:
    """The project the command works on (``--project`` or found by walking up)."""
    state = ctx.find_root().obj
    explicit = state.project_dir if isinstance(state, State) else None
    return load_project(explicit=explicit)


class ConsultGroup(TyperGroup):
    """The root command: turns library errors into one clean message and exit 1.

    ``--debug`` shows the traceback instead. Locals are never shown: they hold
    respondents' answers.
    """

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ConsultError as exc:
            if ctx.params.get("debug"):
                raise
            report_error(exc)
            raise typer.Exit(code=exc.exit_code) from None
        except KeyboardInterrupt:
            err.print("Interrupted; nothing half-written was kept.")
            raise typer.Exit(code=130) from None


def report_error(exc: ConsultError) -> None:
    """Print a library error on stderr, one problem a line."""
    if isinstance(exc, ValidationFailed):
        err.print(f"Error: {exc.summary}", markup=False)
        for issue in exc.issues:
            err.print(f"  {issue.severity}: {issue}", markup=False)
    else:
        err.print(f"Error: {exc}", markup=False)
