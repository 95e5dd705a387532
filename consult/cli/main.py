"""``consult``: the root command and its groups."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from consult import __version__
from consult.cli import db, ingest, init, questionnaire, synth
from consult.cli.common import ConsultGroup, State

app = typer.Typer(
    cls=ConsultGroup,
    name="consult",
    help="Run an international expert consultation, from first invitation to published report.",
    epilog="Example: consult init my-consultation && cd my-consultation && consult synth",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
    add_completion=False,
)
app.command("init")(init.init)
app.command("synth")(synth.synth)
app.add_typer(questionnaire.app, name="questionnaire")
app.add_typer(db.app, name="db")
# ingest commands (issue 3)
app.command("ingest")(ingest.ingest)
# sampling commands (issue 7)
from consult.cli import export as _export  # noqa: E402
from consult.cli import fielding as _fielding  # noqa: E402
from consult.cli import nominations as _nominations  # noqa: E402
from consult.cli import seeds as _seeds  # noqa: E402

app.add_typer(_seeds.app, name="seeds")
app.command("links")(_fielding.links)
app.add_typer(_fielding.wave_app, name="wave")
app.command("invite")(_fielding.invite)
app.command("remind")(_fielding.remind)
app.command("status")(_fielding.status)
app.add_typer(_nominations.app, name="nominations")
app.add_typer(_export.app, name="export")
# analysis commands (issue 4)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"consult {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    project: Annotated[
        Path | None,
        typer.Option("--project", "-p", help="The project folder (default: found by walking up "
                     "from the current folder).", file_okay=False),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Run an international expert consultation, from first invitation to published report."""
    ctx.obj = State(project_dir=project, debug=debug)


def run() -> None:
    """Entry point of the ``consult`` script."""
    app(prog_name="consult")
