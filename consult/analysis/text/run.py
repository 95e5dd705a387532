"""``consult themes fit`` as a library call: store → themes → out/themes.csv and results.json.

Reads the included answers of the questionnaire's practice items (or the items
named), fits themes per item (:func:`consult.analysis.text.themes.fit_themes`),
and writes a tidy CSV (one row per answer and theme) and the ``themes``
section of results.json. Quotes are redacted before they are written and
attributed only by region and role; support by region and role is suppressed
below the project's [disclosure] threshold.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from consult.analysis.data import NOT_STATED, Grouping, grouping
from consult.analysis.disclosure import protect_cells
from consult.analysis.text.embed import Embedder, MiniLMEmbedder
from consult.analysis.text.preprocess import Answer, prepare
from consult.analysis.text.redact import redact
from consult.analysis.text.themes import (
    DEFAULT_MARGIN,
    DEFAULT_THRESHOLD,
    ThemeFit,
    fit_themes,
    load_codebook,
)
from consult.errors import ConsultError, SettingsError
from consult.project import Project
from consult.questionnaire import Item, ItemType, Questionnaire, load_questionnaire
from consult.results import read_results, write_results
from consult.results.themes import ItemThemes, Quote, ThemeResult, ThemeSupport

if TYPE_CHECKING:
    import pandas as pd

THEMES_CSV = "themes.csv"
CSV_COLUMNS = ("respondent", "item", "theme", "label", "score", "rank")
MAX_QUOTES = 3


@dataclass(frozen=True)
class ThemesRun:
    """What :func:`fit_project_themes` wrote."""

    items: dict[str, ItemThemes]
    csv_path: Path
    results_path: Path


def fit_project_themes(project: Project, items: Sequence[str] = (), *,
                       codebook: Path | None = None, threshold: float = DEFAULT_THRESHOLD,
                       margin: float = DEFAULT_MARGIN, embedder: Embedder | None = None,
                       progress: bool = False) -> ThemesRun:
    """Fit themes on the project's stored free-text answers and write them out.

    Raises
    ------
    ConsultError
        When an item is not a free-text item, the store holds no included
        response, or the codebook cannot be read.
    """
    from consult.analysis.run import RESULTS_FILE, analyze_project
    from consult.store import open_store
    from consult.store.responses import load_responses

    questionnaire = load_questionnaire(project.questionnaire_path)
    chosen = _items(questionnaire, items)
    codes = load_codebook(codebook) if codebook else ()
    if not 0 < threshold < 2:
        raise ConsultError(f"--threshold {threshold}: use a cosine distance between 0 and 2 "
                           "(0.55 by default; larger gives fewer, broader themes)")
    with open_store(project.database_url) as store:
        respondents, answers = load_responses(store)
    if respondents.empty:
        raise ConsultError(f"no included responses in {project.root.name}'s database: import "
                           "responses first (consult ingest FILE), then run consult themes fit")
    embedder = embedder or MiniLMEmbedder(cache_dir=project.cache_dir / "embeddings",
                                          progress=progress)
    settings = project.settings
    language = settings.project.languages[0] if settings.project.languages else None
    by_item = {str(k): g for k, g in answers.groupby("item_id")}
    region = grouping("region", respondents, by_item, questionnaire, language)
    try:
        role: Grouping | None = grouping("role", respondents, by_item, questionnaire, language)
    except SettingsError:
        role = None
    fitted: dict[str, ItemThemes] = {}
    rows: list[tuple[Any, ...]] = []
    for item in chosen:
        texts = _answers_of(by_item.get(item.id), item.id)
        prepared = prepare(texts, settings.project.languages)
        fit = fit_themes([u.text for u in prepared.units], embedder, codebook=codes,
                         threshold=threshold, margin=margin)
        fitted[item.id] = _item_themes(item.id, fit, prepared.units, prepared.non_answers,
                                       prepared.language_counts(), region, role,
                                       settings.disclosure.threshold)
        labels = {t.id: t.label for t in fit.themes}
        for unit, assigned in zip(prepared.units, fit.assignments, strict=True):
            rows += [(unit.respondent_id, item.id, theme_id, labels[theme_id], f"{score:.4f}", rank)
                     for rank, (theme_id, score) in enumerate(assigned, start=1)]
    csv_path = _write_csv(project.out_dir / THEMES_CSV, rows)
    results_path = project.out_dir / RESULTS_FILE
    results = (read_results(results_path) if results_path.exists()
               else analyze_project(project, results_path).results)
    section = dict(results.themes)
    section.update({k: v.model_dump(mode="json") for k, v in fitted.items()})
    write_results(results.model_copy(update={"themes": section}), results_path)
    return ThemesRun(items=fitted, csv_path=csv_path, results_path=results_path)


def _items(questionnaire: Questionnaire, wanted: Sequence[str]) -> list[Item]:
    free = [i for i in questionnaire.items() if i.type is ItemType.FREE_TEXT]
    if not wanted:
        practice = [i for i in free if i.practice]
        if not practice:
            raise ConsultError(f"{questionnaire.id} has no free-text item marked practice: true; "
                               "name the items to fit: consult themes fit ITEM ...")
        return practice
    known = {i.id: i for i in free}
    unknown = [w for w in wanted if w not in known]
    if unknown:
        raise ConsultError(f"{unknown[0]!r} is not a free-text item of {questionnaire.id}; use "
                           f"one of {', '.join(known)}")
    return [known[w] for w in dict.fromkeys(wanted)]


def _answers_of(frame: pd.DataFrame | None, item_id: str) -> list[Answer]:
    if frame is None or frame.empty:
        return []
    ordered = frame.sort_values(["respondent_id", "ordinal"])
    return [Answer(respondent_id=int(r), item_id=item_id, text=str(v))
            for r, v in zip(ordered["respondent_id"], ordered["value"], strict=True)
            if v is not None]


def _item_themes(item_id: str, fit: ThemeFit, units: Sequence[Answer], non_answers: int,
                 languages: dict[str, int], region: Grouping, role: Grouping | None,
                 threshold: int) -> ItemThemes:
    results = []
    for theme in fit.themes:
        people = sorted({units[i].respondent_id for i in theme.members})
        quotes = [Quote(text=redact(units[i].text),
                        attribution=_attribution(units[i].respondent_id, region, role))
                  for i in theme.representatives[:MAX_QUOTES]]
        results.append(ThemeResult(
            id=theme.id, label=theme.label, source=theme.source, keywords=list(theme.keywords),
            n_answers=len(theme.members), n_respondents=len(people),
            by_region=_support(people, region, threshold),
            by_role=_support(people, role, threshold) if role else [], quotes=quotes))
    results.sort(key=lambda t: -t.n_respondents)  # stable: ties keep the fit's order
    method = "codebook" if fit.settings.get("method") == "codebook" else "discovery"
    return ItemThemes(item_id=item_id, method=method, model=str(fit.settings.get("model", "")),
                      settings={k: v for k, v in fit.settings.items()
                                if k not in ("method", "model")},
                      n_answers=len(units), n_non_answers=non_answers, languages=languages,
                      themes=results)


def _support(people: Sequence[int], group: Grouping, threshold: int) -> list[ThemeSupport]:
    counts: dict[str, int] = {}
    for person in people:
        key = str(group.of.get(person, NOT_STATED))
        counts[key] = counts.get(key, 0) + 1
    values = {g: counts[g] for g in group.order if g in counts}
    # The theme's respondent count is published: it is the total of this row.
    protection = protect_cells(values, [list(values)], threshold)
    rows = []
    for key, count in values.items():
        status = protection.status[key]
        hidden = status != "published"
        rows.append(ThemeSupport(group=key, label=group.labels.get(key, key),
                                 count=None if hidden else count,
                                 display=(f"<{threshold}" if status == "primary" else
                                          "x" if status == "secondary" else str(count)),
                                 suppressed=None if status == "published" else status))
    return rows


def _attribution(person: int, region: Grouping, role: Grouping | None) -> str:
    where = region.labels.get(str(region.of.get(person, NOT_STATED)), "Region not stated")
    if role is None:
        return where
    code = str(role.of.get(person, NOT_STATED))
    return f"{where}, {role.labels.get(code, code).split(' (')[0].lower()}"


def _write_csv(path: Path, rows: list[tuple[Any, ...]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".csv.partial")
    with partial.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        writer.writerows(rows)
    partial.replace(path)
    return path


def read_themes_csv(path: Path) -> dict[tuple[str, str], list[str]]:
    """``(respondent, item) → theme ids`` best first, from a CSV with the columns of themes.csv.

    Only ``respondent``, ``item`` and ``theme`` (or ``code``) are needed; rows
    are taken in ``rank`` order when there is one, file order otherwise.
    """
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise ConsultError(f"{path}: cannot read it ({exc.strerror})") from None
    column = "theme" if rows and "theme" in rows[0] else "code"
    if not rows or not {"respondent", "item", column} <= set(rows[0]):
        raise ConsultError(f"{path}: expected the columns respondent, item and theme (or code), "
                           "one row per answer and theme")
    found: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for number, row in enumerate(rows):
        rank = int(row["rank"]) if row.get("rank") else number
        found.setdefault((row["respondent"], row["item"]), []).append((rank, row[column]))
    return {key: [t for _, t in sorted(pairs)] for key, pairs in found.items()}
