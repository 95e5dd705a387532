"""``consult init``: create a consultation project."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from consult.cli.common import out
from consult.project import init_project


def init(
    folder: Annotated[Path, typer.Argument(help="The project folder to create.", file_okay=False)],
    questionnaire: Annotated[
        str, typer.Option("--questionnaire", "-q",
                          help="A shipped instrument by name (r361) or a questionnaire YAML file.")
    ] = "r361",
    title: Annotated[str | None, typer.Option(help="The consultation's title "
                                              "(default: the questionnaire's).")] = None,
    language: Annotated[
        list[str] | None,
        typer.Option("--language", "-l", help="A language of the report and web form; repeat "
                     "for several (default: all of the questionnaire's)."),
    ] = None,
) -> None:
    """Create a consultation project: settings, questionnaire, database and folders.

    Example: consult init radicalization-2026 --title "International consultation 2026"
    """
    from consult.store.db import safe_url

    project = init_project(folder, questionnaire=questionnaire, title=title, languages=language)
    out.print(f"Created project {project.root}")
    out.print(f"  settings       {project.root / 'consult.toml'}")
    out.print(f"  questionnaire  {project.questionnaire_path}")
    out.print(f"  database       {safe_url(project.database_url)}")
    out.print(f"Next: cd {folder} && consult questionnaire show")
