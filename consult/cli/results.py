"""``consult results``: show and check results.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from consult.cli.common import out, project_of
from consult.errors import ConsultError, ValidationFailed

if TYPE_CHECKING:
    from consult.results import ItemResult, Results

app = typer.Typer(help="Show and check results.json, the hand-over from analysis to reports.",
                  epilog="Example: consult results show sample", no_args_is_help=True)

SECTIONS = ("provenance", "sample", "items", "chains", "themes", "best_practices")


@app.command("show")
def show(
    ctx: typer.Context,
    section: Annotated[str | None, typer.Argument(
        help="provenance, sample, items, chains, themes, best_practices, or an item id "
             "(default: provenance, sample and items).")] = None,
    file: Annotated[Path | None, typer.Option(
        "--file", "-f", dir_okay=False,
        help="A results.json (default: out/results.json in the project).")] = None,
) -> None:
    """Print results.json readably: one section, one item, or an overview.

    Example: consult results show int_same_procedures
    """
    from consult.results import read_results

    path = file or project_of(ctx).out_dir / "results.json"
    results = read_results(path)
    ids = [item.item_id for item in results.items]
    if section is None:
        _provenance(results)
        _sample(results)
        _items(results)
    elif section == "provenance":
        _provenance(results)
    elif section == "sample":
        _sample(results)
    elif section == "items":
        _items(results)
    elif section == "best_practices" and results.best_practices:
        from consult.cli.themes import print_best_practices
        from consult.results.themes import BestPractices

        print_best_practices(BestPractices.model_validate(results.best_practices), top=1000)
    elif section in ("chains", "themes", "best_practices"):
        content = (results.chains.model_dump(mode="json") if section == "chains"
                   else getattr(results, section))
        out.print(json.dumps(content, indent=2, sort_keys=True) if content
                  else f"{section}: empty (filled by a later version of consult)", markup=False)
    elif section in ids:
        _item(results.item(section))
    else:
        raise ConsultError(f"no section {section!r} in {path}; use one of {', '.join(SECTIONS)} "
                           f"or an item id ({', '.join(ids[:3])}, ...)")


@app.command("validate")
def validate(
    file: Annotated[Path, typer.Argument(help="The results.json to check.", dir_okay=False,
                                         exists=True)],
) -> None:
    """Check a results.json against the JSON Schema; list every problem with its JSON path.

    Exits with 1 when there is any problem.

    Example: consult results validate out/results.json
    """
    from consult.results import SCHEMA_VERSION, validate_results_file

    issues = validate_results_file(file)
    if issues:
        raise ValidationFailed(f"{file} does not match the results schema {SCHEMA_VERSION}", issues)
    out.print(f"{file}: valid (results schema {SCHEMA_VERSION})", markup=False)


# --------------------------------------------------------------------------- views


def _provenance(results: Results) -> None:
    prov = results.provenance
    table = Table(title="Provenance", show_header=False)
    rows = [("questionnaire", f"{prov.questionnaire_id} {prov.questionnaire_version}"),
            ("data SHA-256", prov.data_sha256), ("tool", f"{prov.tool} {prov.tool_version}"),
            ("libraries", ", ".join(f"{k} {v}" for k, v in prov.libraries.items())),
            ("generated at", prov.generated_at), ("schema", results.schema_version),
            ("settings", json.dumps(prov.settings, sort_keys=True))]
    for key, value in rows:
        table.add_row(key, value)
    out.print(table)


def _sample(results: Results) -> None:
    sample = results.sample
    out.print(f"{sample.n_included} respondents from {sample.n_countries} countries in "
              f"{sample.n_regions} regions, submitted {sample.fielding.first_submitted_at} to "
              f"{sample.fielding.last_submitted_at}", markup=False)
    regions = Table("region", "n", "%", title="By region")
    for row in sample.by_region:
        regions.add_row(row.label, str(row.count), row.pct or "")
    out.print(regions)
    countries = Table("region", "country", "n", "%", title="By country")
    for c in sample.by_country:
        countries.add_row(c.region, c.name, c.display, c.pct or "")
    out.print(countries)
    for item_id, rows in sample.by_item.items():
        table = Table(item_id, "n", "%", title=f"By {item_id}")
        for row in rows:
            table.add_row(row.label, str(row.count), row.pct or "")
        out.print(table)
    excluded = ", ".join(f"{k} {v}" for k, v in sample.exclusions.items()) or "none"
    out.print(f"Excluded: {excluded}", markup=False)
    for note in sample.notes:
        out.print(f"Note: {note}", markup=False)


def _items(results: Results) -> None:
    table = Table("item", "type", "answered", "most chosen", "lowest p (Holm)", title="Items")
    for item in results.items:
        rows = [r for r in item.overall.rows if r.kind == "answer"]
        top = max(rows, key=lambda r: r.count, default=None)
        tests = [t for t in (t for x in item.by.values() for t in x.tests) if t.p_holm is not None]
        best = min(tests, key=lambda t: t.p_holm or 1.0, default=None)
        table.add_row(item.item_id, item.type,
                      f"{item.overall.n_answered}/{item.overall.n_applied}",
                      f"{top.code} {top.pct_answered}%" if top else _number(item),
                      f"{best.p_holm:.3g}" if best and best.p_holm is not None else "")
    out.print(table)


def _item(item: ItemResult) -> None:
    overall = item.overall
    out.print(f"{item.item_id} ({item.type}): {next(iter(item.label.values()), '')}", markup=False)
    if item.applies_when:
        out.print(f"Asked when {item.applies_when}", markup=False)
    if overall.number is not None:
        out.print(f"Overall: {_number(item)}", markup=False)
    else:
        table = Table("code", "n", "% answered", "% applied", "95% CI", title="Overall")
        for row in overall.rows:
            ci = (f"{100 * row.ci_low:.1f}–{100 * row.ci_high:.1f}"
                  if row.ci_low is not None and row.ci_high is not None else "")
            table.add_row(row.code, str(row.count), row.pct_answered or "", row.pct_applied or "",
                          ci)
        out.print(table)
    if overall.likert is not None:
        likert = overall.likert
        out.print("No answer on the scale: no median, no percent agreeing"
                  if likert.median is None and likert.pct_agree is None else
                  f"Median {'n/a' if likert.median is None else likert.median}; agreeing "
                  f"{'n/a' if likert.pct_agree is None else f'{likert.pct_agree}%'}",
                  markup=False)
    for name, crossed in item.by.items():
        table = Table("code", *(g.label for g in crossed.groups), title=f"By {name}")
        codes = list(dict.fromkeys(cell.code for cell in crossed.cells))
        value = {(c.group, c.code): c for c in crossed.cells}
        for code in codes:
            table.add_row(code, *(_shown(value.get((g.key, code))) for g in crossed.groups))
        table.add_row("n", *(str(g.n_applied) for g in crossed.groups))
        if crossed.cells:
            out.print(table)
        else:
            out.print(f"By {name}", markup=False)
        labels = {g.key: g.label for g in crossed.groups}
        for summary in crossed.summaries:
            if summary.number is not None:
                out.print(f"  {labels.get(summary.group, summary.group)}: median "
                          f"{_g(summary.number.median)} (n {summary.number.n})", markup=False)
        for test in crossed.tests:
            choice = f" [{test.choice}]" if test.choice else ""
            out.print(f"  {test.test}{choice}: statistic {_g(test.statistic)}, p {_g(test.p_value)}, "
                      f"Holm {_g(test.p_holm)}" + (f", V {_g(test.cramers_v)}" if test.cramers_v
                                                    is not None else ""), markup=False)
        for note in crossed.notes:
            out.print(f"  Note: {note}", markup=False)
    for note in item.notes:
        out.print(f"Note: {note}", markup=False)


def _shown(cell: object) -> str:
    from consult.results.model import Cell

    if not isinstance(cell, Cell):
        return ""
    return f"{cell.display} ({cell.pct_answered}%)" if cell.pct_answered else cell.display


def _number(item: ItemResult) -> str:
    number = item.overall.number
    if number is None:
        return ""
    return f"median {_g(number.median)} (IQR {_g(number.q1)}–{_g(number.q3)}), n {number.n}"


def _g(value: float | None) -> str:
    return "" if value is None else f"{value:.3g}"
