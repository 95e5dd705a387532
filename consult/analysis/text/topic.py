"""Theme discovery with BERTopic, its components chosen for short consultation answers.

BERTopic is a pipeline — embed, reduce, cluster, represent — whose stages are
constructor arguments. Measured on the benchmarks (docs/themes.md, "How themes
are found"), its defaults (UMAP + HDBSCAN) put every answer of a 26-answer
question in the outlier topic and score F1 0.14, and UMAP + HDBSCAN stayed far
behind at 10,000 answers as well. So, at every size:

- **embed**: the vectors are given (:mod:`consult.analysis.text.embed`, cached);
- **reduce**: none (``BaseDimensionalityReduction``): the 384 dimensions are
  clustered as they are, with no random projection to seed;
- **cluster**: :class:`ThresholdClustering`, average-linkage agglomerative
  clustering of the distinct units by cosine distance, cut at a distance
  threshold. Up to :data:`EXACT_LIMIT` distinct units it is exact; beyond, a
  seeded sample of that many is linked and the other units join the nearest
  cluster, which keeps time and memory bounded.
  Clusters held by fewer than ``min_support`` answers are outliers (-1);
- **outliers**: BERTopic's ``reduce_outliers(strategy="embeddings")`` gives
  each outlier unit the nearest topic; the count is reported;
- **represent**: BERTopic's c-TF-IDF over lemmatised, stop-word-filtered units
  (:func:`consult.analysis.text.preprocess.content_lemmas`), words and bigrams.

Everything here is deterministic for a given ``seed``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from consult.errors import ConsultError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

# Distinct units clustered exactly: the distance matrix of 6,000 units takes about 0.3 GB
# and average linkage about a second; beyond, a seeded sample of this size is linked and
# the other units join the nearest of its clusters.
EXACT_LIMIT = 6_000
# Stand-ins for units without a content word ("???"), and padding for a vocabulary of one
# word, on which BERTopic 0.17.4's c-TF-IDF fails: never keywords.
EMPTY = "emptydoc"
PADDING = "emptypadding"
TOP_WORDS = 10


@dataclass(frozen=True)
class Discovery:
    """Topics found among units: one topic per unit, keywords per topic."""

    topics: tuple[int, ...]
    """Per unit, its topic 0, 1 ... (0 holds the most units)."""
    outliers: tuple[int, ...]
    """Units whose own cluster was too small: they were given the nearest topic."""
    keywords: tuple[tuple[str, ...], ...]
    """Per topic, its c-TF-IDF words and bigrams, best first."""
    components: dict[str, Any] = field(default_factory=dict)
    """What BERTopic was given, for the record (results.json settings)."""


def discover(documents: Sequence[str], vectors: npt.NDArray[np.float32], groups: Sequence[int], *,
             threshold: float, min_support: int = 1, seed: int = 0) -> Discovery:
    """Fit BERTopic on units (``documents`` are their lemmas, ``vectors`` their embeddings).

    ``groups`` names the answer each unit comes from: a cluster needs units
    from at least ``min_support`` answers to be a topic.

    Raises
    ------
    ConsultError
        When BERTopic (or scikit-learn) is not installed.
    """
    import numpy as np

    if len(documents) != len(vectors) or len(documents) != len(groups):
        raise ValueError("documents, vectors and groups must have one row per unit")
    if not len(documents):
        return Discovery(topics=(), outliers=(), keywords=())
    try:
        from bertopic import BERTopic  # type: ignore[import-untyped]
        from bertopic.dimensionality import (  # type: ignore[import-untyped]
            BaseDimensionalityReduction,
        )
        from bertopic.vectorizers import ClassTfidfTransformer  # type: ignore[import-untyped]
        from sklearn.feature_extraction.text import CountVectorizer  # type: ignore[import-untyped]
    except ImportError:
        raise ConsultError("themes need BERTopic: pip install 'consult[text]' "
                           "(or pip install bertopic)") from None
    from consult.analysis.text.preprocess import GAP, ngrams

    # A gap closes each unit: BERTopic joins a topic's units, and no bigram may span two.
    # Units without a content word ("???") still need a vocabulary to represent them.
    docs = [f"{d} {GAP}" if d.replace(GAP, "").strip() else f"{EMPTY} {GAP}" for d in documents]
    if len({w for d in docs for w in ngrams(d)}) < 2:
        docs = [f"{d} {PADDING} {GAP}" for d in docs]
    clusterer = ThresholdClustering(threshold=threshold, min_support=min_support,
                                    groups=groups, seed=seed)
    vectorizer = CountVectorizer(analyzer=ngrams)
    model = BERTopic(umap_model=BaseDimensionalityReduction(), hdbscan_model=clusterer,
                     vectorizer_model=vectorizer, ctfidf_model=ClassTfidfTransformer(),
                     top_n_words=TOP_WORDS, calculate_probabilities=False, verbose=False,
                     # Not "english": that makes BERTopic strip every non-ASCII letter.
                     language="multilingual")
    embeddings = np.asarray(vectors, dtype=np.float32)
    with _quiet():
        found, _ = model.fit_transform(docs, embeddings=embeddings)
        topics = [int(t) for t in found]
        outliers = tuple(i for i, t in enumerate(topics) if t == -1)
        if outliers:
            topics = [int(t) for t in model.reduce_outliers(docs, topics, strategy="embeddings",
                                                            embeddings=embeddings)]
            # BERTopic leaves a unit an outlier when it is dissimilar (cosine < 0) to every
            # topic: give it the nearest topic's centre all the same.
            topics = _nearest_for_outliers(topics, embeddings)
            model.update_topics(docs, topics=topics, vectorizer_model=vectorizer,
                                ctfidf_model=ClassTfidfTransformer(), top_n_words=TOP_WORDS)
    count = max(topics) + 1
    keywords = tuple(tuple(word for word, score in (model.get_topic(k) or [])
                           if word and score > 0 and not {EMPTY, PADDING} & set(word.split()))
                     for k in range(count))
    components = {"reduction": "none", "clustering": clusterer.method_,
                  "linkage": "average", "metric": "cosine", "min_support": min_support,
                  "representation": "c-TF-IDF (lemmas, words and bigrams)"}
    return Discovery(topics=tuple(topics), outliers=outliers, keywords=keywords,
                     components=components)


class ThresholdClustering:
    """Average-linkage clustering by cosine distance, cut at ``threshold``; a BERTopic clusterer.

    Identical rows are clustered once. Up to ``exact_limit`` distinct rows the
    linkage is exact; beyond, a sample of ``exact_limit`` rows (drawn with
    ``seed``) is linked and every other row joins the cluster whose
    normalised centre is nearest.
    Clusters whose rows come from fewer than ``min_support`` distinct
    ``groups`` are labelled -1 (outliers), except that the best-supported
    cluster always stays. After :meth:`fit`, ``labels_`` holds one label per
    row and ``method_`` says which path was taken.
    """

    def __init__(self, threshold: float, min_support: int = 1, groups: Sequence[int] | None = None,
                 seed: int = 0, exact_limit: int = EXACT_LIMIT) -> None:
        self.threshold = threshold
        self.min_support = min_support
        self.groups = groups
        self.seed = seed
        self.exact_limit = exact_limit
        self.labels_: Any = None
        self.method_ = ""
        self._centres: Any = None

    def fit(self, X: Any, y: Any = None) -> ThresholdClustering:
        """Cluster the rows of ``X`` (unit vectors); ``y`` is ignored."""
        import numpy as np

        rows = _normalise(np.asarray(X, dtype=np.float32))
        unique, inverse = np.unique(rows, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        if len(unique) <= self.exact_limit:
            labels = _linked(unique, self.threshold)
            self.method_ = "agglomerative (exact)"
        else:
            # Link a seeded sample exactly; every other row joins the nearest sampled cluster.
            sample = np.sort(np.random.default_rng(self.seed).choice(
                len(unique), size=self.exact_limit, replace=False))
            linked = _linked(unique[sample], self.threshold)
            centres = _centres(unique[sample], linked)
            labels = np.empty(len(unique), dtype=int)
            for start in range(0, len(unique), 4096):
                block = unique[start:start + 4096]
                labels[start:start + 4096] = np.argmax(block @ centres.T, axis=1)
            labels[sample] = linked
            self.method_ = (f"agglomerative (exact on a sample of {self.exact_limit:,} distinct "
                            "units, the others joined to the nearest cluster)")
        labels = labels[inverse]
        self.labels_ = self._drop_small(labels)
        kept = self.labels_ >= 0
        self._centres = _centres(rows[kept], self.labels_[kept]) if kept.any() else None
        return self

    def predict(self, X: Any) -> Any:
        """The nearest fitted cluster of each row (by its centre)."""
        import numpy as np

        if self._centres is None:
            raise ValueError("call fit first")
        return np.argmax(_normalise(np.asarray(X, dtype=np.float32)) @ self._centres.T, axis=1)

    def _drop_small(self, labels: Any) -> Any:
        import numpy as np

        groups = np.asarray(self.groups if self.groups is not None else range(len(labels)))
        if len(groups) != len(labels):
            raise ValueError("groups must have one entry per row")
        # Support: distinct groups (answers) per cluster.
        pairs = np.unique(np.stack([labels, groups], axis=1), axis=0)
        support = np.bincount(pairs[:, 0], minlength=int(labels.max()) + 1)
        keep = support >= self.min_support
        if not keep.any():
            keep[int(np.argmax(support))] = True  # the best-supported cluster always stays
        # Renumber kept clusters 0.. in order of first appearance: stable, whatever fcluster did.
        first = {int(k): n for n, k in enumerate(dict.fromkeys(
            int(v) for v in labels if keep[int(v)]))}
        lookup = np.full(len(keep), -1)
        for k, n in first.items():
            lookup[k] = n
        return lookup[labels]


def _nearest_for_outliers(topics: list[int], vectors: Any) -> list[int]:
    """``topics`` with each -1 replaced by the topic whose centre is nearest."""
    import numpy as np

    labels = np.asarray(topics)
    if not (labels == -1).any() or not (labels >= 0).any():
        return topics
    kept = labels >= 0
    centres = _centres(_normalise(np.asarray(vectors, dtype=np.float32))[kept], labels[kept])
    nearest = np.argmax(_normalise(np.asarray(vectors, dtype=np.float32)) @ centres.T, axis=1)
    return [int(nearest[i]) if t == -1 else t for i, t in enumerate(topics)]


def _centres(rows: Any, labels: Any) -> Any:
    """Normalised mean of ``rows`` per label 0..max."""
    import numpy as np

    order = np.argsort(labels, kind="stable")
    starts = np.searchsorted(labels[order], np.arange(int(labels.max()) + 1))
    sums = np.add.reduceat(rows[order].astype(np.float64), starts, axis=0)
    return _normalise(sums.astype(np.float32))


def _linked(rows: Any, threshold: float) -> Any:
    """Flat clusters of normalised ``rows``: average linkage on cosine distance, cut at ``threshold``."""
    import numpy as np

    if len(rows) < 2:
        return np.zeros(len(rows), dtype=int)
    from scipy.cluster.hierarchy import fcluster, linkage  # type: ignore[import-untyped]
    from scipy.spatial.distance import squareform  # type: ignore[import-untyped]

    distances = 1.0 - rows @ rows.T
    np.clip(distances, 0.0, 2.0, out=distances)
    np.fill_diagonal(distances, 0.0)
    condensed = squareform(distances, checks=False).astype(np.float64)
    del distances
    tree = linkage(condensed, method="average")
    return np.asarray(fcluster(tree, t=threshold, criterion="distance")) - 1


def _normalise(matrix: Any) -> Any:
    import numpy as np

    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)


class _quiet:
    """BERTopic logs warnings (custom topic lists, outliers) meant for notebooks: keep them quiet."""

    def __enter__(self) -> None:
        self._logger = logging.getLogger("BERTopic")
        self._level = self._logger.level
        self._logger.setLevel(logging.ERROR)

    def __exit__(self, *args: object) -> None:
        self._logger.setLevel(self._level)
