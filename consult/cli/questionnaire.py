"""``consult questionnaire``: check, show, export and import instruments."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.tree import Tree

from consult.cli.common import err, out, print_json, project_of
from consult.errors import ConsultError, ProjectNotFoundError
from consult.questionnaire import Questionnaire, check_questionnaire, load_questionnaire

app = typer.Typer(help="Check, show, export and import questionnaires.",
                  epilog="Example: consult questionnaire check", no_args_is_help=True)

FileArg = Annotated[
    Path | None,
    typer.Argument(help="A questionnaire YAML file (default: the project's).", dir_okay=False),
]


@app.command("check")
def check(
    ctx: typer.Context,
    file: FileArg = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the issues as JSON.")] = False,
) -> None:
    """Check a questionnaire and list every problem with its YAML path and line.

    Exits with 1 when there is any error; warnings alone exit with 0.

    Example: consult questionnaire check questionnaires/r361.yaml
    """
    path = file or project_of(ctx).questionnaire_path
    questionnaire, issues = check_questionnaire(path)
    errors = [i for i in issues if i.severity == "error"]
    if as_json:
        print_json({
            "file": str(path),
            "valid": questionnaire is not None and not errors,
            "issues": [i.__dict__ for i in issues],
        })
    else:
        for issue in issues:
            (err if issue.severity == "error" else out).print(f"{issue.severity}: {issue}",
                                                              markup=False)
    if questionnaire is None or errors:
        if not as_json:
            err.print(f"{path}: {len(errors)} error(s); the questionnaire is not valid.",
                      markup=False)
        raise typer.Exit(code=1)
    if not as_json:
        n_items = len(questionnaire.items())
        out.print(f"{path}: valid ({questionnaire.id} {questionnaire.version}, "
                  f"{len(questionnaire.domains)} domains, {n_items} items, "
                  f"{len(issues)} warning(s))", markup=False)


@app.command("show")
def show(
    ctx: typer.Context,
    file: FileArg = None,
    lang: Annotated[str | None, typer.Option("--lang", help="Language of the labels.")] = None,
) -> None:
    """Print the questionnaire as a readable tree: domains, items, types, choices.

    Example: consult questionnaire show --lang fr
    """
    questionnaire = _load(ctx, file)
    if lang is not None and lang not in questionnaire.languages:
        raise ConsultError(f"--lang {lang!r}: the questionnaire is written in "
                           f"{', '.join(questionnaire.languages)}")
    out.print(questionnaire_tree(questionnaire, lang))


class ExportFormat(StrEnum):
    """What ``consult questionnaire export`` writes."""

    XLSFORM = "xlsform"
    MARKDOWN = "markdown"


_EXPORT_SUFFIX = {ExportFormat.XLSFORM: ".xlsx", ExportFormat.MARKDOWN: ".md"}


@app.command("export")
def export(
    ctx: typer.Context,
    export_format: Annotated[
        ExportFormat, typer.Option("--format", "-f", help="xlsform (ODK, KoboToolbox) or "
                                   "markdown (for reviewers and translators).")
    ],
    file: FileArg = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", dir_okay=False, help="Where to write (default: "
                     "out/questionnaire.xlsx or .md in the project, else FILE's name in the "
                     "current folder)."),
    ] = None,
    lang: Annotated[str | None, typer.Option("--lang", help="Language of the Markdown "
                                             "(default: the questionnaire's first).")] = None,
) -> None:
    """Export the questionnaire as an XLSForm workbook or a Markdown document.

    The XLSForm holds every language; --lang chooses the language of the Markdown.

    Example: consult questionnaire export --format xlsform -o out/r361.xlsx
    """
    questionnaire = _load(ctx, file)
    if lang is not None and export_format is ExportFormat.XLSFORM:
        raise ConsultError("--lang applies to --format markdown; an XLSForm holds every "
                           "language of the questionnaire")
    if lang is not None and lang not in questionnaire.languages:
        raise ConsultError(f"--lang {lang!r}: the questionnaire is written in "
                           f"{', '.join(questionnaire.languages)}")
    path = output or _export_path(ctx, file, _EXPORT_SUFFIX[export_format])
    if export_format is ExportFormat.XLSFORM:
        from consult.questionnaire.xlsform import to_xlsform

        to_xlsform(questionnaire, path)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        from consult.questionnaire.markdown import to_markdown

        path.write_text(to_markdown(questionnaire, lang), encoding="utf-8")
    out.print(f"Wrote {path}", markup=False)


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="A Qualtrics survey file (.qsf).", exists=True,
                                         dir_okay=False)],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", dir_okay=False,
                     help="The questionnaire YAML to write (default: FILE's name with .yaml, "
                     "in the current folder)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite OUTPUT if it exists.")] = False,
) -> None:
    """Import a Qualtrics survey (.qsf) as a questionnaire YAML file.

    Blocks become domains and questions items, with ids from the export tags
    (Q6 becomes q6). What could not be carried over is listed.

    Example: consult questionnaire import survey.qsf -o questionnaire.yaml
    """
    path = output or Path.cwd() / f"{file.stem}.yaml"
    if path.exists() and not force:
        raise ConsultError(f"{path} already exists; pass --force to overwrite it or "
                           "--output to write elsewhere")
    from consult.questionnaire.qsf import dump_yaml, import_qsf

    data, issues = import_qsf(file)
    header = (f"# Imported from {file.name} by consult questionnaire import.\n"
              "# Item ids come from the Qualtrics export tags; check the labels and codes.\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + dump_yaml(data), encoding="utf-8")
    for issue in issues:
        err.print(f"{issue.severity}: {issue}", markup=False)
    n_items = sum(len(d["items"]) for d in data["domains"])
    n_warnings = sum(i.severity == "warning" for i in issues)
    out.print(f"Wrote {path}: {len(data['domains'])} domains, {n_items} items "
              f"({n_warnings} warning(s), {len(issues) - n_warnings} note(s)); "
              f"check it with: consult questionnaire check {path}", markup=False)


def questionnaire_tree(q: Questionnaire, lang: str | None = None) -> Tree:
    """A rich tree of ``q`` in ``lang``."""
    def text(value: dict[str, str] | None, language: str | None) -> str:
        return escape(q.text(value, language))

    tree = Tree(f"[bold]{text(q.title, lang)}[/] ({q.id} {q.version}, {', '.join(q.languages)})")
    sections = [("profile", "Respondent profile", q.profile)]
    sections += [(d.id, text(d.title, lang), d.items) for d in q.domains]
    for section_id, title, items in sections:
        branch = tree.add(f"[bold]{title}[/] [dim]({section_id})[/]")
        for item in items:
            flags = [item.type.value]
            if item.required:
                flags.append("required")
            if item.practice:
                flags.append("practice")
            if item.relevant is not None:
                shown_if = ", ".join(item.relevant.referenced_items())
                flags.append(f"if {shown_if}")
            node = branch.add(f"[cyan]{item.id}[/] {text(item.label, lang)} [dim]"
                              f"{escape('[' + '; '.join(flags) + ']')}[/]")
            if item.type.has_choices:
                for choice in item.choices or []:
                    node.add(f"[dim]{choice.code}[/] {text(choice.label, lang)}")
                if item.other:
                    node.add("[dim]other[/] Other (please specify)")
    return tree


def _load(ctx: typer.Context, file: Path | None) -> Questionnaire:
    return load_questionnaire(file or project_of(ctx).questionnaire_path)


def _export_path(ctx: typer.Context, file: Path | None, suffix: str) -> Path:
    try:
        return project_of(ctx).out_dir / f"questionnaire{suffix}"
    except ProjectNotFoundError:
        if file is None:
            raise
        return Path.cwd() / f"{file.stem}{suffix}"
