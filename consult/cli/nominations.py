"""``consult nominations``: colleagues named by respondents, waiting for approval."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from consult.cli.common import out, print_json, project_of

app = typer.Typer(help="Review colleagues that respondents nominated; approve to invite them.",
                  epilog="Example: consult nominations list --status all", no_args_is_help=True)


class Status(StrEnum):
    """Which nominations to list."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    ALL = "all"


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[Status, typer.Option("--status", help="Which to list.")] = Status.PENDING,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """List nominations (pending ones by default).

    Example: consult nominations list --status all
    """
    from consult.sampling.codes import display
    from consult.sampling.nominations import list_nominations
    from consult.store.db import open_store

    project = project_of(ctx)
    with open_store(project.database_url) as store:
        found = list_nominations(store, None if status is Status.ALL else status.value)
    if as_json:
        print_json([
            {"id": n.id, "nominator_code": n.nominator_code, "name": n.name, "email": n.email,
             "organisation": n.organisation, "country_iso3": n.country_iso3,
             "language": n.language, "status": n.status, "created_at": n.created_at.isoformat(),
             "decided_at": n.decided_at.isoformat() if n.decided_at else None, "code": n.code}
            for n in found])
        return
    if not found:
        out.print(f"No {'' if status is Status.ALL else status.value + ' '}nominations.",
                  markup=False)
    for n in found:
        details = ", ".join(x for x in (n.organisation, n.country_iso3, n.language) if x)
        out.print(f"{n.id:>4}  {n.status:<8}  {n.name} <{n.email}>"
                  + (f" ({details})" if details else "")
                  + f"  nominated by {display(n.nominator_code)}", markup=False)


@app.command("approve")
def approve(
    ctx: typer.Context,
    nomination_id: Annotated[int, typer.Argument(metavar="ID", help="The nomination's id.")],
) -> None:
    """Approve a nomination: the nominee gets a child code of the nominator and a queued invitation.

    Example: consult nominations approve 12
    """
    from consult.sampling.codes import display
    from consult.sampling.nominations import approve_nomination
    from consult.sampling.setup import fielding_setup
    from consult.store.db import open_store

    project = project_of(ctx)
    with open_store(project.database_url) as store:
        record, invitee = approve_nomination(store, fielding_setup(project), nomination_id)
    out.print(f"Approved nomination {record.id}: {record.name} <{record.email}> gets code "
              f"{display(invitee.code)} (wave {invitee.wave}); the invitation is queued.",
              markup=False)
    out.print(f"Next: consult invite --wave {invitee.wave} --send (the wave must be open)",
              markup=False)


@app.command("reject")
def reject(
    ctx: typer.Context,
    nomination_id: Annotated[int, typer.Argument(metavar="ID", help="The nomination's id.")],
) -> None:
    """Reject a nomination; the nominee is never contacted.

    Example: consult nominations reject 12
    """
    from consult.sampling.nominations import reject_nomination
    from consult.store.db import open_store

    project = project_of(ctx)
    with open_store(project.database_url) as store:
        record = reject_nomination(store, nomination_id)
    out.print(f"Rejected nomination {record.id} ({record.name}).", markup=False)
