"""``consult export``: tables for other tools."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from consult.cli.common import out, project_of
from consult.errors import ConsultError

app = typer.Typer(help="Export tables for other tools.",
                  epilog="Example: consult export rds -o out/rds.csv", no_args_is_help=True)


@app.command("rds")
def rds(
    ctx: typer.Context,
    output: Annotated[Path | None, typer.Option("--output", "-o", dir_okay=False,
                      help="CSV file to write (default: out/rds.csv).")] = None,
    network_size_item: Annotated[str | None, typer.Option(
        "--network-size-item", help="A number item asking how many people of the population "
        "the respondent knows; exported as network.size.")] = None,
) -> None:
    """Write the recruitment table R's RDS package reads: id, recruiter.id, [network.size], wave, seed.

    Seeds (and respondents whose recruiter is unknown) have recruiter.id "seed".
    In R: dat <- read.csv("out/rds.csv"); rds <- RDS::as.rds.data.frame(dat)

    Example: consult export rds --network-size-item colleagues_known -o out/rds.csv
    """
    from consult.analysis.chains import rds_table, recruitment_trees
    from consult.questionnaire import ItemType, load_questionnaire
    from consult.store import fielding
    from consult.store.db import open_store
    from consult.store.responses import load_responses

    project = project_of(ctx)
    if network_size_item is not None:
        questionnaire = load_questionnaire(project.questionnaire_path)
        numbers = [i.id for i in questionnaire.items() if i.type is ItemType.NUMBER]
        if network_size_item not in numbers:
            raise ConsultError(f"--network-size-item {network_size_item!r}: not a number item of "
                               f"{project.questionnaire_path.name} (number items: "
                               f"{', '.join(numbers) or 'none'})")
    with open_store(project.database_url) as store:
        respondents, answers = load_responses(store, withdrawn=project.settings.ingest.withdrawn)
        parents = fielding.code_parents(store)
    if respondents.empty:
        raise ConsultError("no included responses to export; ingest responses first")
    trees = recruitment_trees(respondents, code_parents=parents)
    sizes = None
    if network_size_item is not None:
        chosen = answers[(answers["item_id"] == network_size_item) & (answers["ordinal"] == 0)]
        sizes = {int(rid): _number(value) for rid, value in
                 zip(chosen["respondent_id"], chosen["value"], strict=True)}
    table = rds_table(trees, sizes)
    target = output or project.out_dir / "rds.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(target, index=False)
    roots = int((table["recruiter.id"] == "seed").sum())
    out.print(f"Wrote {target}: {len(table)} respondents, {roots} with recruiter.id \"seed\" "
              f"({int(trees.nodes['is_seed'].sum())} seeds, "
              f"{int(trees.nodes['unknown_referrer'].sum())} with an unknown recruiter, "
              f"{len(trees.cycles)} cycle(s) broken)", markup=False)


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None
