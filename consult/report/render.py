"""Rendering: the Jinja2 environment (project templates over shipped ones) and the outputs.

Templates are looked up in the project's ``templates/`` first, then in the
shipped ``templates/``; the shipped ones stay reachable as ``default:NAME`` so an
override can ``{% extends "default:report/cover.html.j2" %}`` instead of
copying. Undefined variables are errors; HTML templates autoescape; any
template error becomes a :class:`ConsultError` naming the template file and line.
"""

from __future__ import annotations

import os
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path

import jinja2

from consult.errors import ConsultError
from consult.project import Project
from consult.report import formats
from consult.report.context import ReportContext, build_context
from consult.report.figures import prefix_ids
from consult.resources import shipped_dir
from consult.results import read_results

FORMATS = ("html", "md", "pdf", "docx")
DOCUMENTS = ("glance", "full")


@dataclass(frozen=True)
class Rendered:
    """One written output."""

    document: str
    lang: str
    format: str
    path: Path


def make_environment(project_templates: Path | None, shipped: Path | None = None) -> jinja2.Environment:
    """The template environment: project templates, then shipped ones (also as ``default:``)."""
    shipped = shipped or shipped_dir("templates")
    shipped_loader = jinja2.FileSystemLoader(str(shipped))
    loaders: list[jinja2.BaseLoader] = []
    if project_templates is not None and project_templates.is_dir():
        loaders.append(jinja2.FileSystemLoader(str(project_templates)))
    loaders += [jinja2.PrefixLoader({"default": shipped_loader}, delimiter=":"), shipped_loader]
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=_autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env


def render_template(env: jinja2.Environment, name: str, context: ReportContext) -> str:
    """Render template ``name`` with ``context`` and the language's filters.

    Raises
    ------
    ConsultError
        Naming the template file and line, for a missing template, a syntax
        error, an undefined variable or any other error raised while rendering.
    """
    lang = context.lang
    filters: dict[str, Callable[..., str]] = {
        "num": lambda v, d=None: formats.number(v, lang, d),
        "pct": lambda v, display="": formats.percent(v, lang, display),
        "pvalue": lambda v: formats.p_value(v, lang),
        "join_list": lambda v: formats.join_list(list(v), lang),
        "md": markdown_text,
        "unique_ids": prefix_ids,
    }
    env.filters.update(filters)
    try:
        template = env.get_template(name)
        return template.render(context.as_dict())
    except jinja2.TemplateNotFound as exc:
        raise ConsultError(f"template {exc.name} not found in the project's templates/ or "
                           "consult's shipped templates/") from None
    except jinja2.TemplateSyntaxError as exc:
        raise ConsultError(f"{exc.filename or exc.name}, line {exc.lineno}: "
                           f"{exc.message}") from None
    except Exception as exc:  # any error raised inside a template: locate it
        where = _template_frame(exc)
        if where is None:
            raise
        raise ConsultError(f"{where[0]}, line {where[1]}: {_describe(exc)}") from None


def render_report(project: Project, *, formats_: tuple[str, ...] = ("html",),
                  langs: tuple[str, ...] = ("en",), documents: tuple[str, ...] = DOCUMENTS,
                  results_path: Path | None = None, today: date | None = None) -> list[Rendered]:
    """Render the reports of ``project`` from its results.json into ``out/report/``.

    Never runs analysis: a missing results.json is an error saying to run
    ``consult analyze``. Each output is written whole or not at all (to a
    temporary file, then renamed). When one fails, the others are still
    written, the older file of the failed one is removed so that it cannot pass
    for current, and :class:`ReportIncomplete` says which.
    """
    path = results_path or project.out_dir / "results.json"
    if not path.is_file():
        raise ConsultError(f"{path}: no such file; the report is rendered from results.json, "
                           "write it first with: consult analyze")
    results = read_results(path)
    env = make_environment(project.root / "templates")
    target = project.out_dir / "report"
    target.mkdir(parents=True, exist_ok=True)
    written: list[Rendered] = []
    failed: list[Failure] = []
    draw = "html" in formats_ or "pdf" in formats_
    for lang in langs:
        context = build_context(project, results, lang, today=today, figures=draw)
        for document in documents:
            html: str | Exception | None = None
            if draw:
                try:
                    html = render_template(env, f"report/{document}.html.j2", context)
                except Exception as exc:  # reported with the outputs that needed it
                    html = exc
            for fmt in (f for f in FORMATS if f in formats_):
                out = target / f"{document}.{lang}.{fmt}"
                try:
                    _write_whole(out, partial(_produce, env, context, document, fmt, html,
                                              base=target))
                except Exception as exc:
                    failed.append(Failure(out, exc, _remove(out)))
                else:
                    written.append(Rendered(document, lang, fmt, out))
    if failed:
        raise ReportIncomplete(written, failed)
    return written


@dataclass(frozen=True)
class Failure:
    """One output that could not be written."""

    path: Path
    error: Exception
    removed: bool
    """whether an older file of that name was removed"""

    @property
    def reason(self) -> str:
        """The error as one line: a library error's message, else its type and text."""
        if isinstance(self.error, ConsultError):
            return str(self.error)
        return f"{type(self.error).__name__}: {self.error}"


class ReportIncomplete(ConsultError):
    """Some outputs could not be written; ``written`` were, ``failed`` were not.

    The message is one line: the outputs not written and why, the older files
    removed, and how many others were written.
    """

    def __init__(self, written: list[Rendered], failed: list[Failure]) -> None:
        self.written = written
        self.failed = failed
        folder = failed[0].path.parent
        by_reason: dict[str, list[str]] = {}
        for failure in failed:
            by_reason.setdefault(failure.reason, []).append(failure.path.name)
        parts = [f"{formats.join_list(names, 'en')} not written to {folder}: {reason}"
                 for reason, names in by_reason.items()]
        removed = [f.path.name for f in failed if f.removed]
        if removed:
            parts.append(f"the older {formats.join_list(removed, 'en')} "
                         f"{'was' if len(removed) == 1 else 'were'} removed so that "
                         f"{'it cannot' if len(removed) == 1 else 'none can'} pass for current")
        if written:
            parts.append(f"the other {len(written)} output{'s' if len(written) > 1 else ''} "
                         f"{'was' if len(written) == 1 else 'were'} written")
        super().__init__("; ".join(parts))
        unexpected = next((f.error for f in failed if not isinstance(f.error, ConsultError)), None)
        self.__cause__ = unexpected  # --debug shows where it went wrong


def write_pdf(html: str, path: Path, base: Path) -> Path:
    """Print ``html`` to PDF with WeasyPrint (imported only here)."""
    try:
        from weasyprint import HTML  # type: ignore[import-untyped]
    except ImportError:
        raise ConsultError("PDF output needs WeasyPrint: pip install weasyprint "
                           "(or use --format html)") from None
    HTML(string=html, base_url=str(base)).write_pdf(str(path))
    return path


def markdown_text(value: object) -> str:
    """``value`` safe to print in Markdown: no raw HTML, no emphasis, no table breaks.

    Respondents' words and labels pass through this (the ``md`` filter) in the
    Markdown templates, so that a viewer rendering the file never meets markup
    that came from an answer. ``<5`` and ``R&D`` stay readable: only a ``<`` that
    could open a tag and an ``&`` that could start an entity are escaped.
    """
    text = str(value)
    text = re.sub(r"([\\`*_\[\]|])", r"\\\1", text)
    text = re.sub(r"<(?=[A-Za-z/!?])", r"\\<", text)
    return re.sub(r"&(?=#?\w+;)", r"\\&", text)


# --------------------------------------------------------------------------- helpers


def _autoescape(name: str | None) -> bool:
    return name is not None and (name.endswith(".html.j2") or name.endswith(".html"))


def _produce(env: jinja2.Environment, context: ReportContext, document: str, fmt: str,
             html: str | Exception | None, path: Path, base: Path) -> None:
    """Write ``document`` in ``fmt`` to ``path``; ``html`` is its rendered HTML (or why not)."""
    if fmt in ("html", "pdf"):
        if isinstance(html, Exception):
            raise html
        assert html is not None
        if fmt == "html":
            path.write_text(html, encoding="utf-8")
        else:
            write_pdf(html, path, base=base)
    elif fmt == "md":
        path.write_text(render_template(env, f"report/{document}.md.j2", context),
                        encoding="utf-8")
    else:
        from consult.report.word import write_docx

        write_docx(context, document, path)


def _write_whole(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write`` on a temporary file beside ``path``, then rename it: no half-written file."""
    part = path.with_name(f".{path.name}.part")
    try:
        write(part)
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)


def _remove(path: Path) -> bool:
    """Remove an older output that failed this time; whether there was one."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def _template_frame(exc: BaseException) -> tuple[str, int] | None:
    """The innermost template file and line in ``exc``'s traceback (Jinja rewrites frames)."""
    found = None
    for frame, line in traceback.walk_tb(exc.__traceback__):
        filename = frame.f_code.co_filename
        if filename.endswith(".j2") or filename.endswith(".html"):
            found = (filename, line)
    return found


def _describe(exc: BaseException) -> str:
    if isinstance(exc, jinja2.UndefinedError):
        return f"{exc.message} (every name a template uses must be in the context; see " \
               "docs/report-context.md)"
    return f"{type(exc).__name__}: {exc}"


