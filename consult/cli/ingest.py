"""``consult ingest``: a survey platform's export into the store."""

from __future__ import annotations

import os
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from consult.cli.common import err, out, print_json, project_of

if TYPE_CHECKING:
    from consult.ingest.run import IngestResult


class SourceFormat(StrEnum):
    """The export formats consult reads."""

    qualtrics = "qualtrics"
    surveymonkey = "surveymonkey"
    kobo = "kobo"
    odk = "odk"
    limesurvey = "limesurvey"
    table = "table"


EXIT_REVIEW = 3
MAX_SHOWN = 40


def ingest(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False,
                                         help="The export file (CSV, TSV, XLSX or JSON Lines).")],
    format: Annotated[SourceFormat | None, typer.Option(
        "--format", "-f", help="The platform, when auto-detection guesses wrong.")] = None,
    mapping: Annotated[str | None, typer.Option(
        help="Name of the mapping in mapping/ (default: the format's name).")] = None,
    accept_mapping: Annotated[bool, typer.Option(
        "--accept-mapping", help="Take a drafted mapping as it is when every match is confident."
    )] = False,
    replace: Annotated[bool, typer.Option(
        "--replace", help="Replace stored responses that this file changes; with a file "
        "already ingested, ingest it again (after its mapping was corrected).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Ingest a survey export: map its columns, check every row, store it in one transaction.

    The first time a source is seen, its column mapping is drafted to
    mapping/<format>.yaml; review it and set reviewed: true in it (or pass
    --accept-mapping when every match is confident) and run again. Errors
    stop the ingest (exit 1) and nothing is stored; warnings are listed and
    the ingest proceeds. A mapping waiting for review exits with 3. A file
    already ingested is skipped unless --replace is given.

    Example: consult ingest exports/qualtrics-2014-11-30.csv --accept-mapping
    """
    from consult.ingest.run import ingest_file

    project = project_of(ctx)
    hook = _test_pause_hook()
    if as_json:
        result = ingest_file(project, file, format=format.value if format else None,
                             mapping_name=mapping, accept_mapping=accept_mapping,
                             replace_changed=replace, before_commit=hook)
    else:
        from rich.progress import Progress

        with Progress(console=err, transient=True, disable=not err.is_terminal) as bar:
            task = bar.add_task(f"Reading {file.name}", total=None)

            def advance(done: int, total: int) -> None:
                if total >= 5000:
                    bar.update(task, completed=done, total=total)

            result = ingest_file(project, file, format=format.value if format else None,
                                 mapping_name=mapping, accept_mapping=accept_mapping,
                                 replace_changed=replace, progress=advance, before_commit=hook)
    if as_json:
        print_json(_as_dict(result, project.root))
    else:
        _print(result, project.root, file)
    if result.status == "failed":
        raise typer.Exit(code=1)
    if result.status == "review":
        raise typer.Exit(code=EXIT_REVIEW)


def _print(result: IngestResult, root: Path, given: Path) -> None:
    if result.status == "already":
        import shlex

        out.print(f"{result.file.name} was already ingested (ingest #{result.ingest_id}); "
                  "nothing to do. To store it again (after correcting its mapping), run: "
                  f"consult ingest {escape(shlex.quote(str(given)))} --replace")
        return
    if result.status == "review":
        assert result.mapping is not None and result.mapping_path is not None
        m = result.mapping
        confident = len(m.questions) - len(m.uncertain) - len(m.unmatched)
        shown = result.mapping_path.relative_to(root)
        out.print(f"{'Drafted' if result.drafted else 'Still a draft (reviewed: false):'} "
                  f"{shown} for {result.file.name} "
                  f"({result.format}): {confident} questions matched confidently, "
                  f"{len(m.uncertain)} uncertain, {len(m.unmatched)} unmatched.")
        for q in m.uncertain:
            out.print(f"  uncertain  {q.question} → {q.item} ({q.how}, {q.confidence:.2f}): "
                      f"{escape(q.text[:70])}")
        for q in m.unmatched:
            near = ", ".join(f"{i} {s:.2f}" for i, s in q.candidates) or "no candidate"
            out.print(f"  unmatched  {q.question} ({near}): {escape(q.text[:70])}")
        if m.uncertain or m.unmatched:
            out.print(f"Review each entry above in {shown} (docs/mapping.md): set its item, or "
                      "leave item: null to ignore the question; then set reviewed: true in it "
                      "and run the same command again.")
        else:
            out.print("Every match is confident: review it, or run again with --accept-mapping.")
        return
    if result.issues:
        table = Table(title=f"Issues in {result.file.name}", show_lines=False)
        for name in ("severity", "row", "column", "item", "message"):
            table.add_column(name, overflow="fold")
        for issue in result.issues[:MAX_SHOWN]:
            table.add_row(issue.severity, str(issue.row or ""), escape(issue.column),
                          issue.item, escape(f"{issue.message}. {issue.hint}".strip(" .")))
        (err if result.errors else out).print(table)
        if len(result.issues) > MAX_SHOWN:
            out.print(f"... and {len(result.issues) - MAX_SHOWN} more (see --json).")
    severities = {s: sum(1 for i in result.issues if i.severity == s)
                  for s in ("error", "warning", "info")}
    excluded = ", ".join(f"{reason} {n}" for reason, n in sorted(result.excluded.items())) or "none"
    verb = "Ingested" if result.status == "ingested" else "Did NOT ingest"
    stored_now = f"{result.included} included, excluded: {excluded}"
    if result.unchanged:  # counts of the rows stored now, beside those already there
        stored_now = f"{result.unchanged} already stored as they are; " + (
            f"of the others, {stored_now}" if result.included or result.excluded
            else "nothing new to store")
    (out if result.status == "ingested" else err).print(
        f"{verb} {result.file.name} ({result.format}): {result.rows_read} rows read, "
        f"{stored_now}; {severities['error']} errors, {severities['warning']} warnings"
        + (f"; {result.replaced} replaced" if result.replaced else ""))
    if result.status == "failed":
        err.print("Nothing was stored. Fix the errors above (or the mapping) and run again.")


def _as_dict(result: IngestResult, root: Path) -> dict[str, object]:
    return {
        "file": str(result.file),
        "status": result.status,
        "format": result.format,
        "ingest_id": result.ingest_id,
        "rows_read": result.rows_read,
        "included": result.included,
        "excluded": dict(sorted(result.excluded.items())),
        "unchanged": result.unchanged,
        "replaced": result.replaced,
        "mapping": str(result.mapping_path.relative_to(root)) if result.mapping_path else None,
        "issues": [
            {"code": i.code, "severity": i.severity, "file": i.file, "row": i.row,
             "column": i.column, "item": i.item, "message": i.message, "hint": i.hint}
            for i in result.issues
        ],
    }


def _test_pause_hook() -> Callable[[], None] | None:
    """For the crash test only: block before commit until the test kills the process."""
    fifo = os.environ.get("CONSULT_TEST_PAUSE_BEFORE_COMMIT")
    if not fifo:
        return None

    def pause() -> None:
        Path(fifo + ".reached").write_text("1", encoding="utf-8")
        with open(fifo, encoding="utf-8") as handle:  # blocks until the test writes or kills
            handle.read()

    return pause
