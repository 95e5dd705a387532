"""``consult themes``: free-text answers into themes, and their agreement with a human coding."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from consult.cli.common import out, project_of
from consult.errors import ConsultError

app = typer.Typer(help="Find themes in free-text answers and check them against human coding.",
                  no_args_is_help=True)


@app.command("fit")
def fit(
    ctx: typer.Context,
    items: Annotated[list[str] | None, typer.Argument(
        help="Free-text item ids (default: every item marked practice: true).")] = None,
    codebook: Annotated[Path | None, typer.Option(
        "--codebook", "-c", exists=True, dir_okay=False,
        help="A YAML codebook (id, label, description, examples): assign answers to its codes "
             "and propose new themes only for what it does not cover.")] = None,
    threshold: Annotated[float, typer.Option(
        "--threshold", help="Cosine distance at which discovered themes stop merging: larger "
                            "gives fewer, broader themes.")] = 0.55,
) -> None:
    """Fit themes on the stored free-text answers; write out/themes.csv and results.json.

    Non-answers ("N/A", "no comment" ...) are set aside and counted. Each
    answer gets its best theme and any theme nearly as close. Quotes are
    redacted (e-mail addresses, phone numbers, titled names) and attributed
    only by region and role; support by region and role is suppressed below
    [disclosure] threshold. Embeddings are cached in .consult/embeddings.

    Example: consult themes fit acc_practice rec_practice --threshold 0.6
    """
    from consult.analysis.text.run import fit_project_themes

    done = fit_project_themes(project_of(ctx), items or (), codebook=codebook,
                              threshold=threshold, progress=sys.stderr.isatty())
    for item_id, found in done.items.items():
        out.print(f"{item_id}: {len(found.themes)} themes from {found.n_answers} answers "
                  f"({found.n_non_answers} non-answers set aside)", markup=False)
    out.print(f"Wrote {done.csv_path} and {done.results_path}", markup=False)


@app.command("show")
def show(
    ctx: typer.Context,
    item: Annotated[str | None, typer.Argument(help="One item id (default: every item).")] = None,
) -> None:
    """Print the fitted themes of results.json: label, support, keywords and a quote.

    Example: consult themes show acc_practice
    """
    from consult.results import read_results
    from consult.results.themes import item_themes

    path = project_of(ctx).out_dir / "results.json"
    if not path.exists():
        raise ConsultError(f"no {path.name} in {path.parent}: run consult themes fit first")
    section = item_themes(read_results(path).themes)
    if not section:
        raise ConsultError("no themes in results.json yet: run consult themes fit first")
    if item is not None and item not in section:
        raise ConsultError(f"no themes for {item!r}; fitted items: {', '.join(section)}")
    for item_id, found in section.items():
        if item is not None and item_id != item:
            continue
        out.print(f"{item_id} ({found.method}, {found.model}): {found.n_answers} answers, "
                  f"{len(found.themes)} themes", markup=False)
        for theme in found.themes:
            out.print(f"  {theme.id:<5} {theme.label}  [{theme.n_respondents} respondents]",
                      markup=False)
            out.print(f"        keywords: {', '.join(theme.keywords)}", markup=False)
            if theme.quotes:
                quote = theme.quotes[0]
                out.print(f"        \u201c{quote.text}\u201d ({quote.attribution})", markup=False)


@app.command("agreement")
def agreement(
    ctx: typer.Context,
    gold: Annotated[Path, typer.Option(
        "--gold", exists=True, dir_okay=False,
        help="A hand coding: CSV with columns respondent, item, code (one row per code).")],
    machine: Annotated[Path | None, typer.Option(
        "--machine", dir_okay=False, help="The machine coding (default: out/themes.csv).")] = None,
) -> None:
    """Compare the fitted themes with a hand coding: F1, Cohen's kappa, NMI and ARI per item.

    Themes are matched one to one to the hand codes (Hungarian algorithm); F1
    is per answer (several themes an answer), averaged over the hand-coded
    answers; kappa is per matched theme; NMI and ARI compare best themes.

    Example: consult themes agreement --gold coded-sample.csv
    """
    from consult.analysis.text.agreement import agreement as compare
    from consult.analysis.text.run import THEMES_CSV, read_themes_csv

    mine = read_themes_csv(machine or project_of(ctx).out_dir / THEMES_CSV)
    theirs = read_themes_csv(gold)
    items = sorted({item for _, item in theirs})
    for item in items:
        result = compare({r: t for (r, i), t in mine.items() if i == item},
                         {r: c for (r, i), c in theirs.items() if i == item})
        out.print(f"{item}: {result.n_answers} answers, {result.n_themes} themes vs "
                  f"{result.n_codes} codes  F1 {result.f1:.3f}  NMI {result.nmi:.3f}  "
                  f"ARI {result.ari:.3f}", markup=False)
        for match in result.matches:
            kappa = "n/a" if match.kappa is None else f"{match.kappa:.3f}"
            out.print(f"  {match.theme:<6} = {match.code:<24} shared {match.shared:>3}  "
                      f"kappa {kappa}", markup=False)
