"""Themes of free-text answers: discovery by clustering, or assignment to a codebook.

Discovery: agglomerative clustering (average linkage, cosine distance) of the
normalised embeddings, cut at ``threshold`` (0.55: the plateau measured on the
benchmarks, docs/themes.md); each answer then gets its best theme plus every
theme whose centroid is within ``margin`` (cosine) of the best. Codebook: each
code's prototype is the normalised sum of its embedded label (+ description)
and examples; an answer gets its best code plus codes within ``code_margin``,
and answers whose best code is below ``min_similarity`` go to discovery.

Everything is deterministic: no random state is involved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from consult.analysis.text.embed import Embedder
from consult.errors import ConsultError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Matrix = npt.NDArray[np.float32]

DEFAULT_THRESHOLD = 0.55
DEFAULT_MARGIN = 0.10
DEFAULT_CODE_MARGIN = 0.05
DEFAULT_MIN_SIMILARITY = 0.30
DOMAIN_STOP_WORDS = ("offender", "offenders", "inmate", "inmates", "prison", "prisons",
                     "prisoner", "prisoners", "radicalized", "radicalised", "radicalization",
                     "radicalisation", "délinquant", "délinquants", "détenu", "détenus",
                     "radicalisés", "radicalisé", "recommend", "jurisdiction", "jurisdictions",
                     "practice", "think", "would")


@dataclass(frozen=True)
class Code:
    """One theme of a codebook."""

    id: str
    label: str
    description: str = ""
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class Theme:
    """One theme: who holds it, what it is about, which answers show it best."""

    id: str
    label: str
    keywords: tuple[str, ...]
    members: tuple[int, ...]
    """Indices of the answers assigned the theme (best or within the margin)."""
    representatives: tuple[int, ...]
    """Up to five member indices, closest to the centroid first."""
    source: Literal["discovered", "codebook"] = "discovered"


@dataclass(frozen=True)
class ThemeFit:
    """Themes of one set of answers and each answer's themes, best first, with scores."""

    themes: tuple[Theme, ...]
    assignments: tuple[tuple[tuple[str, float], ...], ...]
    settings: dict[str, Any] = field(default_factory=dict)

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
               stop_words: Sequence[str] = DOMAIN_STOP_WORDS) -> ThemeFit:
    """Themes of ``texts``: codebook codes when a codebook is given, discovered themes otherwise.

    With a codebook, answers no code covers (best similarity below
    ``min_similarity``) are clustered into new themes ``N1, N2 ...``.
    """
    import numpy as np

    settings = {"threshold": threshold, "margin": margin, "model": embedder.name,
                "method": "codebook" if codebook else "discovery"}
    if not texts:
        return ThemeFit(themes=(), assignments=(), settings=settings)
    vectors = _normalise(embedder.embed(list(texts)))
    assignments: list[list[tuple[str, float]]] = [[] for _ in texts]
    themes: list[Theme] = []
    rest = list(range(len(texts)))
    if codebook:
        settings |= {"code_margin": code_margin, "min_similarity": min_similarity}
        prototypes = code_prototypes(codebook, embedder)
        sims = vectors @ prototypes.T
        rest = []
        for i, row in enumerate(sims):
            best = float(row.max())
            if best < min_similarity:
                rest.append(i)
                continue
            order = np.argsort(-row, kind="stable")
            assignments[i] = [(codebook[j].id, round(float(row[j]), 4)) for j in order
                              if row[j] >= best - code_margin]
        for j, code in enumerate(codebook):
            members = [i for i, a in enumerate(assignments) if any(t == code.id for t, _ in a)]
            if members:
                themes.append(_theme(code.id, members, vectors, prototypes[j], "codebook",
                                     label=code.label))
    if rest:
        prefix = "N" if codebook else "T"
        themes += _discover(rest, vectors, threshold, margin, prefix, assignments)
    # Keywords in one pass, all themes as the classes of one c-TF-IDF.
    words = keywords([" ".join(texts[i] for i in t.members) for t in themes],
                     stop_words=stop_words)
    themes = [replace(t, keywords=w, label=t.label or _label(w, texts[t.representatives[0]]))
              for t, w in zip(themes, words, strict=True)]
    return ThemeFit(themes=tuple(themes),
                    assignments=tuple(tuple(a) for a in assignments), settings=settings)


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
        codes.append(Code(id=str(entry["id"]), label=str(entry["label"]),
                          description=str(entry.get("description") or ""),
                          examples=tuple(str(e) for e in examples)))
    ids = [c.id for c in codes]
    if len(set(ids)) != len(ids):
        raise ConsultError(f"codebook {path}: code ids must be unique")
    return tuple(codes)


def keywords(documents: Sequence[str], top: int = 6,
             stop_words: Sequence[str] = DOMAIN_STOP_WORDS) -> list[tuple[str, ...]]:
    """Top ``top`` keywords of each document by class-based TF-IDF (one document per theme).

    c-TF-IDF (Grootendorst 2022): ``tf(t, c) * log(1 + A / f(t))``, with ``tf``
    normalised by the class's length, ``A`` the mean words per class and ``f``
    the term's frequency over all classes. English and French stop words and
    ``stop_words`` are left out.
    """
    import numpy as np
    from sklearn.feature_extraction.text import (  # type: ignore[import-untyped]
        ENGLISH_STOP_WORDS,
        CountVectorizer,
    )

    stops = sorted(set(ENGLISH_STOP_WORDS) | _french_stop_words() | {w.lower() for w in stop_words})
    vectorizer = CountVectorizer(stop_words=stops, ngram_range=(1, 2), min_df=1,
                                 token_pattern=r"(?u)\b[^\W\d_][\w'-]{2,}\b")
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
        # A bigram repeating a word ("staff staff") says nothing its unigram does not.
        ranked = [str(words[j]) for j in order if row[j] > 0
                  and len(set(str(words[j]).split())) == len(str(words[j]).split())]
        found.append(tuple(ranked[:top]))
    return found


# --------------------------------------------------------------------------- helpers


def _discover(indices: list[int], vectors: Matrix, threshold: float, margin: float,
              prefix: str, assignments: list[list[tuple[str, float]]]) -> list[Theme]:
    import numpy as np

    subset = vectors[indices]
    if len(indices) == 1:
        labels = np.zeros(1, dtype=int)
    else:
        from sklearn.cluster import AgglomerativeClustering  # type: ignore[import-untyped]

        labels = AgglomerativeClustering(n_clusters=None, distance_threshold=threshold,
                                         metric="cosine", linkage="average").fit_predict(subset)
    # Number themes by size (largest first), ties by their first answer: stable across runs.
    groups: dict[int, list[int]] = {}
    for position, label in enumerate(labels):
        groups.setdefault(int(label), []).append(position)
    ordered = sorted(groups.values(), key=lambda g: (-len(g), g[0]))
    centroids = _normalise(np.vstack([subset[g].mean(axis=0) for g in ordered]).astype(np.float32))
    ids = [f"{prefix}{n}" for n in range(1, len(ordered) + 1)]
    sims = subset @ centroids.T
    members: list[list[int]] = [[] for _ in ordered]
    for position, row in enumerate(sims):
        own = next(k for k, g in enumerate(ordered) if position in g)
        best = float(row[own])
        extra = [k for k in np.argsort(-row, kind="stable")
                 if k != own and row[k] >= best - margin]
        chosen = [own, *extra]
        assignments[indices[position]] = [(ids[k], round(float(row[k]), 4)) for k in chosen]
        for k in chosen:
            members[k].append(indices[position])
    return [_theme(ids[k], members[k], vectors, centroids[k], "discovered")
            for k in range(len(ordered))]


def _theme(theme_id: str, members: list[int], vectors: Matrix, centre: Any,
           source: Literal["discovered", "codebook"], *, label: str = "") -> Theme:
    """A theme without keywords yet (:func:`fit_themes` adds them for all themes at once)."""
    import numpy as np

    sims = vectors[members] @ centre
    order = np.argsort(-sims, kind="stable")
    representatives = tuple(members[k] for k in order[:5])
    return Theme(id=theme_id, label=label, keywords=(), members=tuple(members),
                 representatives=representatives, source=source)


def _label(words: Sequence[str], closest: str) -> str:
    """A readable label: the top keywords, or the opening words of the closest answer."""
    picked: list[str] = []
    for word in sorted(words, key=lambda w: " " in w):  # single words read best in a label
        if any(word in other or other in word for other in picked):
            continue
        picked.append(word)
        if len(picked) == 3:
            break
    if picked:
        return ", ".join(picked).capitalize()
    return " ".join(closest.split()[:6])


def _normalise(matrix: Any) -> Any:
    import numpy as np

    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)


def _french_stop_words() -> set[str]:
    try:
        from spacy.lang.es.stop_words import STOP_WORDS as SPANISH
        from spacy.lang.fr.stop_words import STOP_WORDS as FRENCH
    except ImportError:
        return set()
    return set(FRENCH) | set(SPANISH)
