"""``consult report``: render the reports from out/results.json."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from consult.cli.common import out, project_of


class Format(StrEnum):
    html = "html"
    md = "md"
    pdf = "pdf"
    docx = "docx"
    all = "all"


class Language(StrEnum):
    en = "en"
    fr = "fr"
    all = "all"


class Document(StrEnum):
    glance = "glance"
    full = "full"
    all = "all"


def report(
    ctx: typer.Context,
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.html,
    lang: Annotated[Language, typer.Option("--lang", "-l", help="Report language.")] = Language.en,
    document: Annotated[Document, typer.Option(
        "--document", "-d", help="Research at a glance, the full report, or both.")] = Document.all,
) -> None:
    """Render the reports from out/results.json into out/report/ (never re-runs analysis).

    Templates come from the project's templates/ first, then consult's own
    (reachable as default:NAME); the authors' paragraphs come from text/*.md.
    See docs/report.md.

    Example: consult report --format all --lang fr --document glance
    """
    from consult.report.render import DOCUMENTS, FORMATS, render_report

    formats = FORMATS if format is Format.all else (format.value,)
    langs = ("en", "fr") if lang is Language.all else (lang.value,)
    documents = DOCUMENTS if document is Document.all else (document.value,)
    for done in render_report(project_of(ctx), formats_=formats, langs=langs, documents=documents):
        out.print(f"Wrote {done.path}", markup=False)
