"""Themes of free-text answers: discovered with BERTopic, or assigned from a codebook.

Each answer is cut into units (sentences, list lines, clauses after ``;``) so
that an answer naming several practices can hold several themes; themes are
found and assigned per unit and rolled up per answer.

- **Discovery** (:mod:`consult.analysis.text.topic`): BERTopic with no
  dimensionality reduction and average-linkage clustering of the units cut at
  the cosine distance ``threshold`` (0.75); a theme must be held by at least
  ``max(2, min_share × answers)`` answers, smaller clusters' units go to the
  nearest theme (counted as outliers). Each unit also takes every theme whose
  centre is within ``margin`` of its own.
- **Codebook**: each code's prototype is the normalised sum of its embedded
  ``label: description`` and example phrases. An answer takes the codes its
  whole text is nearest to (best, and within ``code_margin`` of it) plus the
  best code of each of its units; units no code reaches ``min_similarity`` for
  are clustered into proposed new themes ``N1, N2 ...``.

Why these choices, and what they score against human coding, is in
docs/themes.md ("How themes are found"). Deterministic for a given ``seed``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from consult.analysis.text.embed import Embedder
from consult.errors import ConsultError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from consult.analysis.text.preprocess import TextCache

    Matrix = npt.NDArray[np.float32]

# Chosen on the benchmarks (human-coded proctoring and gambling questions, and the
# synthetic consultation), the same value on either half of them: docs/themes.md.
DEFAULT_THRESHOLD = 0.75
DEFAULT_MARGIN = 0.05
DEFAULT_CODE_MARGIN = 0.05
DEFAULT_MIN_SIMILARITY = 0.30
# A theme needs this share of the answers (and at least 2): BERTopic's advice for
# large corpora (min_cluster_size N/100 ... N/50), not tuned here.
DEFAULT_MIN_SHARE = 0.02
DEFAULT_SEED = 0
MAX_REPRESENTATIVES = 5
DOMAIN_STOP_WORDS = ("offender", "offenders", "inmate", "inmates", "prison", "prisons",
                     "prisoner", "prisoners", "radicalized", "radicalised", "radicalize",
                     "radicalise", "radicalization", "radicalisation", "délinquant",
                     "délinquants", "détenu", "détenus", "radicalisés", "radicalisé", "radicaliser",
                     "recommend", "jurisdiction", "jurisdictions", "practice", "think", "would")
UnitKind = Literal["sentences", "answers"]


@dataclass(frozen=True)
class Code:
    """One theme of a codebook."""

    id: str
    label: str
    description: str = ""
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class Unit:
    """A sentence (or the whole answer) of answer number ``answer``."""

    answer: int
    text: str


@dataclass(frozen=True)
class Theme:
    """One theme: who holds it, what it is about, which answers show it best."""

    id: str
    label: str
    keywords: tuple[str, ...]
    members: tuple[int, ...]
    """Indices of the answers assigned the theme (best or within the margin)."""
    representatives: tuple[int, ...]
    """Up to five member answers, the one holding the unit closest to the centre first."""
    source: Literal["discovered", "codebook"] = "discovered"
    representative_units: tuple[int, ...] = ()
    """Up to five units (indices into :attr:`ThemeFit.units`) closest to the centre first."""


@dataclass(frozen=True)
class ThemeFit:
    """Themes of one set of answers and each answer's themes, best first, with scores."""

    themes: tuple[Theme, ...]
    assignments: tuple[tuple[tuple[str, float], ...], ...]
    settings: dict[str, Any] = field(default_factory=dict)
    units: tuple[Unit, ...] = ()
    """The units the answers were cut into, in answer order."""
    unit_assignments: tuple[tuple[tuple[str, float], ...], ...] = ()
    """Each unit's themes, best first, with scores."""
    outliers: tuple[int, ...] = ()
    """Units no theme was found for on their own (too small a cluster, or no code near
    enough): each was given the nearest theme instead, or none (see docs/themes.md)."""

    def theme(self, theme_id: str) -> Theme:
        """The theme ``theme_id``; ``KeyError`` when there is none."""
        for theme in self.themes:
            if theme.id == theme_id:
                return theme
        raise KeyError(theme_id)


def fit_themes(texts: Sequence[str], embedder: Embedder, *, codebook: Sequence[Code] = (),
               threshold: float = DEFAULT_THRESHOLD, margin: float = DEFAULT_MARGIN,
               code_margin: float = DEFAULT_CODE_MARGIN,
               min_similarity: float = DEFAULT_MIN_SIMILARITY,
               stop_words: Sequence[str] = DOMAIN_STOP_WORDS, units: UnitKind = "sentences",
               min_share: float = DEFAULT_MIN_SHARE, seed: int = DEFAULT_SEED,
               languages: Sequence[str] | None = None,
               text_cache: TextCache | None = None) -> ThemeFit:
    """Themes of ``texts``: codebook codes when a codebook is given, discovered themes otherwise.

    Parameters
    ----------
    threshold
        Cosine distance at which discovered clusters stop merging: larger
        gives fewer, broader themes (0.55 suits very fine codings).
    units
        ``"sentences"`` (default) or ``"answers"`` (each answer one unit).
    min_share
        Share of the answers a discovered theme must hold (and at least 2
        answers); 0 lets a theme rest on a single answer.
    languages
        ISO 639-1 code of each text, for sentence rules and lemmas (default: English).
    text_cache
        Where units and lemmas of texts seen before are kept (a project's
        ``.consult/text/``); none by default.
    """
    import numpy as np

    settings: dict[str, Any] = {"threshold": threshold, "margin": margin, "units": units,
                                "model": embedder.name, "seed": seed,
                                "method": "codebook" if codebook else "discovery",
                                "stop_words": sorted(set(stop_words))}
    if not texts:
        return ThemeFit(themes=(), assignments=(), settings=settings)
    if languages is not None and len(languages) != len(texts):
        raise ValueError("languages must have one entry per text")
    if units not in ("sentences", "answers"):
        raise ValueError(f"units must be 'sentences' or 'answers', not {units!r}")
    from consult.analysis.text.preprocess import TextCache

    cache = text_cache or TextCache(None)
    pieces = (cache.split_units(texts, languages) if units == "sentences"
              else [[t] for t in texts])
    unit_list = tuple(Unit(i, p) for i, ps in enumerate(pieces) for p in ps)
    unit_languages = [languages[u.answer] for u in unit_list] if languages is not None else None
    vectors = _normalise(embedder.embed([u.text for u in unit_list]))
    lemmas = cache.content_lemmas([u.text for u in unit_list], unit_languages, stop_words,
                                  gaps=True)
    min_support = max(2, math.ceil(min_share * len(texts))) if min_share > 0 else 1
    settings |= {"min_support": min_support, "n_units": len(unit_list)}
    work = _Work(texts=texts, units=unit_list, vectors=vectors, lemmas=lemmas,
                 owner=np.array([u.answer for u in unit_list]))
    if codebook:
        settings |= {"code_margin": code_margin, "min_similarity": min_similarity}
        themes, per_unit, outliers, extra, leading = _codebook(
            work, codebook, embedder, code_margin, min_similarity, threshold, margin,
            min_support, seed)
    else:
        themes, per_unit, outliers, extra = _discovery(work, threshold, margin, min_support, seed)
        leading = []
    settings |= extra | {"n_outliers": len(outliers)}
    assignments = _roll_up(work, per_unit, leading)
    return ThemeFit(themes=tuple(themes), assignments=assignments, settings=settings,
                    units=unit_list, unit_assignments=tuple(tuple(a) for a in per_unit),
                    outliers=tuple(outliers))


def code_prototypes(codebook: Sequence[Code], embedder: Embedder) -> Matrix:
    """One normalised prototype per code: the sum of its embedded label (+ description) and examples."""
    import numpy as np

    rows = []
    for code in codebook:
        head = f"{code.label}: {code.description}" if code.description else code.label
        embedded = embedder.embed([head, *code.examples])
        rows.append(embedded.sum(axis=0))
    prototypes: Matrix = _normalise(np.vstack(rows).astype(np.float32))
    return prototypes


def load_codebook(path: Path) -> tuple[Code, ...]:
    """Read a YAML codebook: a list (or ``themes:`` list) of ``id, label, description, examples``.

    Raises
    ------
    ConsultError
        When the file cannot be read or a code lacks an id or label.
    """
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConsultError(f"codebook {path}: cannot read it ({exc})") from None
    if isinstance(data, dict):
        data = data.get("themes", data.get("codes"))
    if not isinstance(data, list) or not data:
        raise ConsultError(f"codebook {path}: expected a list of codes (id, label, description, "
                           "examples), or a mapping with a `themes:` list")
    codes = []
    for number, entry in enumerate(data, start=1):
        if not isinstance(entry, dict) or not entry.get("id") or not entry.get("label"):
            raise ConsultError(f"codebook {path}: code {number} needs an id and a label")
        examples = entry.get("examples") or []
        if isinstance(examples, str):
            examples = [examples]
        if not isinstance(examples, list):
            raise ConsultError(f"codebook {path}: code {entry['id']}: examples must be a list "
                               "of phrases")
        codes.append(Code(id=str(entry["id"]), label=str(entry["label"]).strip(),
                          description=" ".join(str(entry.get("description") or "").split()),
                          examples=tuple(str(e).strip() for e in examples if str(e).strip())))
    ids = [c.id for c in codes]
    if len(set(ids)) != len(ids):
        raise ConsultError(f"codebook {path}: code ids must be unique")
    return tuple(codes)


def keywords(documents: Sequence[str], top: int = 6,
             stop_words: Sequence[str] = DOMAIN_STOP_WORDS,
             languages: Sequence[str] | None = None) -> list[tuple[str, ...]]:
    """Top ``top`` keywords of each document by class-based TF-IDF (one document per theme).

    Words are spaCy lookup lemmas, lower-cased, without the language's stop
    words and ``stop_words``; bigrams count too. c-TF-IDF (Grootendorst 2022,
    as in BERTopic): ``tf(t, c) * log(1 + A / f(t))``, with ``tf`` normalised
    by the class's length, ``A`` the mean words per class and ``f`` the term's
    frequency over all classes.
    """
    from consult.analysis.text.preprocess import content_lemmas

    return _ctfidf(content_lemmas(documents, languages, stop_words, gaps=True), top)


# --------------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class _Work:
    """One fit's inputs, cut into units."""

    texts: Sequence[str]
    units: tuple[Unit, ...]
    vectors: Any
    lemmas: list[str]
    owner: Any


def _discovery(work: _Work, threshold: float, margin: float, min_support: int,
               seed: int) -> tuple[list[Theme], list[list[tuple[str, float]]], list[int],
                                   dict[str, Any]]:
    from consult.analysis.text.topic import discover

    found = discover(work.lemmas, work.vectors, work.owner.tolist(), threshold=threshold,
                     min_support=min_support, seed=seed)
    themes, per_unit = _clustered(work, list(range(len(work.units))), list(found.topics),
                                  list(found.keywords), margin, "T", threshold, found.outliers)
    return themes, per_unit, list(found.outliers), {"components": found.components}


def _clustered(work: _Work, indices: list[int], topics: list[int], words: list[tuple[str, ...]],
               margin: float, prefix: str, threshold: float, outliers: Sequence[int] = (),
               per_unit: list[list[tuple[str, float]]] | None = None,
               ) -> tuple[list[Theme], list[list[tuple[str, float]]]]:
    """Themes from a topic per unit (of the units ``indices``), numbered by answers held.

    A theme's centre is the mean of the units clustered into it (outliers
    excluded). Each unit takes its own theme and those within ``margin`` of
    it; an outlier unit takes only the nearest theme, and none at all when
    that is further than ``threshold`` and another unit of its answer has a
    theme.
    """
    import numpy as np

    per_unit = per_unit if per_unit is not None else [[] for _ in work.units]
    weak = set(outliers)
    count = max(topics) + 1
    groups = [[indices[p] for p, t in enumerate(topics) if t == k] for k in range(count)]
    cores = [[u for u in g if u not in weak] or g for g in groups]
    centres = _normalise(np.vstack([work.vectors[g].mean(axis=0) for g in cores]))
    sims = work.vectors[indices] @ centres.T
    for position, row in enumerate(sims):
        own = topics[position]
        best = float(row[own])
        chosen = [own] if indices[position] in weak else [
            own, *(int(k) for k in np.argsort(-row, kind="stable")
                   if k != own and row[k] >= best - margin)]
        per_unit[indices[position]] = [(str(k), round(float(row[k]), 4)) for k in chosen]
    for position, row in enumerate(sims):
        unit = indices[position]
        if unit in weak and float(row[topics[position]]) < 1 - threshold and any(
                per_unit[v] for v in np.flatnonzero(work.owner == work.owner[unit]) if v != unit):
            per_unit[unit] = []
    held: list[set[int]] = [set() for _ in range(count)]
    for unit in indices:
        for theme, _ in per_unit[unit]:
            if theme.isdigit():
                held[int(theme)].add(int(work.owner[unit]))
    # Number themes by answers held (most first), ties by their first unit: stable across runs.
    order = sorted(range(count), key=lambda k: (-len(held[k]), groups[k][0]))
    ids = {str(k): f"{prefix}{n}" for n, k in enumerate(order, start=1)}
    for unit in indices:
        per_unit[unit] = [(ids.get(t, t), s) for t, s in per_unit[unit]]
    themes = []
    for k in order:
        holding = [u for u in indices if any(t == ids[str(k)] for t, _ in per_unit[u])]
        unit_ids, answers = _closest(work, holding or cores[k], centres[k])
        themes.append(Theme(id=ids[str(k)], label=_label(words[k], work.units[unit_ids[0]].text),
                            keywords=tuple(words[k][:6]), members=tuple(sorted(held[k])),
                            representatives=answers, source="discovered",
                            representative_units=unit_ids))
    return themes, per_unit


def _codebook(work: _Work, codebook: Sequence[Code], embedder: Embedder, code_margin: float,
              min_similarity: float, threshold: float, margin: float, min_support: int,
              seed: int) -> tuple[list[Theme], list[list[tuple[str, float]]], list[int],
                                  dict[str, Any], list[list[tuple[str, float]]]]:
    """Codes per answer (whole text) and per unit; uncovered units into new themes."""
    import numpy as np

    prototypes = code_prototypes(codebook, embedder)
    unit_sims = work.vectors @ prototypes.T
    # A one-unit answer's whole text is its unit; longer answers are embedded whole as well.
    whole = unit_sims[np.searchsorted(work.owner, np.arange(len(work.texts)))].copy()
    several = np.flatnonzero(np.bincount(work.owner, minlength=len(work.texts)) > 1).tolist()
    if several:
        whole[several] = _normalise(embedder.embed([work.texts[i] for i in several])) @ prototypes.T
    # A unit adds its best code only: near-misses are the whole answer's to give (measured).
    per_unit = [_near(row, codebook, code_margin, min_similarity)[:1] for row in unit_sims]
    answer_codes = [_near(row, codebook, code_margin, min_similarity) for row in whole]
    uncovered = [u for u, row in enumerate(unit_sims) if float(row.max()) < min_similarity]
    themes: list[Theme] = []
    outliers: list[int] = []
    if uncovered:
        themes, outliers = _new_themes(work, uncovered, threshold, margin, min_support, seed,
                                       per_unit)
    # An answer no code and no new theme reached still gets its nearest code, as an outlier.
    for i, row in enumerate(whole):
        if answer_codes[i]:
            continue
        units = np.flatnonzero(work.owner == i).tolist()
        if not any(per_unit[u] for u in units):
            j = int(np.argmax(row))
            answer_codes[i] = [(codebook[j].id, round(float(row[j]), 4))]
            outliers += [u for u in units if u not in outliers]
    held: dict[str, set[int]] = {}
    for i, picked in enumerate(answer_codes):
        for theme_id, _ in picked:
            held.setdefault(theme_id, set()).add(i)
    for u, assigned in enumerate(per_unit):
        for theme_id, _ in assigned:
            held.setdefault(theme_id, set()).add(int(work.owner[u]))
    coded = []
    for j, code in enumerate(codebook):
        if code.id not in held:
            continue
        pool = [u for u in range(len(work.units)) if int(work.owner[u]) in held[code.id]]
        unit_ids, answers = _closest(work, pool, prototypes[j])
        coded.append(Theme(id=code.id, label=code.label, keywords=(), members=(),
                           representatives=answers, source="codebook",
                           representative_units=unit_ids))
    themes = coded + themes
    words = _ctfidf([" | ".join(work.lemmas[u] for u in range(len(work.units))
                              if int(work.owner[u]) in held[t.id]) for t in themes], 6)
    themes = [Theme(id=t.id, label=t.label or _label(w, ""), keywords=w,
                    members=tuple(sorted(held[t.id])), representatives=t.representatives,
                    source=t.source, representative_units=t.representative_units)
              for t, w in zip(themes, words, strict=True)]
    return themes, per_unit, sorted(outliers), {"n_uncovered_units": len(uncovered)}, answer_codes


def _near(row: Any, codebook: Sequence[Code], code_margin: float,
          min_similarity: float) -> list[tuple[str, float]]:
    """The best code and those within ``code_margin`` of it, when the best reaches ``min_similarity``."""
    import numpy as np

    best = float(row.max())
    if best < min_similarity:
        return []
    return [(codebook[j].id, round(float(row[j]), 4))
            for j in np.argsort(-row, kind="stable") if row[j] >= best - code_margin]


def _new_themes(work: _Work, uncovered: list[int], threshold: float, margin: float,
                min_support: int, seed: int, per_unit: list[list[tuple[str, float]]],
                ) -> tuple[list[Theme], list[int]]:
    """Themes ``N1, N2 ...`` from the units no code covers, if enough answers share them."""
    from consult.analysis.text.topic import ThresholdClustering, discover

    owners = work.owner[uncovered].tolist()
    trial = ThresholdClustering(threshold, min_support=min_support, groups=owners,
                                seed=seed).fit(work.vectors[uncovered])
    if len(set(owners)) < min_support or all(v == -1 for v in trial.labels_):
        return [], list(uncovered)
    found = discover([work.lemmas[u] for u in uncovered], work.vectors[uncovered], owners,
                     threshold=threshold, min_support=min_support, seed=seed)
    outliers = [uncovered[p] for p in found.outliers]
    themes, _ = _clustered(work, uncovered, list(found.topics), list(found.keywords), margin,
                           "N", threshold, outliers, per_unit)
    return themes, outliers


def _roll_up(work: _Work, per_unit: list[list[tuple[str, float]]],
             leading: Sequence[list[tuple[str, float]]] = (),
             ) -> tuple[tuple[tuple[str, float], ...], ...]:
    """Each answer's themes: ``leading`` ones (its whole text's codes), its units' own themes
    in unit order, then the rest by score."""
    answers: list[dict[str, float]] = [dict(picked) for picked in leading] or [
        {} for _ in work.texts]
    extras: list[dict[str, float]] = [{} for _ in work.texts]
    for u, assigned in enumerate(per_unit):
        i = int(work.owner[u])
        for rank, (theme_id, score) in enumerate(assigned):
            if rank == 0 or theme_id in answers[i]:
                answers[i][theme_id] = max(score, answers[i].get(theme_id, score))
            else:
                extras[i][theme_id] = max(score, extras[i].get(theme_id, score))
    rolled = []
    for own, more in zip(answers, extras, strict=True):
        rest = sorted(((t, s) for t, s in more.items() if t not in own), key=lambda ts: -ts[1])
        rolled.append(tuple([*own.items(), *rest]))
    return tuple(rolled)


def _closest(work: _Work, units: Sequence[int], centre: Any,
             ) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Up to five of ``units`` nearest ``centre`` (one text once), and up to five answers
    in the same order (each answer ranked by its nearest unit)."""
    import numpy as np

    if not units:
        return (), ()
    sims = work.vectors[list(units)] @ centre
    chosen: list[int] = []
    answers: list[int] = []
    seen: set[str] = set()
    for k in np.argsort(-sims, kind="stable"):
        unit = units[int(k)]
        if len(chosen) < MAX_REPRESENTATIVES and work.units[unit].text not in seen:
            seen.add(work.units[unit].text)
            chosen.append(unit)
        if len(answers) < MAX_REPRESENTATIVES and work.units[unit].answer not in answers:
            answers.append(work.units[unit].answer)
        if len(chosen) == len(answers) == MAX_REPRESENTATIVES:
            break
    return tuple(chosen), tuple(answers)


def _ctfidf(documents: Sequence[str], top: int) -> list[tuple[str, ...]]:
    """c-TF-IDF keywords of already lemmatised documents (one per class)."""
    import numpy as np
    from sklearn.feature_extraction.text import CountVectorizer  # type: ignore[import-untyped]

    from consult.analysis.text.preprocess import ngrams

    vectorizer = CountVectorizer(analyzer=ngrams)
    try:
        counts = vectorizer.fit_transform(documents).toarray().astype(float)
    except ValueError:  # nothing but stop words
        return [() for _ in documents]
    words = vectorizer.get_feature_names_out()
    lengths = counts.sum(axis=1, keepdims=True)
    tf = counts / np.where(lengths == 0, 1, lengths)
    average = counts.sum() / max(len(documents), 1)
    idf = np.log(1 + average / np.maximum(counts.sum(axis=0), 1))
    scores = tf * idf
    found = []
    for row in scores:
        order = np.argsort(-row, kind="stable")
        found.append(tuple(str(words[j]) for j in order[:top] if row[j] > 0))
    return found


def _label(words: Sequence[str], closest: str) -> str:
    """A readable label: up to three keywords that do not repeat one another, or opening words."""
    picked: list[str] = []
    for word in words:
        if any(set(word.split()) & set(other.split()) for other in picked):
            continue
        picked.append(word)
        if len(picked) == 3:
            break
    if picked:
        return ", ".join(picked).capitalize()
    return " ".join(closest.split()[:6])


def _normalise(matrix: Any) -> Any:
    import numpy as np

    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)
