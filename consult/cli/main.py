"""``consult``: the root command and its groups."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from consult import __version__
from consult.cli import (
    analyze,
    contacts,
    db,
    export,
    fielding,
    ingest,
    init,
    nominations,
    questionnaire,
    report,
    results,
    seeds,
    serve,
    synth,
    themes,
)
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
app.command("ingest")(ingest.ingest)
# fielding
app.add_typer(seeds.app, name="seeds")
app.add_typer(contacts.app, name="contacts")
app.command("links")(fielding.links)
app.add_typer(fielding.wave_app, name="wave")
app.command("invite")(fielding.invite)
app.command("remind")(fielding.remind)
app.command("status")(fielding.status)
app.add_typer(nominations.app, name="nominations")
app.add_typer(export.app, name="export")
# analysis
app.command("analyze")(analyze.analyze)
app.add_typer(results.app, name="results")
# themes
app.add_typer(themes.app, name="themes")
# report
app.command("report")(report.report)
# web form
app.command("serve")(serve.serve)


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
