"""``consult themes fit`` as a library call: store → themes → themes.yaml, CSV and results.json.

Reads the included answers of the questionnaire's practice items (or the items
named), fits themes per item (:func:`consult.analysis.text.themes.fit_themes`),
applies the authors' decisions of themes.yaml
(:func:`consult.analysis.text.matching.curate`) and appends the themes no
entry matched to themes.yaml as proposals. Writes a tidy CSV (one row per
answer and theme), each unit's themes for ``consult themes export``, and the
``themes`` and ``best_practices`` sections of results.json. Quotes are
redacted before they are written and attributed only by region and role;
support by region and role is suppressed below the project's [disclosure]
threshold.
"""

from __future__ import annotations

import csv
import hashlib
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from consult.analysis.data import NOT_STATED, Grouping, data_sha256, grouping, with_regions
from consult.analysis.disclosure import OTHER_GROUP, merge_small_groups, protect_cells
from consult.analysis.text.coding import find_codebook, human_coding
from consult.analysis.text.curation import (
    PROPOSED_FILE,
    THEMES_FILE,
    Curation,
    ThemeEntry,
    append_entries,
    load_curation,
    write_proposals,
)
from consult.analysis.text.embed import Embedder, MiniLMEmbedder
from consult.analysis.text.export import UNITS_FOLDER, UnitThemes, write_units
from consult.analysis.text.matching import MATCH_THRESHOLD, CuratedFit, Pinned, curate
from consult.analysis.text.practices import rank_best_practices
from consult.analysis.text.preprocess import Answer, TextCache, prepare
from consult.analysis.text.redact import redact
from consult.analysis.text.themes import (
    DEFAULT_MARGIN,
    DEFAULT_THRESHOLD,
    DOMAIN_STOP_WORDS,
    ThemeFit,
    fit_themes,
    load_codebook,
)
from consult.errors import ConsultError, Issue, SettingsError
from consult.project import Project
from consult.questionnaire import Item, ItemType, Questionnaire, load_questionnaire
from consult.results import read_results, write_results
from consult.results.themes import (
    BestPractices,
    ItemThemes,
    Quote,
    ThemeResult,
    ThemeSupport,
    item_themes,
)

if TYPE_CHECKING:
    import pandas as pd

# Units and lemmas of answers already prepared, under the project's .consult/ (TextCache).
TEXT_CACHE = "text"
THEMES_CSV = "themes.csv"
CSV_COLUMNS = ("respondent", "item", "theme", "label", "score", "rank")
MAX_QUOTES = 3
# A folder holding one of these is a model sentence-transformers can load.
MODEL_MARKERS = ("modules.json", "config_sentence_transformers.json", "config.json")


@dataclass(frozen=True)
class ThemesRun:
    """What :func:`fit_project_themes` wrote and what it found to report."""

    items: dict[str, ItemThemes]
    csv_path: Path
    results_path: Path
    best_practices: BestPractices | None = None
    issues: tuple[Issue, ...] = ()
    """Conflicts between themes.yaml and this fit (warnings) and notices (info)."""
    proposed: tuple[str, ...] = ()
    """Ids of the new themes added as proposals."""
    proposals_path: Path | None = None
    """Where they were written: themes.yaml, or out/themes-proposed.yaml when it could not be."""


def fit_project_themes(project: Project, items: Sequence[str] = (), *,
                       codebook: Path | None = None, threshold: float | None = None,
                       margin: float = DEFAULT_MARGIN, embedder: Embedder | None = None,
                       model_dir: Path | None = None,
                       match_threshold: float = MATCH_THRESHOLD,
                       progress: bool = False,
                       on_item: Callable[[str], None] | None = None) -> ThemesRun:
    """Fit themes on the project's stored free-text answers, curate them and write them out.

    ``model_dir`` is any local sentence-transformers folder (default: the
    shipped all-MiniLM-L6-v2); ``embedder`` replaces the model altogether.
    ``codebook``, ``threshold`` and ``model_dir`` default to the project's
    ``[themes]`` settings, which also give the domain stop words. ``on_item``
    is called with a short line as each item starts and finishes (the first
    may wait for the model to load).

    Raises
    ------
    ConsultError
        When an item is not a free-text item, the store holds no included
        response, the codebook or the model folder cannot be used, or
        themes.yaml has problems (all of them listed).
    """
    from consult.analysis.run import RESULTS_FILE, analyze_project
    from consult.store import open_store
    from consult.store.responses import load_responses

    questionnaire = load_questionnaire(project.questionnaire_path)
    chosen = _items(questionnaire, items)
    options = project.settings.themes
    if codebook is None:
        codebook = settings_codebook(project)
    model_dir = project_model_dir(project, model_dir)
    if threshold is None:
        threshold = options.threshold
    stop_words = [*(DOMAIN_STOP_WORDS if options.stop_words is None else options.stop_words),
                  *options.extra_stop_words]
    codes = load_codebook(codebook) if codebook else ()
    if not 0 < threshold < 2:
        raise ConsultError(f"threshold {threshold}: use a cosine distance between 0 and 2 "
                           f"({DEFAULT_THRESHOLD} by default; larger gives fewer, broader themes)")
    curation = load_curation(project.root / THEMES_FILE)
    if embedder is None:
        embedder = project_embedder(project, model_dir, progress)
    with open_store(project.database_url) as store:
        respondents, answers = load_responses(store, withdrawn=project.settings.ingest.withdrawn)
    if respondents.empty:
        raise ConsultError(f"no included responses in {project.root.name}'s database: import "
                           "responses first (consult ingest FILE), then run consult themes fit")
    settings = project.settings
    respondents = with_regions(respondents, settings.regions.scheme, project.root)
    language = settings.project.languages[0] if settings.project.languages else None
    by_item = {str(k): g for k, g in answers.groupby("item_id")}
    region = grouping("region", respondents, by_item, questionnaire, language)
    try:
        role: Grouping | None = grouping("role", respondents, by_item, questionnaire, language)
    except SettingsError:
        role = None
    countries = {int(i): str(c) for i, c in zip(respondents["id"], respondents["country_iso3"],
                                                 strict=True) if c is not None and str(c)}
    data_hash = data_sha256(respondents, answers)
    people = _People(region, role, countries, settings.disclosure.threshold)
    fitted: dict[str, ItemThemes] = {}
    rows: list[tuple[Any, ...]] = []
    issues: list[Issue] = []
    proposals: list[ThemeEntry] = []
    notes: dict[str, str] = {}
    kept: dict[str, list[UnitThemes]] = {}
    for number, item in enumerate(chosen, 1):
        started = time.perf_counter()
        if on_item is not None:
            on_item(f"{item.id} ({number}/{len(chosen)}): fitting themes ...")
        texts = _answers_of(by_item.get(item.id), item.id)
        prepared = prepare(texts, settings.project.languages)
        unit_texts = [u.text for u in prepared.units]
        human = human_coding(project.root, item.id, prepared.units, codes)  # coding/ sheets
        issues += human.issues
        fit = fit_themes(unit_texts, embedder, codebook=human.codebook, threshold=threshold,
                         margin=margin, stop_words=stop_words,
                         text_cache=TextCache(project.cache_dir / TEXT_CACHE))
        fit = human.apply(fit, embedder)
        curated = curate(item.id, fit, unit_texts, curation, embedder,
                         threshold=match_threshold, taken_ids={p.id for p in proposals})
        issues += curated.issues
        proposals += curated.proposals
        notes |= curated.notes
        extra: dict[str, Any] = {"model_dir": str(model_dir)} if model_dir is not None else {}
        if codebook is not None:
            extra["codebook"] = codebook.name  # the file's name: the path may be private
        fitted[item.id] = _item_themes(item.id, fit.settings | curated.settings | extra, curated,
                                       prepared.units, prepared.non_answers,
                                       prepared.language_counts(), people)
        item_rows, kept[item.id] = _rows(item.id, prepared.units, curated, fit)
        rows += item_rows
        if on_item is not None:
            on_item(f"{item.id} ({number}/{len(chosen)}): {len(unit_texts)} answers, done in "
                    f"{time.perf_counter() - started:.1f} s")
    proposals_path, more = _propose(project, curation, proposals, notes)
    issues += more
    csv_path = _write_csv(project.out_dir / THEMES_CSV, rows)
    for item_id, units in kept.items():
        write_units(project.cache_dir / UNITS_FOLDER, item_id, data_hash, units)
    results_path = project.out_dir / RESULTS_FILE
    results = read_results(results_path) if results_path.exists() else None
    if results is None or results.provenance.data_sha256 != data_hash:
        # Themes of other data must not sit beside these: analysis drops them.
        results = analyze_project(project, results_path).results
    section = dict(results.themes)
    section.update({k: v.model_dump(mode="json") for k, v in fitted.items()})
    ranked = rank_best_practices(item_themes(section), questionnaire)
    write_results(results.model_copy(update={"themes": section,
                                             "best_practices": ranked.model_dump(mode="json")}),
                  results_path)
    return ThemesRun(items=fitted, csv_path=csv_path, results_path=results_path,
                     best_practices=ranked, issues=tuple(issues),
                     proposed=tuple(p.id for p in proposals), proposals_path=proposals_path)


def check_model_dir(path: Path) -> Path:
    """``path`` if it is a local sentence-transformers model folder.

    Raises
    ------
    ConsultError
        When it does not exist, is not a folder, or holds none of
        ``modules.json``, ``config_sentence_transformers.json``, ``config.json``.
    """
    if not path.is_dir():
        raise ConsultError(f"--model {path}: no such folder; give a local sentence-transformers "
                           "model folder (the one holding modules.json and the weights)")
    if not any((path / marker).is_file() for marker in MODEL_MARKERS):
        raise ConsultError(f"--model {path}: not a sentence-transformers model folder (it has "
                           "no modules.json or config.json); give the folder holding the "
                           "model's files")
    return path


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


@dataclass(frozen=True)
class _People:
    """Who the respondents are, as far as themes need to say: region, role, country."""

    region: Grouping
    role: Grouping | None
    countries: dict[int, str]
    threshold: int

    def attribution(self, person: int) -> str:
        """How a quote of ``person`` is attributed (:func:`attributions`)."""
        return self._attributions.get(person, ANONYMOUS)

    @cached_property
    def _attributions(self) -> dict[int, str]:
        return attributions(self.region, self.role, self.threshold)

    @cached_property
    def regions(self) -> _Shown | None:
        """Regions as the tables show them: small ones merged into "Other regions"."""
        return _shown(self.region, self.threshold, "Other regions")

    @cached_property
    def roles(self) -> _Shown | None:
        """Roles as the tables show them: small ones merged into "Other"."""
        return _shown(self.role, self.threshold, "Other") if self.role is not None else None


@dataclass(frozen=True)
class _Shown:
    """A grouping as the crossed tables show it (:func:`merge_small_groups` on the sample)."""

    key: dict[int, str]
    """Respondent → the group shown for them (``OTHER_GROUP`` for a merged small group)."""
    order: list[str]
    labels: dict[str, str]

    def of(self, person: int) -> str:
        return self.key.get(person, NOT_STATED)


def _shown(group: Grouping, threshold: int, other: str) -> _Shown | None:
    """``group`` with small groups merged as the tables merge them; ``None`` when all merge."""
    codes = {int(p): str(c) for p, c in group.of.items()}
    sizes = Counter(codes.values())
    order = [g for g in group.order if g in sizes] + sorted(g for g in sizes
                                                           if g not in group.order)
    plan = merge_small_groups({g: sizes[g] for g in order}, threshold)
    if plan.dropped:
        return None
    labels = {g: group.labels.get(g, g) for g in order} | {OTHER_GROUP: other}
    return _Shown({p: plan.target(c) for p, c in codes.items()}, list(plan.shown), labels)


# Who said it, when neither region nor role can be named.
ANONYMOUS = "Respondent"


def attributions(region: Grouping, role: Grouping | None, threshold: int) -> dict[int, str]:
    """Each respondent's quote attribution: "Region, role", never naming a small group.

    Regions and roles with fewer than ``threshold`` included respondents are
    merged as the crossed tables merge them (:func:`merge_small_groups`):
    "Other regions", "other roles". When a region and a role together hold
    fewer than ``threshold`` respondents, no quote from that region names a
    role (so that a missing role tells nothing); when everyone
    falls in one merged group, the region is (a quote is then "Custodial" or,
    with neither, "Respondent"). A quote never narrows its author down to a
    group smaller than any table would show.
    """
    people = [int(p) for p in region.of.index]
    where = _shown_groups(region, people, threshold, "Other regions", "Region not stated")
    what = (_shown_groups(role, people, threshold, "other roles", "role not stated", short=True)
            if role is not None else {})
    pairs = Counter((where.get(p), what.get(p)) for p in people)
    # A region holding a small pair shows no role at all: were the role left out only for
    # the small pair, "Region" alone would tell which role they have.
    roleless = {place for (place, job), n in pairs.items()
                if place is not None and job is not None and n < threshold}
    found = {}
    for p in people:
        place, job = where.get(p), what.get(p)
        if place in roleless:
            job = None
        parts = [x for x in (place, job) if x is not None]
        if len(parts) == 1 and parts[0] == job:
            parts = [job[:1].upper() + job[1:]]
        found[p] = ", ".join(parts) or ANONYMOUS
    return found


def _shown_groups(group: Grouping, people: Sequence[int], threshold: int, other: str,
                  unstated: str, *, short: bool = False) -> dict[int, str]:
    """Person → the group's label as published (:func:`_shown`); none when all merge."""
    shown = _shown(group, threshold, other)
    if shown is None:
        return {}

    def label(key: str) -> str:
        text = group.labels.get(key, unstated) if key == NOT_STATED else shown.labels[key]
        return text.split(" (")[0].lower() if short else text

    return {p: label(shown.of(p)) for p in people}


def _item_themes(item_id: str, settings: dict[str, Any], curated: CuratedFit,
                 units: Sequence[Answer], non_answers: int, languages: dict[str, int],
                 people: _People) -> ItemThemes:
    results = []
    for theme in curated.themes:
        cited = sorted({units[i].respondent_id for i in theme.members})
        # Regions as the tables show them: a small region counted with the others it is
        # merged with, so that no count or list tells what its few respondents said.
        shown = people.regions
        regions = ({shown.of(p) for p in cited} - {NOT_STATED} if shown is not None
                   else {"all"} if cited else set())
        results.append(ThemeResult(
            id=theme.id, label=theme.label, source=theme.source, keywords=list(theme.keywords),
            n_answers=len(theme.members), n_respondents=len(cited),
            by_region=_support(cited, people.regions, people.threshold),
            by_role=_support(cited, people.roles, people.threshold),
            quotes=_quotes(theme.representatives, theme.pinned, units, people),
            n_countries=len({people.countries[p] for p in cited if p in people.countries}),
            n_regions=len(regions), best_practice=theme.best_practice, curated=theme.curated))
    results.sort(key=lambda t: -t.n_respondents)  # stable: ties keep the fit's order
    method = "codebook" if settings.get("method") == "codebook" else "discovery"
    return ItemThemes(item_id=item_id, method=method, model=str(settings.get("model", "")),
                      settings={k: v for k, v in settings.items()
                                if k not in ("method", "model")},
                      n_answers=len(units), n_non_answers=non_answers, languages=languages,
                      themes=results, excluded=list(curated.excluded))


def _quotes(representatives: Sequence[int], pinned: Pinned | None, units: Sequence[Answer],
            people: _People) -> list[Quote]:
    """The pinned quote first, then the answers closest to the centre; no text twice."""
    quotes: list[Quote] = []
    if pinned is not None:
        quotes.append(Quote(text=pinned.text,
                            attribution=people.attribution(units[pinned.unit].respondent_id)))
    for i in representatives:
        text = redact(units[i].text)
        if len(quotes) == MAX_QUOTES:
            break
        if (pinned is not None and i == pinned.unit) or any(q.text == text for q in quotes):
            continue
        quotes.append(Quote(text=text, attribution=people.attribution(units[i].respondent_id)))
    return quotes


def _support(people: Sequence[int], group: _Shown | None,
             threshold: int) -> list[ThemeSupport]:
    """Respondents citing a theme per group shown (none when all groups merge into one)."""
    if group is None:
        return []
    counts: dict[str, int] = {}
    for person in people:
        key = group.of(person)
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


def _rows(item_id: str, answers: Sequence[Answer], curated: CuratedFit,
          fit: ThemeFit) -> tuple[list[tuple[Any, ...]], list[UnitThemes]]:
    """The rows of themes.csv (per answer) and the units kept for the export (per sentence)."""
    labels = {t.id: t.label for t in curated.themes}
    rows: list[tuple[Any, ...]] = []
    for answer, assigned in zip(answers, curated.assignments, strict=True):
        rows += [(answer.respondent_id, item_id, theme_id, labels[theme_id], f"{score:.4f}",
                  rank) for rank, (theme_id, score) in enumerate(assigned, start=1)]
    return rows, _units_kept(item_id, answers, curated, fit, labels)


def _units_kept(item_id: str, answers: Sequence[Answer], curated: CuratedFit, fit: ThemeFit,
                labels: dict[str, str]) -> list[UnitThemes]:
    """Each sentence unit of each answer with the published themes it holds.

    A sentence holds a published theme of its answer when it holds one of the
    fitted themes the published one is made of (merges included); a theme the
    answer holds through curation alone (a split, a pin) is listed on its first
    sentence. Excluded themes are on no sentence, as on no answer.
    """
    made_of: dict[str, set[str]] = {}
    for theme in curated.themes:
        for fitted in theme.fitted or (theme.id,):
            made_of.setdefault(fitted, set()).add(theme.id)
    sentences: dict[int, list[int]] = {}
    for k, unit in enumerate(fit.units):
        sentences.setdefault(unit.answer, []).append(k)
    kept = []
    for i, (answer, assigned) in enumerate(zip(answers, curated.assignments, strict=True)):
        mine = sentences.get(i) or []
        if not mine or len(fit.unit_assignments) != len(fit.units):
            kept.append(UnitThemes(respondent=answer.respondent_id, item=item_id, unit=1,
                                   text=redact(answer.text),
                                   themes=tuple((t, labels[t], s) for t, s in assigned)))
            continue
        published = dict(assigned)
        held: list[dict[str, float]] = []
        for k in mine:
            found: dict[str, float] = {}
            for fitted, score in fit.unit_assignments[k]:
                for theme_id in made_of.get(fitted, ()):
                    if theme_id in published and score > found.get(theme_id, -2.0):
                        found[theme_id] = score
            held.append(found)
        for theme_id, score in published.items():
            if not any(theme_id in found for found in held):
                held[0][theme_id] = score
        for number, (k, found) in enumerate(zip(mine, held, strict=True), start=1):
            ordered = sorted(found.items(), key=lambda ts: -ts[1])
            kept.append(UnitThemes(respondent=answer.respondent_id, item=item_id, unit=number,
                                   text=redact(fit.units[k].text),
                                   themes=tuple((t, labels[t], s) for t, s in ordered)))
    return kept


def settings_codebook(project: Project) -> Path | None:
    """The codebook ``[themes] codebook`` names, if it names one (errors name the setting)."""
    name = project.settings.themes.codebook
    if not name:
        return None
    return find_codebook(name, project.root, f"{project.root / 'consult.toml'}: [themes] codebook")


def project_model_dir(project: Project, model_dir: Path | None) -> Path | None:
    """``model_dir``, else ``[themes] model`` (relative to the project), else none: MiniLM."""
    if model_dir is not None:
        return model_dir
    name = project.settings.themes.model
    return project.root / name if name else None


def project_embedder(project: Project, model_dir: Path | None,
                     progress: bool) -> MiniLMEmbedder:
    """The shipped MiniLM, or the model in ``model_dir`` (or ``[themes] model``) checked and
    loaded once, with the project's embedding cache."""
    model_dir = project_model_dir(project, model_dir)
    cache = project.cache_dir / "embeddings"
    if model_dir is None:
        return MiniLMEmbedder(cache_dir=cache, progress=progress)
    check_model_dir(model_dir)
    # Folders of different models may share a name ("model"): key the cache by the path too.
    key = hashlib.sha256(str(model_dir.resolve()).encode("utf-8")).hexdigest()[:12]
    embedder = MiniLMEmbedder(model_path=model_dir, cache_dir=cache / f"local-{key}",
                              progress=progress)
    try:
        MiniLMEmbedder(model_path=model_dir).embed(["model check"])
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        raise ConsultError(f"--model {model_dir}: sentence-transformers cannot load it "
                           f"({type(exc).__name__}: {exc})") from None
    return embedder


def _propose(project: Project, curation: Curation, proposals: list[ThemeEntry],
             notes: dict[str, str]) -> tuple[Path | None, list[Issue]]:
    """Append new themes to themes.yaml; when it cannot take them, write them beside results."""
    if not proposals:
        return None, []
    if curation.appendable:
        try:
            return append_entries(curation, proposals, notes), []
        except ConsultError as exc:
            problem = str(exc)
    else:
        problem = (f"{curation.path.name}: cannot add the new themes as text (`themes:` must "
                   "be the last key, written as a block list)")
    path = write_proposals(project.out_dir / PROPOSED_FILE, proposals, notes)
    return path, [Issue(code="curation-proposals", severity="warning", file=curation.path.name,
                        message=f"{problem}; the {len(proposals)} new themes are in {path}",
                        hint="Copy the ones to keep into themes.yaml.")]


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
