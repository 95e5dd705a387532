"""A fit seen through themes.yaml: curated themes found again, decisions applied, conflicts named.

:func:`curate` takes the themes one fit found for one item and the item's
entries of themes.yaml, and returns the themes to publish:

1. **Matching.** Each entry's centroid is the normalised mean of its anchors'
   embeddings; each fitted theme's, that of its representative answers
   (redacted, as anchors are). Entries and fitted themes are paired one to
   one by the Hungarian algorithm on cosine similarity; a pair counts only
   at :data:`MATCH_THRESHOLD` (0.75) or above. Measured on the synthetic
   consultation (four practice items, 40-50 answers re-fitted with 10-50
   more): the same theme re-found scored 0.86-1.00 (a few 0.7 when many
   answers were added), two different themes of one fit at most 0.69.
2. **Splits.** An entry with ``split_from`` takes from its parent's answers
   those containing one of its ``words``, then those nearer to the centroid
   of its ``seeds`` than to the parent's anchors.
3. **Merges.** Entries listed in another's ``merge`` give it their answers;
   the surviving entry's label and decisions apply.
4. **Exclusions.** Excluded themes leave the answers' themes and the results.
5. Fitted themes matching no entry become new entries, ``status: proposed``,
   with fresh ids: the caller appends them to themes.yaml.

Nothing an author wrote is dropped: an entry not found in this fit stays in
themes.yaml and is reported (a warning when it carries decisions), so that a
later fit can find it again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from consult.analysis.text.curation import Curation, ThemeEntry
from consult.analysis.text.embed import Embedder
from consult.analysis.text.redact import redact, redacted_words
from consult.analysis.text.themes import DOMAIN_STOP_WORDS, ThemeFit, keywords
from consult.errors import Issue

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Matrix = npt.NDArray[np.float32]

MATCH_THRESHOLD = 0.75
MAX_ANCHORS = 5


@dataclass(frozen=True)
class Pinned:
    """The quote an author pinned, found in one of the theme's answers."""

    unit: int
    text: str
    """The pinned words, redacted."""


@dataclass(frozen=True)
class CuratedTheme:
    """One published theme of one item after the authors' decisions."""

    id: str
    label: str
    keywords: tuple[str, ...]
    members: tuple[int, ...]
    """Indices of the units holding the theme."""
    representatives: tuple[int, ...]
    """Member indices closest to the theme's centre first (up to five)."""
    source: Literal["discovered", "codebook"]
    curated: bool
    best_practice: bool
    pinned: Pinned | None = None
    fitted: tuple[str, ...] = ()
    """Ids of the fitted themes it is made of."""
    similarity: float | None = None
    """Cosine similarity of its entry's anchors to the fitted theme (``None``: new)."""


@dataclass(frozen=True)
class CuratedFit:
    """What :func:`curate` made of one fit."""

    item_id: str
    themes: tuple[CuratedTheme, ...]
    assignments: tuple[tuple[tuple[str, float], ...], ...]
    """Per unit, its published themes best first with the fitted score."""
    excluded: tuple[str, ...] = ()
    proposals: tuple[ThemeEntry, ...] = ()
    notes: dict[str, str] = field(default_factory=dict)
    """Entry id → a one-line summary written above a new proposal."""
    issues: tuple[Issue, ...] = ()
    settings: dict[str, Any] = field(default_factory=dict)


def curate(item_id: str, fit: ThemeFit, texts: Sequence[str], curation: Curation,
           embedder: Embedder, *, threshold: float = MATCH_THRESHOLD,
           taken_ids: set[str] | None = None) -> CuratedFit:
    """Apply the item's entries of themes.yaml to ``fit`` (``texts``: the fitted units).

    ``taken_ids`` are ids already handed out in this run (proposals of other
    items), so that new ids stay unique across the file.
    """
    import numpy as np

    entries = curation.of_item(item_id)
    file = str(curation.path.name)
    issues: list[Issue] = []
    fitted = list(fit.themes)
    sensitive = redacted_words(texts)
    representatives = [[redact(texts[i]) for i in t.representatives[:MAX_ANCHORS]]
                       for t in fitted]
    matchable = [e for e in entries if e.split_from is None and e.anchors]
    children = [e for e in entries if e.split_from is not None]
    vectors = _embed_all(embedder, [texts, *representatives, *(e.anchors for e in matchable),
                                    *(e.seeds for e in children)])
    units = np.vstack([vectors[t] for t in texts]) if texts else np.zeros((0, 0))
    fitted_centres = [_centre(vectors, r) for r in representatives]
    entry_centres = {e.id: _centre(vectors, e.anchors) for e in matchable}

    # 1. One-to-one matching of entries to fitted themes.
    owner: dict[str, str] = {}  # fitted theme id -> entry id
    similarity: dict[str, float] = {}  # entry id -> similarity of its match
    if matchable and fitted:
        from scipy.optimize import linear_sum_assignment  # type: ignore[import-untyped]

        sims = np.vstack([entry_centres[e.id] for e in matchable]) @ np.vstack(fitted_centres).T
        # A codebook's code is that code whatever its answers resemble: it keeps its entry (the
        # entry of its id) and never takes over another one, such as a theme an earlier
        # discovery fit proposed.
        for c, theme in enumerate(fitted):
            if theme.source == "codebook":
                sims[:, c] = [1.0 if e.id == theme.id else 0.0 for e in matchable]
        rows, cols = linear_sum_assignment(np.where(sims >= threshold, sims, 0.0), maximize=True)
        for r, c in zip(rows, cols, strict=True):
            if sims[r, c] >= threshold:
                owner[fitted[c].id] = matchable[r].id
                similarity[matchable[r].id] = round(float(sims[r, c]), 4)
        issues += _contested(matchable, fitted, sims, owner, threshold, file)

    # 5 (ids first): fitted themes no entry matched become proposals.
    taken = set(taken_ids or ()) | {e.id for e in curation.entries}
    proposals: list[ThemeEntry] = []
    notes: dict[str, str] = {}
    for k, theme in enumerate(fitted):
        if theme.id in owner:
            continue
        new_id = (theme.id if theme.source == "codebook" and theme.id not in taken
                  else curation.next_id(item_id, taken))
        taken.add(new_id)
        owner[theme.id] = new_id
        label = _safe_label(theme.label, theme.keywords, sensitive)
        proposals.append(ThemeEntry(id=new_id, item=item_id, label=label,
                                    anchors=tuple(dict.fromkeys(representatives[k]))))
        people = len(theme.members)
        words = ", ".join(w for w in theme.keywords if not _touches(w, sensitive))
        notes[new_id] = f"{people} answer{'s' if people != 1 else ''}; keywords: {words or '-'}"

    # Each unit's themes under entry ids, best first, with the fitted theme they came from.
    assignments = [[(owner[t], s, t) for t, s in assigned] for assigned in fit.assignments]

    # 2. Splits: answers move from the parent to a child by words, then by seeds.
    for parent_id in dict.fromkeys(str(c.split_from) for c in children):
        kids = [c for c in children if c.split_from == parent_id]
        for u, assigned in enumerate(assignments):
            if any(t == parent_id for t, _, _ in assigned):
                target = _split_target(texts[u], units[u], kids, entry_centres.get(parent_id),
                                       vectors)
                if target is not None:
                    assigned[:] = [(target if t == parent_id else t, s, f)
                                   for t, s, f in assigned]
    present = {t for assigned in assignments for t, _, _ in assigned}

    # 3. Merges: every id to the root of its merge chain; a unit holds a theme once.
    absorbed = {other: e.id for e in entries for other in e.merge}
    by_id = {e.id: e for e in entries}
    for entry in entries:
        if entry.id in absorbed and (entry.exclude or entry.best_practice or entry.pin):
            issues.append(Issue(code="curation-merged-decision", severity="warning", file=file,
                                line=entry.line, where=entry.id, message=(
                                    f"{entry.id} is merged into {_root(entry.id, absorbed)}: "
                                    "its own exclude, best_practice and pin do not apply"),
                                hint="Put the decision on the theme it is merged into."))
    for assigned in assignments:
        kept: dict[str, tuple[str, float, str]] = {}
        for t, s, f in assigned:
            kept.setdefault(_root(t, absorbed), (_root(t, absorbed), s, f))
        assigned[:] = list(kept.values())

    # 4. Exclusions, after keywords: an excluded theme stays a class of the c-TF-IDF so
    # that excluding one theme does not change the keywords of the others.
    classes = list(dict.fromkeys(t for assigned in assignments for t, _, _ in assigned))
    excluded = {t for t in classes if t in by_id and by_id[t].exclude}
    members = {t: tuple(u for u, a in enumerate(assignments) if any(x == t for x, _, _ in a))
               for t in classes}
    parts = {t: list(dict.fromkeys(f for a in assignments for x, _, f in a if x == t))
             for t in classes}
    found_words = keywords([" ".join(texts[u] for u in members[t]) for t in classes],
                           stop_words=fit.settings.get("stop_words", DOMAIN_STOP_WORDS))
    published_words = {t: tuple(w for w in found if not _touches(w, sensitive))
                       for t, found in zip(classes, found_words, strict=True)}
    final_assignments = tuple(tuple((t, s) for t, s, _ in a if t not in excluded)
                              for a in assignments)
    proposed = {p.id: p for p in proposals}
    themes = []
    for theme_id in classes:
        if theme_id in excluded:
            continue
        chosen = by_id.get(theme_id)
        made_of = [fit.theme(f) for f in parts[theme_id]]
        same = [t for t in made_of if t.members == members[theme_id]]
        reps = same[0].representatives if same else _closest(units, members[theme_id])
        label = (chosen.label if chosen is not None and chosen.label
                 else proposed[theme_id].label if theme_id in proposed
                 else _safe_label("", published_words[theme_id], sensitive))
        pinned = None
        if chosen is not None and chosen.pin is not None:
            pinned, problem = _find_pin(chosen, texts, members[theme_id], file)
            if problem is not None:
                issues.append(problem)
        themes.append(CuratedTheme(
            id=theme_id, label=label, keywords=published_words[theme_id],
            members=members[theme_id], representatives=tuple(reps),
            source="codebook" if any(t.source == "codebook" for t in made_of) else "discovered",
            curated=chosen is not None and chosen.decided,
            best_practice=chosen is not None and chosen.best_practice, pinned=pinned,
            fitted=tuple(parts[theme_id]), similarity=similarity.get(theme_id)))

    issues += _missing(entries, present | set(classes), issues, file)
    return CuratedFit(item_id=item_id, themes=tuple(themes), assignments=final_assignments,
                      excluded=tuple(sorted(excluded)), proposals=tuple(proposals), notes=notes,
                      issues=tuple(issues), settings={"match_threshold": threshold})


# --------------------------------------------------------------------------- helpers


def _embed_all(embedder: Embedder, groups: Sequence[Sequence[str]]) -> dict[str, Any]:
    """Every distinct text of ``groups`` embedded in one call: text → normalised vector."""
    distinct = list(dict.fromkeys(t for group in groups for t in group))
    if not distinct:
        return {}
    return dict(zip(distinct, embedder.embed(distinct), strict=True))


def _centre(vectors: dict[str, Any], texts: Sequence[str]) -> Any:
    import numpy as np

    mean = np.vstack([vectors[t] for t in texts]).mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return mean / norm if norm else mean


def _closest(units: Any, members: Sequence[int]) -> list[int]:
    """Up to five members, closest to their normalised mean first."""
    import numpy as np

    if not members:
        return []
    chosen = units[list(members)]
    centre = chosen.mean(axis=0)
    order = np.argsort(-(chosen @ centre), kind="stable")
    return [members[k] for k in order[:5]]


def _root(theme_id: str, absorbed: dict[str, str]) -> str:
    seen = {theme_id}
    while theme_id in absorbed and absorbed[theme_id] not in seen:
        theme_id = absorbed[theme_id]
        seen.add(theme_id)
    return theme_id


def _split_target(text: str, vector: Any, kids: Sequence[ThemeEntry], parent_centre: Any,
                  vectors: dict[str, Any]) -> str | None:
    """The child theme an answer of the parent moves to, or ``None`` to stay."""
    for kid in kids:
        if any(re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text, re.IGNORECASE)
               for w in kid.words):
            return kid.id
    stay = float(vector @ parent_centre) if parent_centre is not None else -1.0
    best, target = stay, None
    for kid in kids:
        if kid.seeds:
            score = float(vector @ _centre(vectors, kid.seeds))
            if score > best:
                best, target = score, kid.id
    return target


def _find_pin(entry: ThemeEntry, texts: Sequence[str], members: Sequence[int],
              file: str) -> tuple[Pinned | None, Issue | None]:
    """The member whose redacted answer holds the pinned words, or the problem."""
    pin = _plain(str(entry.pin))
    holders = [u for u in range(len(texts)) if pin and pin in _plain(redact(texts[u]))]
    inside = [u for u in holders if u in members]
    if inside:
        return Pinned(unit=inside[0], text=redact(str(entry.pin)).strip().strip("\"“”")), None
    message = (f"the quote pinned to {entry.id} is in an answer outside this theme"
               if holders else f"the quote pinned to {entry.id} is no longer among the answers")
    return None, Issue(code="curation-pin", severity="warning", file=file, line=entry.line,
                       where=entry.id, message=message,
                       hint="Pin another quote (consult themes show lists them) or remove pin.")


def _plain(text: str) -> str:
    """Lower case, one space between words, no quotation marks or ellipses at the ends."""
    text = re.sub(r"\s+", " ", text.casefold()).strip()
    return text.strip(" \"'“”‘’«».…")


def _contested(matchable: Sequence[ThemeEntry], fitted: Sequence[Any], sims: Any,
               owner: dict[str, str], threshold: float, file: str) -> list[Issue]:
    """Entries left out because another entry took the fitted theme both resemble."""
    issues = []
    matched = set(owner.values())
    for r, entry in enumerate(matchable):
        if entry.id in matched:
            continue
        c = int(sims[r].argmax())
        winner = owner.get(fitted[c].id)
        if sims[r, c] >= threshold and winner is not None:
            w = next(k for k, e in enumerate(matchable) if e.id == winner)
            issues.append(Issue(
                code="curation-contested", severity="warning" if entry.decided else "info",
                file=file, line=entry.line, where=entry.id, message=(
                    f"{entry.id} and {winner} both match one theme of this fit "
                    f"(similarity {sims[r, c]:.2f} and {sims[w, c]:.2f}): {winner} keeps it, "
                    f"{entry.id} is not found"),
                hint=f"Merge them (merge: [{entry.id}] on {winner}) or split the theme "
                     "again (split_from with seeds or words)."))
    return issues


def _missing(entries: Sequence[ThemeEntry], found: set[str], earlier: Sequence[Issue],
             file: str) -> list[Issue]:
    """Entries this fit did not find (contested ones are already reported)."""
    reported = {i.where for i in earlier if i.code == "curation-contested"}
    issues = []
    for entry in entries:
        if entry.id in found or entry.id in reported:
            continue
        if entry.split_from is not None and entry.split_from in found:
            what = f"no answer of {entry.split_from} moved to {entry.id}"
        else:
            what = f"{entry.id} ({entry.label or 'no label'}) was not found in this fit"
        issues.append(Issue(
            code="curation-not-found", severity="warning" if entry.decided else "info",
            file=file, line=entry.line, where=entry.id,
            message=what + ("; its decisions stay in themes.yaml for a later fit"
                            if entry.decided else
                            "; a proposal only: delete it if it is no longer useful")))
    return issues


def _touches(keyword: str, sensitive: frozenset[str]) -> bool:
    return any(part in sensitive for part in re.findall(r"[^\W_]+", keyword.lower()))


def _safe_label(label: str, words: Sequence[str], sensitive: frozenset[str]) -> str:
    """``label`` unless it shows something redaction hides; else one made of safe keywords."""
    if label and not _touches(label, sensitive):
        return redact(label)
    safe = [w for w in words if not _touches(w, sensitive)]
    picked: list[str] = []
    for word in sorted(safe, key=lambda w: " " in w):
        if not any(word in other or other in word for other in picked):
            picked.append(word)
        if len(picked) == 3:
            break
    return ", ".join(picked).capitalize() if picked else "Unlabelled theme"
