"""Load the stored responses, analyse them, write results.json.

:func:`analyze` is the whole analysis on two frames (no database, no files):
tests call it directly. :func:`analyze_project` is what ``consult analyze``
runs: it reads the store, calls :func:`analyze` and writes
``out/results.json`` atomically.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from consult import __version__
from consult.analysis.chains_section import chains_section
from consult.analysis.closed import (
    CLOSED_TYPES,
    choice_answers,
    number_values,
    overall_choice,
    overall_number,
)
from consult.analysis.crossed import apply_holm, cross_choice, cross_number
from consult.analysis.data import (
    Grouping,
    answers_by_item,
    applies_to,
    check_groupings,
    data_sha256,
    describe_condition,
    grouping,
    with_regions,
)
from consult.analysis.percent import PercentRule
from consult.analysis.sample import describe_sample
from consult.analysis.stats import MONTE_CARLO_RESAMPLES
from consult.errors import ConsultError
from consult.project import SETTINGS_FILE, Project, Settings
from consult.questionnaire import Item, ItemType, Questionnaire, load_questionnaire
from consult.results import Results, write_results
from consult.results.model import Choice, CrossTable, ItemResult, Provenance
from consult.results.notes import note

if TYPE_CHECKING:
    import pandas as pd

RESULTS_FILE = "results.json"


@dataclass(frozen=True)
class Analysis:
    """What :func:`analyze_project` did: the results and where they were written."""

    results: Results
    path: Path


# The label of an item's "other" option in each language (the questionnaire gives none).
OTHER_LABELS = {"en": "Other", "fr": "Autre", "es": "Otro", "pt": "Outro", "de": "Andere",
                "nl": "Anders", "it": "Altro"}

def analyze_project(project: Project, output: Path | None = None) -> Analysis:
    """Analyse the project's stored responses and write results.json.

    Raises
    ------
    ConsultError
        When the store holds no included response.
    """
    from consult.store import open_store
    from consult.store.fielding import code_parents
    from consult.store.responses import exclusion_counts, load_responses

    questionnaire = load_questionnaire(project.questionnaire_path)
    check_groupings(project.settings.analysis.groupings, questionnaire,
                    str(project.root / SETTINGS_FILE))
    with open_store(project.database_url) as store:
        withdrawn = project.settings.ingest.withdrawn
        respondents, answers = load_responses(store, withdrawn=withdrawn)
        exclusions = exclusion_counts(store, withdrawn=withdrawn)
        parents = code_parents(store)
    if respondents.empty:
        raise ConsultError(f"no included responses in {project.root.name}'s database: import "
                           "responses first (consult ingest FILE), then run consult analyze")
    respondents = with_regions(respondents, project.settings.regions.scheme, project.root)
    results = analyze(respondents, answers, questionnaire, project.settings, exclusions,
                      code_parents=parents)
    target = output or project.out_dir / RESULTS_FILE
    results = _keep_later_sections(results, target)
    path = write_results(results, target)
    return Analysis(results=results, path=path)


def _keep_later_sections(results: Results, path: Path) -> Results:
    """Carry themes and best practices over from the file being replaced, if still true.

    They come from ``consult themes fit``, which analysis does not re-run: they
    are kept when the earlier results describe the same data (same data hash),
    and dropped otherwise, so a report never shows themes of other answers.
    """
    from consult.results import read_results

    if not path.exists():
        return results
    try:
        earlier = read_results(path)
    except ConsultError:
        return results
    if earlier.provenance.data_sha256 != results.provenance.data_sha256:
        return results
    return results.model_copy(update={"themes": earlier.themes,
                                      "best_practices": earlier.best_practices})


def analyze(respondents: pd.DataFrame, answers: pd.DataFrame, questionnaire: Questionnaire,
            settings: Settings, exclusions: Mapping[str, int] | None = None, *,
            generated_at: datetime | None = None,
            code_parents: Mapping[str, str | None] | None = None) -> Results:
    """Every number a report may show, as :class:`~consult.results.Results`.

    ``respondents`` and ``answers`` are the frames of
    :func:`consult.store.responses.load_responses` (included respondents only).
    ``code_parents`` (issued code → parent code, from
    :func:`consult.store.fielding.code_parents`) rebuilds the referral chains of
    responses that carry only their own code.
    """
    rule = PercentRule(mode=settings.analysis.percent, decimals=settings.analysis.decimals,
                       largest_remainder=settings.analysis.largest_remainder)
    threshold = settings.disclosure.threshold
    language = settings.project.languages[0] if settings.project.languages else None
    by_item = answers_by_item(answers)
    groupings = [grouping(name, respondents, by_item, questionnaire, language)
                 for name in dict.fromkeys(settings.analysis.groupings)]
    everyone = frozenset(int(i) for i in respondents["id"])
    items = []
    crossed_pairs: set[tuple[str, str]] = set()
    for item in questionnaire.items():
        if item.type in CLOSED_TYPES:
            items.append(_item_result(item, questionnaire, by_item, everyone, groupings, rule,
                                      threshold, crossed_pairs))
    return Results(
        provenance=_provenance(respondents, answers, questionnaire, settings, generated_at),
        sample=describe_sample(respondents, by_item, questionnaire, exclusions or {}, rule,
                               threshold, language),
        items=apply_holm(items),
        chains=chains_section(respondents, threshold, rule, code_parents=code_parents),
    )


def _item_result(item: Item, questionnaire: Questionnaire, by_item: Mapping[str, pd.DataFrame],
                 everyone: frozenset[int], groupings: list[Grouping], rule: PercentRule,
                 threshold: int, crossed_pairs: set[tuple[str, str]]) -> ItemResult:
    import pandas as pd

    applied = applies_to(item.relevant, by_item, everyone)
    frame = by_item.get(item.id, pd.DataFrame(columns=["respondent_id", "ordinal", "value"]))
    outside = frame.loc[~frame["respondent_id"].astype("int64").isin(applied), "respondent_id"]
    notes = []
    if outside.nunique():
        notes.append(note("not_applicable", n=outside.nunique()))
    by: dict[str, CrossTable] = {}
    if item.type is ItemType.NUMBER:
        values, unreadable = number_values(frame, applied)
        if unreadable:
            notes.append(note("not_numbers", n=unreadable))
        overall = overall_number(values, len(applied), len(everyone) - len(applied))
        for group in groupings:
            if _skip(item, group, crossed_pairs):
                continue
            table, why = cross_number(values, applied, group, threshold)
            _keep(by, notes, group, table, why)
    else:
        valid = choice_answers(frame, item, applied)
        inside = frame.loc[frame["respondent_id"].astype("int64").isin(applied), "value"]
        unknown = int((~inside.astype(str).isin(item.choice_codes())).sum())
        if unknown:
            notes.append(note("not_choices", n=unknown))
        overall = overall_choice(valid, item, len(applied), rule, len(everyone) - len(applied))
        for group in groupings:
            if _skip(item, group, crossed_pairs):
                continue
            table, why = cross_choice(valid, item, applied, group, rule, threshold)
            _keep(by, notes, group, table, why)
    domain = questionnaire.domain_of(item.id)
    choices = [Choice(code=c.code, label=dict(c.label), dont_know=c.dont_know,
                      agree=c.code in (item.agree or [])) for c in item.choices or []]
    if item.other:
        choices.append(Choice(code="other", label={lang: OTHER_LABELS.get(lang, "Other")
                                                   for lang in questionnaire.languages},
                              dont_know=False, agree=False))
    return ItemResult(item_id=item.id, type=item.type.value,
                      domain=domain.id if domain else None, label=dict(item.label),
                      applies_when=describe_condition(item.relevant), choices=choices,
                      overall=overall, by=by, notes=notes)


def _skip(item: Item, group: Grouping, crossed_pairs: set[tuple[str, str]]) -> bool:
    """An item is not crossed by itself, nor by a grouping it was already crossed with the other way."""
    if group.item_id == item.id:
        return True
    if (group.name, item.id) in crossed_pairs:
        return True
    crossed_pairs.add((item.id, group.name))
    return False


def _keep(by: dict[str, CrossTable], notes: list[str], group: Grouping, table: CrossTable | None,
          why: str | None) -> None:
    if table is not None:
        by[group.name] = table
    elif why:
        notes.append(why)


def _provenance(respondents: pd.DataFrame, answers: pd.DataFrame, questionnaire: Questionnaire,
                settings: Settings, generated_at: datetime | None) -> Provenance:
    moment = (generated_at or datetime.now(UTC)).astimezone(UTC)
    shown: dict[str, Any] = settings.model_dump(mode="json",
                                                include={"analysis", "disclosure", "regions",
                                                         "ingest"})
    # Who withdrew is itself about a person: publish how many, never their ids or codes.
    shown["ingest"]["withdrawn"] = len(settings.ingest.withdrawn)
    return Provenance(
        questionnaire_id=questionnaire.id, questionnaire_version=questionnaire.version,
        data_sha256=data_sha256(respondents, answers), settings=shown, tool="consult",
        tool_version=__version__, libraries=_library_versions(),
        monte_carlo_resamples=MONTE_CARLO_RESAMPLES,
        generated_at=moment.strftime("%Y-%m-%dT%H:%M:%SZ"))


def _library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("pandas", "scipy", "pingouin"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found
