"""``consult synth``: generate a synthetic consultation."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from consult.cli.common import out, project_of
from consult.errors import ConsultError
from consult.questionnaire import load_questionnaire


def synth(
    ctx: typer.Context,
    respondents: Annotated[int, typer.Option("--respondents", "-n", min=1,
                                             help="Complete responses to generate.")] = 81,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same files.")] = 2014,
    seeds: Annotated[int | None, typer.Option(min=1, help="Respondents in wave 0 "
                                              "(default: about one in seven).")] = None,
    waves: Annotated[int, typer.Option(min=0, help="The deepest referral wave.")] = 3,
    junk: Annotated[float, typer.Option(help="Junk rows (previews, spam, partial, duplicates) "
                                        "as a share of the respondents.")] = 0.1,
    associate: Annotated[
        list[str] | None,
        typer.Option("--associate", help="Plant a dependence ITEM:GROUP:STRENGTH, e.g. "
                     "int_same_procedures:region:0.6 (repeatable; others stay independent)."),
    ] = None,
    start: Annotated[datetime, typer.Option(formats=["%Y-%m-%d"], help="First fielding day.")]
    = datetime(2014, 9, 8),
    end: Annotated[datetime, typer.Option(formats=["%Y-%m-%d"], help="Last fielding day.")]
    = datetime(2014, 11, 28),
    questionnaire: Annotated[Path | None, typer.Option(
        "--questionnaire", "-q", dir_okay=False, exists=True,
        help="Questionnaire YAML (default: the project's; then no project is needed).")] = None,
    seed_contacts: Annotated[int | None, typer.Option(
        "--seed-contacts", min=1, help="Instead of responses, write N fictional seed contacts "
        "(example.org) as a CSV for consult seeds import.")] = None,
    respond_wave: Annotated[int | None, typer.Option(
        "--respond-wave", min=0, help="Instead of a whole consultation, answer for the codes the "
        "project's fielding issued for this wave (a share --rate of them).")] = None,
    rate: Annotated[float, typer.Option(min=0.0, max=1.0,
                                        help="With --respond-wave: the response rate.")] = 0.8,
    format: Annotated[str, typer.Option(
        "--format", "-f", help="Export layout: canonical, qualtrics, qualtrics-legacy, "
        "qualtrics-tsv, surveymonkey, kobo, odk, limesurvey, xlsx or jsonl.")] = "canonical",
    output: Annotated[Path | None, typer.Option("--output", "-o", dir_okay=False,
                      help="File to write (default: synthetic/responses.<ext> in the "
                      "project, or in the current folder without one).")] = None,
) -> None:
    """Generate a realistic synthetic consultation: referral waves, answers, free text, junk.

    Writes the canonical CSV (or a platform's export layout with --format)
    and, beside it, ``<name>.truth.jsonl`` with what the generator planted
    (waves, regions, themes of each free-text answer).

    To rehearse a whole snowball fielding instead: --seed-contacts N writes
    fictional seeds for consult seeds import, and --respond-wave W answers for
    the codes the fielding issued for wave W (see docs/fielding.md).

    Example: consult synth --respondents 81 --seed 7 --format qualtrics
    """
    if seed_contacts is not None:
        _write_seed_contacts(seed_contacts, seed, output or Path("synthetic") / "seeds.csv")
        return
    if respond_wave is not None:
        _respond_wave(ctx, respond_wave, rate=rate, seed=seed, format=format, output=output,
                      associate=associate or [])
        return
    if questionnaire is not None:
        instrument = load_questionnaire(questionnaire)
        base = Path.cwd()
    else:
        project = project_of(ctx)
        instrument = load_questionnaire(project.questionnaire_path)
        base = project.root
    from consult.synth.exports import EXPORTS, writer

    if start > end:
        raise ConsultError("--start comes after --end")
    if format not in EXPORTS:
        raise ConsultError(f"--format {format!r}: unknown; use one of {', '.join(EXPORTS)}")
    _check_suffix(format, output)
    from consult.regions import country_name
    from consult.synth import Association, generate, write_truth

    plan = [Association.parse(text) for text in associate or []]
    consultation = generate(instrument, respondents, seed=seed, seeds=seeds, waves=waves,
                            junk=junk, associations=plan, start=start.date(), end=end.date())
    target = output or base / "synthetic" / f"responses{EXPORTS[format][1]}"
    writer(format)(consultation, target)
    truth = write_truth(consultation, target.with_suffix(".truth.jsonl"))

    done = consultation.complete
    countries = Counter(r.country_iso3 for r in done)
    regions = Counter(r.region for r in done)
    junk_kinds = Counter(r.kind for r in consultation.responses if r.kind != "complete")
    out.print(f"Synthetic consultation ({instrument.id} {instrument.version}, seed {seed}): "
              f"{len(done)} respondents from {len(countries)} countries, "
              f"{len(consultation.responses)} rows in all")
    out.print("  regions    " + ", ".join(f"{name} {100 * n / len(done):.1f}%"
                                          for name, n in regions.most_common()))
    out.print("  countries  " + ", ".join(f"{country_name(c)} {n}"
                                          for c, n in countries.most_common()))
    out.print("  waves      " + ", ".join(f"{w}: {n}" for w, n in
                                          sorted(Counter(r.wave for r in done).items())))
    out.print("  junk rows  " + (", ".join(f"{k} {n}" for k, n in sorted(junk_kinds.items()))
                                 or "none"))
    out.print(f"Wrote {target}")
    out.print(f"  and {truth}")


def _check_suffix(format: str, output: Path | None) -> None:
    """Refuse ``-o x.csv`` with ``--format xlsx``: a file's name must say what it holds."""
    from consult.synth.exports import EXPORTS

    suffix = EXPORTS[format][1]
    if output is None or output.suffix.lower() == suffix:
        return
    fitting = [name for name, (_, ext) in EXPORTS.items() if ext == output.suffix.lower()]
    instead = f", or a --format that writes {output.suffix}: {', '.join(fitting)}" if fitting else ""
    raise ConsultError(f"-o {output}: --format {format} writes a {suffix} file; name it "
                       f"{output.with_suffix(suffix)}{instead}")


def _write_seed_contacts(count: int, seed: int, target: Path) -> None:
    import csv

    from consult.synth.fielding import seed_contacts

    target.parent.mkdir(parents=True, exist_ok=True)
    contacts = seed_contacts(count, seed=seed)
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["name", "email", "organisation", "country",
                                                    "language"])
        writer.writeheader()
        writer.writerows(contacts)
    out.print(f"Wrote {count} fictional seed contacts (example.org) to {target}")


def _respond_wave(ctx: typer.Context, wave: int, *, rate: float, seed: int, format: str,
                  output: Path | None, associate: list[str]) -> None:
    from consult.store import open_store
    from consult.store.fielding import completed_codes, invitees
    from consult.store.responses import regions_by_code
    from consult.synth import Association
    from consult.synth.exports import EXPORTS, writer
    from consult.synth.fielding import respond

    if format not in EXPORTS:
        raise ConsultError(f"--format {format!r}: unknown; use one of {', '.join(EXPORTS)}")
    _check_suffix(format, output)
    project = project_of(ctx)
    instrument = load_questionnaire(project.questionnaire_path)
    with open_store(project.database_url) as store:
        done = completed_codes(store)
        waiting = [i for i in invitees(store, [wave]) if i.code not in done]
        regions = regions_by_code(store)
    if not waiting:
        raise ConsultError(f"--respond-wave {wave}: no code of wave {wave} is waiting for an "
                           f"answer; open the wave first (consult wave open {wave})")
    consultation = respond(instrument, waiting, regions_of_codes=regions, seed=seed + wave,
                           rate=rate, associations=[Association.parse(a) for a in associate])
    target = output or project.root / "synthetic" / f"wave{wave}{EXPORTS[format][1]}"
    writer(format)(consultation, target)
    out.print(f"Wave {wave}: {len(consultation.responses)} of {len(waiting)} code holders "
              f"answered; wrote {target}")
