"""Agreement of machine themes with a human coding: matched F1, Cohen's kappa, NMI and ARI.

Machine themes and human codes have different names, so they are first matched
one to one (Hungarian algorithm) to maximise the answers they share; each
answer's machine themes are then renamed to their matched codes and compared
with its human codes (per-answer multi-label F1, averaged over the answers the
human coded). Unmatched machine themes count as wrong wherever they are given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

NO_THEME = "(none)"


@dataclass(frozen=True)
class Match:
    """A machine theme matched to a human code, with Cohen's kappa over the answers."""

    theme: str
    code: str
    shared: int
    kappa: float | None
    """``None`` when either side is constant over the answers (kappa is undefined)."""


@dataclass(frozen=True)
class Agreement:
    """How far the machine agrees with the human coding."""

    n_answers: int
    f1: float
    matches: tuple[Match, ...]
    nmi: float
    ari: float
    n_themes: int
    n_codes: int


def agreement(machine: Mapping[str, Sequence[str]], gold: Mapping[str, Sequence[str]]) -> Agreement:
    """Compare ``machine`` themes with ``gold`` codes, both keyed by answer, best theme first.

    Only answers in ``gold`` count; an answer the machine left without a theme
    counts with no theme. Matching keeps only pairs sharing at least one answer.
    """
    import numpy as np
    from scipy.optimize import linear_sum_assignment  # type: ignore[import-untyped]
    from sklearn.metrics import (  # type: ignore[import-untyped]
        adjusted_rand_score,
        cohen_kappa_score,
        normalized_mutual_info_score,
    )

    keys = sorted(gold)
    predicted = {k: list(dict.fromkeys(machine.get(k, ()))) for k in keys}
    truth = {k: list(dict.fromkeys(gold[k])) for k in keys}
    themes = sorted({t for k in keys for t in predicted[k]})
    codes = sorted({c for k in keys for c in truth[k]})
    shared = np.zeros((len(themes), len(codes)), dtype=int)
    for k in keys:
        for t in predicted[k]:
            for c in truth[k]:
                shared[themes.index(t), codes.index(c)] += 1
    pairs: dict[str, str] = {}
    if themes and codes:
        rows, cols = linear_sum_assignment(-shared)
        pairs = {themes[r]: codes[c] for r, c in zip(rows, cols, strict=True) if shared[r, c] > 0}
    scores = []
    for k in keys:
        mine = {pairs.get(t, f"machine:{t}") for t in predicted[k]}
        theirs = set(truth[k])
        if not mine and not theirs:
            scores.append(1.0)
        else:
            scores.append(2 * len(mine & theirs) / (len(mine) + len(theirs)))
    matches = []
    for theme, code in sorted(pairs.items(), key=lambda tc: tc[1]):
        a = [int(theme in predicted[k]) for k in keys]
        b = [int(code in truth[k]) for k in keys]
        kappa: float | None = None
        if len(set(a)) > 1 and len(set(b)) > 1:
            kappa = round(float(cohen_kappa_score(a, b)), 6)
        matches.append(Match(theme=theme, code=code, shared=int(shared[themes.index(theme),
                                                                      codes.index(code)]),
                             kappa=kappa))
    best_machine = [predicted[k][0] if predicted[k] else NO_THEME for k in keys]
    best_gold = [truth[k][0] if truth[k] else NO_THEME for k in keys]
    return Agreement(
        n_answers=len(keys),
        f1=round(sum(scores) / len(scores), 6) if scores else 0.0,
        matches=tuple(matches),
        nmi=round(float(normalized_mutual_info_score(best_gold, best_machine)), 6) if keys else 0.0,
        ari=round(float(adjusted_rand_score(best_gold, best_machine)), 6) if keys else 0.0,
        n_themes=len(themes),
        n_codes=len(codes),
    )
