"""``consult links``, ``wave``, ``invite``, ``remind``, ``status``: running the referral waves."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from consult.cli.common import err, out, print_json, project_of
from consult.errors import ConsultError

if TYPE_CHECKING:
    from consult.project import Project
    from consult.sampling.invitations import Delivery, Unsendable
    from consult.sampling.mailer import Mailer
    from consult.sampling.status import Counts

wave_app = typer.Typer(help="Open and close referral waves (wave = depth in the referral tree).",
                       epilog="Example: consult wave open 1", no_args_is_help=True)

SendOption = Annotated[bool, typer.Option("--send", help="Deliver over SMTP with [smtp] in "
                                          "consult.toml.")]
OutboxOption = Annotated[Path | None, typer.Option(
    "--outbox", file_okay=False, help="Write one .eml file per message into this folder instead.")]
WaveOption = Annotated[int | None, typer.Option("--wave", min=0, help="Only this wave "
                                                "(default: every open wave).")]
AttemptsOption = Annotated[int, typer.Option("--max-attempts", min=1, help="Give up on a message "
                                             "after this many failed deliveries.")]


def links(
    ctx: typer.Context,
    template: Annotated[str | None, typer.Option(
        "--template", help="Link with {code} where the code goes (default: [fielding] "
        "link_template), e.g. https://survey.example.org/s/abc?code={code}")] = None,
    wave: Annotated[int | None, typer.Option("--wave", min=0, help="Only this wave.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", dir_okay=False,
                      help="CSV file to write (default: print the CSV).")] = None,
) -> None:
    """Personal links for every code, as CSV: code, display, link, wave, parent_code, name, email, language.

    Works with any platform that reads a URL parameter: Qualtrics ?code={code},
    LimeSurvey ?token={code}, REDCap &ref={code}, ODK ?d[/data/code]={code}
    (see docs/fielding.md).

    The codes written count as handed out: consult status counts them as invited.

    Example: consult links --template "https://survey.example.org/s/abc?code={code}" -o links.csv
    """
    from consult.sampling.referrals import (
        personal_links,
        record_links_handed_out,
        write_links_csv,
    )
    from consult.store.db import open_store

    project = project_of(ctx)
    with open_store(project.database_url) as store:
        found = personal_links(store, template or project.settings.fielding.link_template,
                               waves=None if wave is None else [wave])
        if output is None:
            write_links_csv(found, sys.stdout)
        else:
            with output.open("w", encoding="utf-8", newline="") as stream:
                write_links_csv(found, stream)
        record_links_handed_out(store, found)  # once written: a failed write hands out nothing
    if output is not None:
        out.print(f"Wrote {len(found)} link(s) to {output}", markup=False)


@wave_app.command("open")
def wave_open(
    ctx: typer.Context,
    number: Annotated[int, typer.Argument(help="The wave: 0 for the seeds, n + 1 for those "
                                          "referred by wave n.")],
    reopen: Annotated[bool, typer.Option("--reopen", help="Open a wave closed earlier.")] = False,
) -> None:
    """Open a wave; for wave n + 1, give each wave-n respondent who completed their child codes.

    Example: consult wave open 1
    """
    from consult.sampling.waves import open_wave
    from consult.store.db import open_store

    project = project_of(ctx)
    with open_store(project.database_url) as store:
        opened = open_wave(store, number, child_codes=project.settings.fielding.child_codes,
                           reopen=reopen)
    verb = "Reopened" if opened.reopened else "Opened"
    out.print(f"{verb} wave {number}.", markup=False)
    if number > 0:
        parents = len({code.parent_code for code in opened.issued})
        out.print(f"Issued {len(opened.issued)} child code(s) to {parents} respondent(s) of "
                  f"wave {number - 1}.", markup=False)
    out.print(f"Next: consult invite --wave {number} --outbox outbox (or --send)", markup=False)


@wave_app.command("close")
def wave_close(
    ctx: typer.Context,
    number: Annotated[int, typer.Argument(help="The wave to close.")],
) -> None:
    """Close a wave, recording the date; no invitation or reminder goes to it afterwards.

    Example: consult wave close 0
    """
    from consult.sampling.waves import close_wave
    from consult.store.db import open_store

    project = project_of(ctx)
    with open_store(project.database_url) as store:
        record = close_wave(store, number)
    closed = record.closed_at.date().isoformat() if record.closed_at else "?"
    out.print(f"Closed wave {number} on {closed}.", markup=False)


@wave_app.command("list")
def wave_list(ctx: typer.Context) -> None:
    """List the waves with the dates they opened and closed.

    Example: consult wave list
    """
    from consult.sampling.waves import list_waves
    from consult.store.db import open_store

    project = project_of(ctx)
    with open_store(project.database_url) as store:
        records = list_waves(store)
    if not records:
        out.print("No wave opened yet; start with: consult wave open 0", markup=False)
    for record in records:
        opened = record.opened_at.date().isoformat() if record.opened_at else "-"
        closed = record.closed_at.date().isoformat() if record.closed_at else "-"
        state = "open" if record.is_open else "closed"
        out.print(f"wave {record.number}  {state:<6}  opened {opened}  closed {closed}",
                  markup=False)


def invite(
    ctx: typer.Context,
    wave: WaveOption = None,
    send: SendOption = False,
    outbox: OutboxOption = None,
    max_attempts: AttemptsOption = 5,
) -> None:
    """Invite everyone of the open waves not invited yet; send each respondent their codes to pass on.

    Every message is logged first: re-running never sends one twice, and one
    that failed is retried on the next run.

    Example: consult invite --wave 0 --outbox outbox
    """
    from consult.sampling.invitations import invite as run_invite
    from consult.sampling.setup import fielding_setup
    from consult.store.db import open_store

    project = project_of(ctx)
    mailer = _mailer(project, send, outbox)
    with open_store(project.database_url) as store:
        result = run_invite(store, fielding_setup(project), mailer, wave=wave,
                            max_attempts=max_attempts)
    waves = ", ".join(str(w) for w in result.waves)
    out.print(f"Wave(s) {waves}.", markup=False)
    if result.issued:
        parents = len({code.parent_code for code in result.issued})
        out.print(f"Issued {len(result.issued)} child code(s) to {parents} respondent(s).",
                  markup=False)
    out.print(f"Queued {result.invitations_queued} invitation(s) and {result.referrals_queued} "
              "referral letter(s).", markup=False)
    _report(result.delivery, outbox is not None, result.unsendable)


def remind(
    ctx: typer.Context,
    after_days: Annotated[float, typer.Option("--after-days", min=0, help="Days since the "
                                              "invitation or the last reminder.")],
    max_reminders: Annotated[int, typer.Option("--max", min=0, help="Reminders per invitee, "
                                               "at most.")],
    wave: WaveOption = None,
    send: SendOption = False,
    outbox: OutboxOption = None,
    max_attempts: AttemptsOption = 5,
) -> None:
    """Remind invitees of open waves who have not completed a response.

    Example: consult remind --after-days 7 --max 2 --send
    """
    from consult.sampling.invitations import remind as run_remind
    from consult.sampling.setup import fielding_setup
    from consult.store.db import open_store

    project = project_of(ctx)
    mailer = _mailer(project, send, outbox)
    with open_store(project.database_url) as store:
        result = run_remind(store, fielding_setup(project), mailer, after_days=after_days,
                            max_reminders=max_reminders, wave=wave, max_attempts=max_attempts)
    out.print(f"Wave(s) {', '.join(str(w) for w in result.waves)}.", markup=False)
    out.print(f"Queued {result.reminders_queued} reminder(s).", markup=False)
    _report(result.delivery, outbox is not None, result.unsendable)


def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Show the fielding per wave and per seed (invited, started, completed, referrals) and by region.

    Example: consult status --json
    """
    from consult.sampling.status import fielding_status
    from consult.store.db import open_store

    project = project_of(ctx)
    with open_store(project.database_url) as store:
        result = fielding_status(store)
    if as_json:
        print_json(result.to_dict())
        return
    if not result.waves:
        out.print("No codes issued yet; add seeds with: consult seeds import FILE", markup=False)
        return
    rows = [(f"wave {w.wave}" + _wave_state(w.opened_at, w.closed_at), w.counts)
            for w in result.waves]
    _table("By wave", rows)
    _table("By seed", [(f"{s.code} {s.name or ''}".rstrip(), s.counts) for s in result.seeds])
    _table("By region (respondents' regions)", [(r.region, r.counts) for r in result.regions])
    _table("All", [("total", result.totals)])
    for kind, counts in sorted(result.messages.items()):
        out.print(f"{kind} messages: " + ", ".join(f"{n} {state}" for state, n
                                                  in sorted(counts.items())), markup=False)
    if result.unmatched_respondents:
        out.print(f"{result.unmatched_respondents} respondent(s) answered without a code issued "
                  "here (they are not counted above).", markup=False)


# --------------------------------------------------------------------------- helpers


def _mailer(project: Project, send: bool, outbox: Path | None) -> Mailer:
    from consult.sampling.mailer import OutboxMailer, SmtpMailer, smtp_password

    if send and outbox is not None:
        raise ConsultError("--send and --outbox exclude each other; choose one")
    if outbox is not None:
        return OutboxMailer(outbox)
    if not send:
        raise ConsultError("say how to deliver: --send (over SMTP, [smtp] in consult.toml) or "
                           "--outbox DIR (.eml files for any mail client)")
    smtp = project.settings.smtp
    return SmtpMailer(smtp, smtp_password(smtp))


def _report(delivery: Delivery, to_outbox: bool, unsendable: Sequence[Unsendable] = ()) -> None:
    sent = len(delivery.sent)
    if to_outbox:
        out.print(f"Wrote {sent} message(s) to {delivery.transport}", markup=False)
    else:
        out.print(f"Sent {sent} message(s) via {delivery.transport}", markup=False)
    for failure in delivery.failures:
        message = failure.message
        then = ("gave up after the last attempt" if failure.final
                else "will be retried on the next run")
        err.print(f"  failed: {message.kind} to {message.recipient}: {failure.reason} ({then})",
                  markup=False)
    for skipped in unsendable:  # by contact id: the address may not print on a non-UTF-8 console
        err.print(f"  not sendable: {skipped.reason}", markup=False)
    if delivery.connection_lost:
        err.print(f"Stopped: {delivery.connection_lost}; {delivery.not_tried} message(s) stay "
                  "queued: run the command again.", markup=False)
    if delivery.failures or unsendable:
        raise typer.Exit(code=1)


def _wave_state(opened: object, closed: object) -> str:
    if closed is not None:
        return " (closed)"
    return " (open)" if opened is not None else ""


def _table(title: str, rows: Sequence[tuple[str, Counts]]) -> None:
    if not rows:
        return
    headers = ("invited", "not.handed", "started", "completed", "rate", "ref.issued", "ref.used",
               "days")
    width = max(len(label) for label, _ in rows) + 2
    out.print(title, markup=False)
    out.print(" " * (width + 2) + "".join(f"{h:>11}" for h in headers), markup=False)
    for label, c in rows:
        cells = (_n(c.invited), _n(c.not_handed_out), str(c.started), str(c.completed),
                 "-" if c.response_rate is None else f"{100 * c.response_rate:.1f}%",
                 str(c.referrals_issued), str(c.referrals_used),
                 "-" if c.median_days is None else f"{c.median_days:.1f}")
        out.print(f"  {label:<{width}}" + "".join(f"{cell:>11}" for cell in cells),
                  markup=False)


def _n(value: int | None) -> str:
    return "-" if value is None else str(value)
