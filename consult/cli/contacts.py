"""``consult contacts``: see, correct or forget the people consult writes to."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from consult.cli.common import out, project_of

app = typer.Typer(help="See, correct or forget contacts: seeds and approved nominees.",
                  epilog="Example: consult contacts correct 7 --email a.lima@example.org",
                  no_args_is_help=True)


@app.command("list")
def list_(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Every contact with their id, details and codes.

    Example: consult contacts list
    """
    from rich.table import Table

    from consult.sampling.codes import display
    from consult.store.contacts import contacts
    from consult.store.db import open_store

    project = project_of(ctx)
    with open_store(project.database_url) as store:
        found = contacts(store)
    if as_json:
        print(json.dumps([{"id": c.id, "name": c.name, "email": c.email,
                           "organisation": c.organisation, "country": c.country_iso3,
                           "language": c.language, "codes": [display(x) for x in c.codes],
                           "forgotten": c.forgotten} for c in found], ensure_ascii=False,
                         indent=2))
        return
    table = Table(title=f"{len(found)} contact(s)")
    for column in ("id", "name", "email", "organisation", "country", "language", "codes"):
        table.add_column(column, overflow="fold")
    for c in found:
        table.add_row(str(c.id), c.name, c.email or "", c.organisation or "",
                      c.country_iso3 or "", c.language or "",
                      ", ".join(display(x) for x in c.codes))
    out.print(table)


@app.command("correct")
def correct(
    ctx: typer.Context,
    contact_id: Annotated[int, typer.Argument(help="The contact's id (consult contacts list).")],
    name: Annotated[str | None, typer.Option("--name", help="Full name.")] = None,
    email: Annotated[str | None, typer.Option("--email", help="E-mail address.")] = None,
    organisation: Annotated[str | None, typer.Option("--organisation",
                                                     help="Organisation.")] = None,
    country: Annotated[str | None, typer.Option("--country",
                                                help="Country (name or ISO code).")] = None,
    language: Annotated[str | None, typer.Option("--language",
                                                 help="Language of their messages.")] = None,
) -> None:
    """Correct a contact's details (those given; the others stay), checked as a seed's are.

    Messages to them not yet delivered are withdrawn; the next consult invite
    (or remind) writes them again with the new details.

    Example: consult contacts correct 7 --email a.lima@example.org
    """
    from consult.sampling.contacts import correct as correct_contact
    from consult.store.db import open_store

    if all(v is None for v in (name, email, organisation, country, language)):
        raise typer.BadParameter("give at least one of --name, --email, --organisation, "
                                 "--country, --language")
    project = project_of(ctx)
    with open_store(project.database_url) as store:
        found, withdrawn = correct_contact(
            store, contact_id, name=name, email=email, organisation=organisation,
            country=country, language=language, languages=project.settings.project.languages)
    out.print(f"Corrected contact {found.id}: {found.name} <{found.email}>.", markup=False)
    if withdrawn.unsent:
        out.print(f"{withdrawn.unsent} message(s) not yet delivered were withdrawn: run consult "
                  "invite (or remind) again to send them with the new details.", markup=False)


@app.command("forget")
def forget(
    ctx: typer.Context,
    contact_id: Annotated[int, typer.Argument(help="The contact's id (consult contacts list).")],
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: this cannot be undone.")] = False,
) -> None:
    """Erase a contact's name, address and organisation wherever consult keeps them.

    For a person who asks to be removed. Their codes, and the dates their
    messages were sent, stay for the fielding figures; nothing more is sent
    to them. Cannot be undone.

    Example: consult contacts forget 7 --yes
    """
    from consult.store.contacts import forget_contact
    from consult.store.db import open_store

    if not yes:
        raise typer.BadParameter("forgetting a contact cannot be undone: run again with --yes",
                                 param_hint="--yes")
    project = project_of(ctx)
    with open_store(project.database_url) as store:
        done = forget_contact(store, contact_id)
    out.print(f"Forgot contact {contact_id}: name, e-mail address and organisation erased from "
              f"the contact, {done.erased} message(s) sent to them and any nomination; "
              f"{done.unsent} message(s) not yet delivered deleted.", markup=False)
