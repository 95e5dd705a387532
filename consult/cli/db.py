"""``consult db``: the project's database."""

from __future__ import annotations

from typing import Annotated

import typer

from consult.cli.common import out, print_json, project_of

app = typer.Typer(help="Inspect the project's database (opening it applies any pending schema "
                       "migration).",
                  epilog="Example: consult db info --json", no_args_is_help=True)


@app.command("info")
def info(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Show the database URL (password hidden), schema version and rows per table.

    Opening the database applies any pending schema migration first.

    Example: consult db info --json
    """
    from consult.store.db import open_store, safe_url

    project = project_of(ctx)
    with open_store(project.database_url) as store:
        data = {
            "url": safe_url(project.database_url),
            "dialect": store.dialect,
            "schema_version": store.schema_version(),
            "rows": store.counts(),
        }
    if as_json:
        print_json(data)
        return
    out.print(f"database        {data['url']}")
    out.print(f"schema version  {data['schema_version']}")
    for table, count in data["rows"].items():  # type: ignore[attr-defined]
        out.print(f"  {table:<16}{count:>8}")
