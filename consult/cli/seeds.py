"""``consult seeds``: the consultation's first invitees (wave 0)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from consult.cli.common import out, project_of

app = typer.Typer(help="Add seeds: the first invitees, each with a personal wave-0 code.",
                  epilog="Example: consult seeds import seeds.xlsx", no_args_is_help=True)


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV or XLSX with columns name, email, "
                                         "organisation, country, language.",
                                         exists=True, dir_okay=False)],
) -> None:
    """Import seeds from a spreadsheet; every row is checked first, and one bad row imports nothing.

    Example: consult seeds import seeds.xlsx
    """
    from consult.sampling.seeds import import_seeds
    from consult.store.db import open_store

    project = project_of(ctx)
    with open_store(project.database_url) as store:
        added = import_seeds(store, file, languages=project.settings.project.languages)
    out.print(f"Imported {len(added)} seed(s) from {file.name}, each with a personal wave-0 code.",
              markup=False)
    out.print("Next: consult wave open 0, then consult invite --outbox outbox (or --send)",
              markup=False)


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", help="Full name.")],
    email: Annotated[str, typer.Option("--email", help="E-mail address.")],
    organisation: Annotated[str, typer.Option("--organisation", help="Organisation.")] = "",
    country: Annotated[str, typer.Option("--country", help="Country (name or ISO code).")] = "",
    language: Annotated[str, typer.Option("--language", help="Language of their messages "
                                          "(default: the project's first).")] = "",
) -> None:
    """Add one seed with a personal wave-0 code.

    Example: consult seeds add --name "Ana Lima" --email ana@example.org --country Brazil --language en
    """
    from consult.sampling.codes import display
    from consult.sampling.seeds import add_seed
    from consult.store.db import open_store

    project = project_of(ctx)
    with open_store(project.database_url) as store:
        seed = add_seed(store, name, email, organisation, country, language,
                        languages=project.settings.project.languages)
    out.print(f"Added seed {seed.name} <{seed.email}> with code {display(seed.code)} (wave 0).",
              markup=False)
