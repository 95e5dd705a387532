"""``consult analyze``: turn the stored responses into results.json."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from consult.cli.common import out, project_of

if TYPE_CHECKING:
    from consult.results import Results


def analyze(
    ctx: typer.Context,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", dir_okay=False,
        help="Where to write the results (default: out/results.json in the project).")] = None,
) -> None:
    """Analyse the stored responses and write results.json, the one file reports read.

    Describes who answered, tabulates every closed item overall and by each
    grouping in [analysis] groupings, tests each for association, and
    suppresses counts below [disclosure] threshold in country-level and
    crossed tables. The same data and settings give the same file, byte for
    byte, apart from its generated_at time.

    Example: consult analyze && consult results show sample
    """
    from consult.analysis.run import analyze_project

    done = analyze_project(project_of(ctx), output)
    for line in summary_lines(done.results):
        out.print(line, markup=False)
    out.print(f"Wrote {done.path}", markup=False)


def summary_lines(results: Results) -> list[str]:
    """A few lines saying what the results hold."""
    sample, prov = results.sample, results.provenance
    first = (sample.fielding.first_submitted_at or "?")[:10]
    last = (sample.fielding.last_submitted_at or "?")[:10]
    tables = [t for item in results.items for t in item.by.values()]
    tests = [test for t in tables for test in t.tests]
    significant = sum(1 for test in tests if test.p_holm is not None and test.p_holm < 0.05)
    primary = sum(t.suppressed_primary for t in tables)
    secondary = sum(t.suppressed_secondary for t in tables)
    groupings = ", ".join(prov.settings.get("analysis", {}).get("groupings", []))
    crossed = f"(by {groupings})" if groupings else "(no groupings in consult.toml)"
    threshold = prov.settings.get("disclosure", {}).get("threshold", "?")
    regions = (", ".join(f"{row.label} {row.pct}%" for row in sample.by_region)
               if sample.n_regions else "none known (no respondent's country is known)")
    countries = {0: "", 1: " from 1 country"}.get(sample.n_countries,
                                                   f" from {sample.n_countries} countries")
    excluded = ", ".join(f"{reason} {n}" for reason, n in sample.exclusions.items()) or "none"
    return [
        f"Analysed {sample.n_included} respondents{countries} "
        f"({prov.questionnaire_id} {prov.questionnaire_version}), submitted {first} to {last}.",
        f"  regions     {regions}",
        f"  items       {len(results.items)} closed items, {len(tables)} crossed tables "
        f"{crossed}",
        f"  tests       {len(tests)}, of which {significant} with Holm-adjusted p < 0.05",
        f"  suppressed  {primary} cells below {threshold}, {secondary} more to protect them",
        f"  excluded    {excluded}",
    ]
