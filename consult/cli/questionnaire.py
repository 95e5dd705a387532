"""``consult questionnaire``: check, show, export and import instruments."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.tree import Tree

from consult.cli.common import err, out, project_of
from consult.errors import ConsultError
from consult.questionnaire import Questionnaire, check_questionnaire, load_questionnaire

app = typer.Typer(help="Check, show, export and import questionnaires.", no_args_is_help=True)

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
        out.print_json(json.dumps({
            "file": str(path),
            "valid": questionnaire is not None and not errors,
            "issues": [i.__dict__ for i in issues],
        }))
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
