"""``consult themes``: free-text answers into themes, and their agreement with a human coding."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from consult.cli.common import counted, err, out, project_of
from consult.errors import ConsultError

if TYPE_CHECKING:
    from consult.results.themes import BestPractices

app = typer.Typer(help="Find themes in free-text answers and check them against human coding.",
                  epilog="Example: consult themes fit acc_practice rec_practice",
                  no_args_is_help=True)


@app.command("fit")
def fit(
    ctx: typer.Context,
    items: Annotated[list[str] | None, typer.Argument(
        help="Free-text item ids (default: every item marked practice: true).")] = None,
    codebook: Annotated[str | None, typer.Option(
        "--codebook", "-c", metavar="FILE|NAME",
        help="A YAML codebook (id, label, description, examples), or a shipped one by name "
             "(r361-roundtable): assign answers to its codes and propose new themes only for "
             "what it does not cover. Answers coded by hand in coding/ keep their codes and "
             "teach the codes (consult themes code).")] = None,
    threshold: Annotated[float | None, typer.Option(
        "--threshold", help="Cosine distance at which discovered themes stop merging: larger "
                            "gives fewer, broader themes (default: [themes] threshold in "
                            "consult.toml, 0.75, chosen on the benchmarks: docs/themes.md).",
        show_default=False)] = None,
    model: Annotated[Path | None, typer.Option(
        "--model", file_okay=False,
        help="A local sentence-transformers model folder (default: [themes] model, or the "
             "shipped all-MiniLM-L6-v2), e.g. a multilingual one.")] = None,
) -> None:
    """Fit themes on the stored free-text answers; apply themes.yaml; write CSV and results.json.

    Non-answers ("N/A", "no comment" ...) are set aside and counted. Each
    answer gets its best theme and any theme nearly as close. The authors'
    decisions in themes.yaml (rename, merge, split, exclude, best practice,
    pin) are applied to the themes found again; new themes are appended to
    themes.yaml as proposals; conflicts are listed. Quotes are redacted
    (contacts, titled names, institutions, places) and attributed only by
    region and role; support by region and role is suppressed below
    [disclosure] threshold. Embeddings are cached in .consult/embeddings.

    With --codebook (or [themes] codebook in consult.toml), the coding sheets
    of coding/ (consult themes code) are read first: each answer coded there
    keeps the researcher's codes and is an example of them. Domain stop words
    (never keywords) are set in [themes] too.

    Example: consult themes fit acc_practice rec_practice --threshold 0.65
    """
    from consult.analysis.text.coding import find_codebook
    from consult.analysis.text.run import fit_project_themes

    done = fit_project_themes(project_of(ctx), items or (),
                              codebook=find_codebook(codebook) if codebook else None,
                              threshold=threshold, model_dir=model,
                              progress=sys.stderr.isatty(), on_item=_step)
    for item_id, found in done.items.items():
        curated = sum(t.curated for t in found.themes)
        by_hand = found.settings.get("human_coded")
        out.print(f"{item_id}: {counted(len(found.themes), 'theme')} ({curated} curated, "
                  f"{len(found.excluded)} excluded) from {counted(found.n_answers, 'answer')} "
                  f"({counted(found.n_non_answers, 'non-answer')} set aside"
                  f"{f', {by_hand} coded by hand' if by_hand else ''})", markup=False)
    for issue in done.issues:
        if issue.severity != "info":
            err.print(f"  {issue.severity}: {issue}", markup=False)
    notices = sum(i.severity == "info" for i in done.issues)
    if notices:
        err.print(f"  note: {counted(notices, 'proposal')} of earlier fits not found this time; they "
                  "stay in themes.yaml (delete those no longer useful)", markup=False)
    if done.proposed:
        out.print(f"{counted(len(done.proposed), 'new theme')} proposed in {done.proposals_path} "
                  f"({', '.join(done.proposed[:5])}{', ...' if len(done.proposed) > 5 else ''})",
                  markup=False)
    out.print(f"Wrote {done.csv_path} and {done.results_path}", markup=False)


@app.command("code")
def code(
    ctx: typer.Context,
    item: Annotated[str, typer.Argument(help="The free-text item to code.")],
    codebook: Annotated[str | None, typer.Option(
        "--codebook", "-c", metavar="FILE|NAME",
        help="The YAML codebook, or a shipped one by name (r361-roundtable); default: "
             "[themes] codebook in consult.toml.")] = None,
    count: Annotated[int, typer.Option(
        "--next", "-n", min=0, help="How many answers to put on the new sheet (0: only read "
                                    "and check the coded sheets).")] = 10,
    sheets: Annotated[list[Path] | None, typer.Option(
        "--sheet", exists=True, dir_okay=False,
        help="A filled sheet kept outside coding/: checked, then copied into coding/. "
             "Repeat for several.")] = None,
    model: Annotated[Path | None, typer.Option(
        "--model", file_okay=False,
        help="The local sentence-transformers folder the fit uses, if not the default.")] = None,
) -> None:
    """Write a coding sheet of the answers the codebook is least sure of; read the filled ones.

    The new sheet, coding/ITEM-N.csv, lists the answers whose two nearest
    codes are the closest (least sure first) with the codes suggested; fill
    its codes column with code ids or labels separated by ";" (none: no code
    applies), save it as CSV and run this again for the next answers, or
    consult themes fit --codebook. Each coded answer keeps your codes and
    becomes an example of them, so the codes' prototypes learn from it.
    Sheets are checked (file, row, column of every problem) and never
    rewritten.

    Example: consult themes code acc_practice --codebook r361-roundtable --next 10
    """
    from consult.analysis.text.coding import code_item, find_codebook
    from consult.analysis.text.run import settings_codebook

    project = project_of(ctx)
    chosen = find_codebook(codebook) if codebook else settings_codebook(project)
    if chosen is None:
        raise ConsultError("consult themes code needs a codebook: give --codebook FILE|NAME "
                           "(e.g. r361-roundtable) or set [themes] codebook in consult.toml")
    started = time.perf_counter()
    done = code_item(project, item, chosen, count=count, sheets=sheets or (),
                     model_dir=model, progress=sys.stderr.isatty(), on_step=_step)
    _step(f"{item}: done in {time.perf_counter() - started:.1f} s")
    coding = done.coding
    for issue in coding.issues:
        err.print(f"  {issue.severity}: {issue}", markup=False)
    for path in done.imported:
        out.print(f"Kept {path.relative_to(project.root)} in coding/", markup=False)
    used = len({c.sheet for c in coding.coded.values()})
    on_sheets = f" in {counted(used, 'sheet')}" if used else ""
    out.print(f"{item}: {counted(len(coding.coded), 'answer')} coded by hand{on_sheets}, "
              f"{len(coding.waiting)} waiting on a sheet, {done.uncoded} not on any sheet",
              markup=False)
    if done.sheet is None:
        out.print("No new sheet written" + (" (every answer is on a sheet)"
                                            if count and not done.uncoded else ""),
                  markup=False)
        return
    out.print(f"Wrote {done.sheet.relative_to(project.root)}: {counted(len(done.picks), 'answer')} the "
              "codebook is least sure of; fill its codes column (ids or labels, separated by "
              f"';'; none when no code applies)", markup=False)
    out.print("Codes: " + "; ".join(f"{c.id} ({c.label})" for c in coding.given), markup=False)


def _step(line: str) -> None:
    """A progress line on stderr, so that a slow step is never silent (even without a terminal)."""
    err.print(line, markup=False)


@app.command("show")
def show(
    ctx: typer.Context,
    item: Annotated[str | None, typer.Argument(help="One item id (default: every item).")] = None,
    best: Annotated[bool, typer.Option(
        "--best-practices", "-b", help="Show the candidate best practices instead, ranked by "
                                       "respondents, countries and regions.")] = False,
    top: Annotated[int, typer.Option(
        "--top", min=1, help="With --best-practices: how many to show.")] = 10,
) -> None:
    """Print the fitted themes of results.json: id, label, support, keywords and a quote.

    Curated themes are marked [curated], themes the authors marked as a best
    practice [best practice].

    Example: consult themes show acc_practice
    """
    from consult.results import read_results
    from consult.results.themes import best_practices, item_themes

    path = project_of(ctx).out_dir / "results.json"
    if not path.exists():
        raise ConsultError(f"no {path.name} in {path.parent}: run consult themes fit first")
    results = read_results(path)
    section = item_themes(results.themes)
    if not section:
        raise ConsultError("no themes in results.json yet: run consult themes fit first")
    if best:
        ranked = best_practices(results.best_practices)
        if ranked is None:
            raise ConsultError("no best practices in results.json yet: run consult themes fit")
        print_best_practices(ranked, top=top, item=item)
        return
    if item is not None and item not in section:
        raise ConsultError(f"no themes for {item!r}; fitted items: {', '.join(section)}")
    for item_id, found in section.items():
        if item is not None and item_id != item:
            continue
        out.print(f"{item_id} ({found.method}, {found.model}): "
                  f"{counted(found.n_answers, 'answer')}, {counted(len(found.themes), 'theme')}",
                  markup=False)
        for theme in found.themes:
            marks = "".join([" [curated]" if theme.curated else "",
                             " [best practice]" if theme.best_practice else ""])
            out.print(f"  {theme.id:<5} {theme.label}  [{theme.n_respondents} respondents]{marks}",
                      markup=False)
            out.print(f"        keywords: {', '.join(theme.keywords)}", markup=False)
            if theme.quotes:
                quote = theme.quotes[0]
                out.print(f"        \u201c{_oneline(quote.text)}\u201d ({quote.attribution})",
                          markup=False)
        if found.excluded:
            out.print(f"  excluded in themes.yaml: {', '.join(found.excluded)}", markup=False)


@app.command("export")
def export(
    ctx: typer.Context,
    items: Annotated[list[str] | None, typer.Argument(
        help="Item ids (default: every fitted item).")] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", dir_okay=False,
        help="The CSV to write (default: out/themes-export.csv).")] = None,
) -> None:
    """Write every answer's themes as a tidy CSV: respondent, item, unit, text, theme, label, score.

    One row per unit and theme, as the last consult themes fit found them.
    respondent is the store's internal respondent id (never a referral code
    or a name); text is redacted as quotes are.

    Example: consult themes export acc_practice --output coded.csv
    """
    from consult.analysis.text.export import EXPORT_FILE, UNITS_FOLDER, export_themes

    project = project_of(ctx)
    path, count = export_themes(project.out_dir / "results.json",
                                project.cache_dir / UNITS_FOLDER,
                                output or project.out_dir / EXPORT_FILE, items or ())
    out.print(f"Wrote {counted(count, 'row')} to {path}", markup=False)


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
        out.print(f"{item}: {counted(result.n_answers, 'answer')}, "
                  f"{counted(result.n_themes, 'theme')} vs {counted(result.n_codes, 'code')}  "
                  f"F1 {result.f1:.3f}  NMI {result.nmi:.3f}  "
                  f"ARI {result.ari:.3f}", markup=False)
        for match in result.matches:
            kappa = "n/a" if match.kappa is None else f"{match.kappa:.3f}"
            out.print(f"  {match.theme:<6} = {match.code:<24} shared {match.shared:>3}  "
                      f"kappa {kappa}", markup=False)


def print_best_practices(ranked: BestPractices, *, top: int = 10, item: str | None = None) -> None:
    """The candidate best practices, most widely cited first, with a quote each."""
    shown = [p for p in ranked.practices if item is None or p.item_id == item][:top]
    out.print(f"Candidate best practices, by {ranked.ranking}:", markup=False)
    if not shown:
        out.print("  none", markup=False)
    for practice in shown:
        mark = "  [best practice]" if practice.marked else ""
        out.print(f"{practice.rank:>3}. {practice.label} ({practice.item_id}, {practice.theme_id})"
                  f"  {practice.n_respondents} respondents, {practice.n_countries} countries, "
                  f"{practice.n_regions} regions{mark}", markup=False)
        regions = ", ".join(f"{r.label} {r.display}" for r in practice.by_region)
        if regions:
            out.print(f"     by region: {regions}", markup=False)
        for quote in practice.quotes[:2]:
            out.print(f"     \u201c{_oneline(quote.text)}\u201d ({quote.attribution})",
                      markup=False)


def _oneline(text: str) -> str:
    """An answer written as a list, on one line."""
    return " ".join(text.split())
