"""Themes against human (and reference) coding, and the speed of a fit.

Run from the repository root::

    python benchmarks/themes.py            # agreement table (about 5 minutes from cold)
    python benchmarks/themes.py speed      # 10,000 answers, cold and cached (about 5 minutes)
    python benchmarks/themes.py thresholds # how the default threshold was chosen (about 5 minutes)
    python benchmarks/themes.py assisted   # assisted coding against random picks (about 10 minutes)

``python benchmarks/run.py themes`` runs the first. The public benchmarks are
read from ``../shared/benchmarks`` (or ``$CONSULT_BENCHMARKS``); without them
the human-coded questions are skipped with a message and only the synthetic
consultation (the project's own generator, planted themes) is scored.

Per question, three methods side by side, each scored against the reference
codes with :func:`consult.analysis.text.agreement.agreement` (one-to-one
matching of themes to codes, per-answer multi-label F1; Cohen's kappa per
matched theme, averaged; NMI of the best theme against the first code):

- **discovery**: :func:`fit_themes` with its defaults;
- **codebook**: the reference codes' labels (and descriptions, where given)
  with up to five example answers per code, taken from the *other* half of the
  answers (two folds, seeded): every answer is coded by a codebook whose
  examples it is not among. ``id F1`` counts a code only when its name equals
  the reference code: the honest figure for a codebook;
- **BERTopic defaults**: ``BERTopic()`` on the same embeddings of whole
  answers (UMAP seeded), outlier topic -1 counted as a theme.

The public questions are the 14 human-coded proctoring questions (primary
coder, top-level codes) and the two gambling ones; means are printed over all
16 and over the nine scored before 2026-11-25 (:data:`ORIGINAL`), so that
history stays comparable. What was read from each file is printed first.

``assisted`` simulates a researcher with the primary coder's codes: a codebook
of labels (and descriptions, where given) without examples, then rounds of
:data:`BATCH` answers picked by :func:`consult.analysis.text.coding.pick_answers`
(least sure first) and coded with the reference codes, the prototypes learning
after each round, against the same number of answers picked at random (mean of
:data:`RANDOM_SEEDS`). F1 over all answers (the coded ones keep their codes,
as in real use) and over the answers left uncoded only.
"""

from __future__ import annotations

import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = Path(os.environ.get("CONSULT_BENCHMARKS", ROOT.parent / "shared" / "benchmarks"))
PROCTORING = ("Q5", "N3", "N4", "Q8", "Q11", "Q12", "Q14", "N2", "Q16", "Q18", "Q26", "Q28",
              "Q31", "Q32")
# The public questions scored before 2026-11-25: means over them stay comparable with history.
ORIGINAL = ("proctoring Q5", "proctoring N3", "proctoring N4", "proctoring Q8", "proctoring Q11",
            "proctoring Q12", "proctoring Q14", "gambling 1", "gambling 2")
BIG = ("proctoring Q5", "proctoring N3", "proctoring N4", "gambling 1", "gambling 2")
# Assisted coding: rounds of BATCH picks, scored after each budget of coded answers.
BATCH = 5
BUDGETS = (10, 20, 30)
RANDOM_SEEDS = (0, 1, 2)
PRACTICE_ITEMS = ("acc_practice", "rec_practice", "int_practice", "prog_practice",
                  "reint_practice", "train_practice", "best_practice")
# Outside the repository: a benchmark must not leave files in the working tree.
CACHE = Path(tempfile.gettempdir()) / "consult-benchmark-embeddings"
SEED = 0
EXAMPLES_PER_CODE = 5


@dataclass(frozen=True)
class Question:
    """One benchmark question: its answers and their reference codes."""

    name: str
    texts: list[str]
    gold: dict[str, list[str]]
    """Answer index (as text) → reference codes, the main one first."""
    codes: dict[str, tuple[str, str]]
    """Code → (label, description)."""


@dataclass(frozen=True)
class Score:
    """One method on one question."""

    themes: int
    f1: float
    kappa: float
    nmi: float
    identity: float | None = None


def themes_benchmark(argv: Sequence[str] = ()) -> None:
    """Print the agreement table (``speed`` in ``argv``: the speed benchmark instead)."""
    if "speed" in argv:
        speed_benchmark()
        return
    if "thresholds" in argv:
        threshold_sweep()
        return
    if "assisted" in argv:
        assisted_benchmark()
        return
    groups: list[tuple[str, list[Question]]] = []
    if BENCHMARKS.is_dir():
        print_public_questions()
        groups.append(("public benchmarks (human coding; gambling: reference themes)",
                       _public_questions()))
    else:
        print(f"skipped the public benchmarks: {BENCHMARKS} is absent "
              "(see ../shared/benchmarks/README.md)")
    groups.append(("synthetic consultation (planted themes), 81 respondents, seed 2014",
                   _synthetic_questions(81, 2014)))
    groups.append(("synthetic consultation (planted themes), 300 respondents, seed 5",
                   _synthetic_questions(300, 5)))
    from consult.analysis.text.embed import MiniLMEmbedder

    embedder = MiniLMEmbedder(cache_dir=CACHE)
    for title, questions in groups:
        print(f"\n### {title}\n")
        print("| question | n | codes | discovery themes | F1 | κ | NMI | codebook F1 | κ | NMI "
              "| id F1 | BERTopic defaults themes | F1 | κ | NMI |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        rows = []
        for question in questions:
            start = time.perf_counter()
            found = (_discovery(question, embedder), _codebook(question, embedder),
                     _bertopic_defaults(question, embedder))
            rows.append(found)
            disc, book, base = found
            print(f"| {question.name} | {len(question.texts)} | {len(question.codes)} "
                  f"| {disc.themes} | {disc.f1:.3f} | {disc.kappa:.3f} | {disc.nmi:.3f} "
                  f"| {book.f1:.3f} | {book.kappa:.3f} | {book.nmi:.3f} | {book.identity:.3f} "
                  f"| {base.themes} | {base.f1:.3f} | {base.kappa:.3f} | {base.nmi:.3f} |",
                  flush=True)
            print(f"<!-- {question.name}: {time.perf_counter() - start:.1f} s -->", file=sys.stderr)
        original = [r for q, r in zip(questions, rows, strict=True) if q.name in ORIGINAL]
        print(_mean_row(rows, f"mean ({len(rows)})"))
        if 0 < len(original) < len(rows):
            print(_mean_row(original, f"mean, original {len(original)}"))
        fine = [_discovery(q, embedder, threshold=0.55, units="answers", margin=0.1, min_share=0)
                for q in questions]
        zero = [_codebook(q, embedder, examples=0) for q in questions]
        print(f"\nAlso: discovery with the previous default (threshold 0.55, whole answers, "
              "margin 0.1, no minimum support) "
              f"F1 {_mean([s.f1 for s in fine])} with {_mean([s.themes for s in fine], 1)} themes; "
              f"codebook from labels alone (no examples) F1 {_mean([s.f1 for s in zero])} "
              f"(id F1 {_mean([s.identity or 0.0 for s in zero])}).")
        if 0 < len(original) < len(rows):
            picked = [k for k, q in enumerate(questions) if q.name in ORIGINAL]
            print(f"Over the original {len(picked)}: previous default F1 "
                  f"{_mean([fine[k].f1 for k in picked])}, labels alone F1 "
                  f"{_mean([zero[k].f1 for k in picked])} "
                  f"(id F1 {_mean([zero[k].identity or 0.0 for k in picked])}).")
    roundtable_benchmark(embedder)


def threshold_sweep(thresholds: Sequence[float] = (0.6, 0.65, 0.7, 0.75, 0.8)) -> None:
    """Discovery F1 by cut distance on both families, and on two halves of the questions.

    The default is the threshold with the best mean of the two families' F1 (public
    questions, synthetic items); half A is the odd-numbered public questions with the
    81-respondent consultation, half B the others with the 300-respondent one.
    """
    from consult.analysis.text.embed import MiniLMEmbedder

    embedder = MiniLMEmbedder(cache_dir=CACHE)
    # The nine questions the default was chosen on (docs/themes.md): the sweep reproduces it.
    public = ([q for q in _public_questions() if q.name in ORIGINAL] if BENCHMARKS.is_dir()
              else [])
    small, large = _synthetic_questions(81, 2014), _synthetic_questions(300, 5)
    print("| threshold | public F1 | synthetic 81 F1 | synthetic 300 F1 | synthetic themes "
          "| both families | half A | half B |\n|---|---|---|---|---|---|---|---|")
    for threshold in thresholds:
        scores = {name: [_discovery(q, embedder, threshold=threshold) for q in questions]
                  for name, questions in (("public", public), ("small", small), ("large", large))}
        f1 = {name: [s.f1 for s in found] for name, found in scores.items()}
        synthetic = f1["small"] + f1["large"]
        both = (_avg(f1["public"]) + _avg(synthetic)) / 2 if public else _avg(synthetic)
        half_a = (_avg(f1["public"][1::2]) + _avg(f1["small"])) / 2 if public else _avg(f1["small"])
        half_b = (_avg(f1["public"][0::2]) + _avg(f1["large"])) / 2 if public else _avg(f1["large"])
        themes = [s.themes for s in scores["small"] + scores["large"]]
        print(f"| {threshold} | {_mean(f1['public'])} | {_mean(f1['small'])} | {_mean(f1['large'])} "
              f"| {min(themes)}–{max(themes)} | {both:.3f} | {half_a:.3f} | {half_b:.3f} |",
              flush=True)


def _avg(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


@dataclass(frozen=True)
class Assisted:
    """One coding budget on one question: F1 over all answers and over the uncoded ones."""

    coded: int
    f1: float
    identity: float
    uncoded_f1: float | None
    uncoded_identity: float | None


def assisted_benchmark(batch: int = BATCH, budgets: Sequence[int] = BUDGETS) -> None:
    """Assisted coding on the public questions: the tool's picks against random picks.

    Per question and budget: the codebook is the reference codes' labels (and
    descriptions), no examples; the simulated researcher codes each picked
    answer with the primary coder's codes. The fit is the one ``consult themes
    fit --codebook`` makes with coding sheets: prototypes learn from the coded
    answers, which keep their codes. F1 is matched per-answer F1 (as the other
    tables); id F1 counts a code only under its own name.
    """
    from consult.analysis.text.embed import MiniLMEmbedder

    if not BENCHMARKS.is_dir():
        print(f"skipped: {BENCHMARKS} is absent (see ../shared/benchmarks/README.md)")
        return
    embedder = MiniLMEmbedder(cache_dir=CACHE)
    questions = _public_questions()
    header = " | ".join(f"{b}: coded | F1 all | F1 uncoded | random F1 all | random F1 uncoded"
                        for b in budgets)
    print(f"| question | n | codes | labels only F1 (id) | {header} |")
    print("|---|---|---|---|" + "---|" * (5 * len(budgets)))
    table: list[tuple[Question, Assisted, dict[int, Assisted], dict[int, Assisted]]] = []
    for question in questions:
        start = time.perf_counter()
        zero = _assisted(question, embedder, {})
        active = {}
        coded: dict[int, list[str]] = {}
        for budget in budgets:
            while len(coded) < min(budget, len(question.texts)):
                picks = _pick(question, embedder, coded, min(batch, budget - len(coded)))
                coded |= {i: question.gold[str(i)] for i in picks}
            active[budget] = _assisted(question, embedder, coded)
        randomly = {b: _average([_assisted(question, embedder, _random_coded(question, b, seed))
                                 for seed in RANDOM_SEEDS]) for b in budgets}
        table.append((question, zero, active, randomly))
        cells = " | ".join(f"{active[b].coded} | {active[b].f1:.3f} | {_opt(active[b].uncoded_f1)} "
                           f"| {randomly[b].f1:.3f} | {_opt(randomly[b].uncoded_f1)}"
                           for b in budgets)
        print(f"| {question.name} | {len(question.texts)} | {len(question.codes)} "
              f"| {zero.f1:.3f} ({zero.identity:.3f}) | {cells} |", flush=True)
        print(f"<!-- {question.name}: {time.perf_counter() - start:.1f} s -->", file=sys.stderr)
    for title, names in ((f"mean ({len(table)})", None), ("mean, original 9", ORIGINAL),
                         ("mean, big 5", BIG)):
        rows = [r for r in table if names is None or r[0].name in names]
        if not rows:
            continue
        cells = []
        for b in budgets:
            act, rnd = [r[2][b] for r in rows], [r[3][b] for r in rows]
            cells.append(f"{_avg([a.coded for a in act]):.1f} | **{_avg([a.f1 for a in act]):.3f}** "
                         f"| {_mean_of(a.uncoded_f1 for a in act)} | {_avg([a.f1 for a in rnd]):.3f} "
                         f"| {_mean_of(a.uncoded_f1 for a in rnd)}")
        print(f"| **{title}** | | | {_avg([r[1].f1 for r in rows]):.3f} "
              f"({_avg([r[1].identity for r in rows]):.3f}) | {' | '.join(cells)} |")
    print("\nid F1 (a code counts only under its own name), same layout: all answers / uncoded")
    for title, names in ((f"mean ({len(table)})", None), ("mean, original 9", ORIGINAL),
                         ("mean, big 5", BIG)):
        rows = [r for r in table if names is None or r[0].name in names]
        parts = []
        for b in budgets:
            act, rnd = [r[2][b] for r in rows], [r[3][b] for r in rows]
            parts.append(f"{b}: tool {_avg([a.identity for a in act]):.3f} / "
                         f"{_mean_of(a.uncoded_identity for a in act)}, random "
                         f"{_avg([a.identity for a in rnd]):.3f} / "
                         f"{_mean_of(a.uncoded_identity for a in rnd)}")
        print(f"- {title}: " + "; ".join(parts))
    print("\nUncoded means are over the questions with answers left uncoded at that budget "
          "(a 26-answer question has 6 left at 20 and none at 30).")


def _pick(question: Question, embedder: Any, coded: dict[int, list[str]], count: int) -> list[int]:
    from consult.analysis.text.coding import add_examples, pick_answers

    codebook = add_examples(_label_codebook(question), coded, question.texts)
    return [p.answer for p in pick_answers(question.texts, embedder, codebook, count=count,
                                           skip=set(coded))]


def _assisted(question: Question, embedder: Any, coded: dict[int, list[str]]) -> Assisted:
    """The fit ``consult themes fit --codebook`` makes with ``coded`` answers on sheets."""
    from consult.analysis.text.agreement import agreement
    from consult.analysis.text.coding import add_examples, apply_human_codes
    from consult.analysis.text.themes import fit_themes

    codebook = add_examples(_label_codebook(question), coded, question.texts)
    fit = fit_themes(question.texts, embedder, codebook=codebook, seed=SEED)
    fit = apply_human_codes(fit, question.texts, coded, codebook, embedder)
    machine = {str(i): [t for t, _ in a] for i, a in enumerate(fit.assignments)}
    left = {k: v for k, v in question.gold.items() if int(k) not in coded}

    def identity(keys: Sequence[str]) -> float:
        return _avg([_f1(set(machine[k]), set(question.gold[k])) for k in keys])

    return Assisted(coded=len(coded), f1=agreement(machine, question.gold).f1,
                    identity=identity(list(question.gold)),
                    uncoded_f1=agreement(machine, left).f1 if left else None,
                    uncoded_identity=identity(list(left)) if left else None)


def _label_codebook(question: Question) -> list[Any]:
    from consult.analysis.text.themes import Code

    return [Code(code, label, description) for code, (label, description)
            in question.codes.items()]


def _random_coded(question: Question, budget: int, seed: int) -> dict[int, list[str]]:
    order = list(range(len(question.texts)))
    random.Random(seed).shuffle(order)
    return {i: question.gold[str(i)] for i in order[:budget]}


def _average(runs: Sequence[Assisted]) -> Assisted:
    left = [r for r in runs if r.uncoded_f1 is not None]
    return Assisted(coded=runs[0].coded, f1=_avg([r.f1 for r in runs]),
                    identity=_avg([r.identity for r in runs]),
                    uncoded_f1=_avg([r.uncoded_f1 or 0.0 for r in left]) if left else None,
                    uncoded_identity=_avg([r.uncoded_identity or 0.0 for r in left])
                    if left else None)


def _opt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _mean_of(values: Any) -> str:
    found = [v for v in values if v is not None]
    return f"{_avg(found):.3f}" if found else "–"


def roundtable_benchmark(embedder: Any) -> None:
    """The shipped roundtable codebook on the synthetic consultation (81 respondents)."""
    from consult.analysis.text.themes import fit_themes, load_codebook
    from consult.resources import shipped_codebooks

    codebook = load_codebook(shipped_codebooks()["r361-roundtable"])
    print("\n### codebooks/r361-roundtable.yaml on the synthetic consultation (81 respondents, "
          "seed 2014)\n")
    print("| item | n | planted | codes used | new themes | F1 | κ | NMI |")
    print("|---|---|---|---|---|---|---|---|")
    for question in _synthetic_questions(81, 2014):
        fit = fit_themes(question.texts, embedder, codebook=codebook, seed=SEED)
        score = _score({str(i): [t for t, _ in a] for i, a in enumerate(fit.assignments)},
                       question.gold)
        used = sum(t.source == "codebook" for t in fit.themes)
        print(f"| {question.name} | {len(question.texts)} | {len(question.codes)} | {used} "
              f"| {len(fit.themes) - used} | {score.f1:.3f} | {score.kappa:.3f} | {score.nmi:.3f} |")


def _mean(values: Sequence[float], digits: int = 3) -> str:
    return f"{sum(values) / len(values):.{digits}f}" if values else "-"


def _mean_row(rows: list[tuple[Score, Score, Score]], title: str = "mean") -> str:
    def mean(pick: Callable[[tuple[Score, Score, Score]], float]) -> str:
        return f"{sum(pick(r) for r in rows) / len(rows):.3f}"

    return (f"| **{title}** | | | {mean(lambda r: r[0].themes)} | **{mean(lambda r: r[0].f1)}** "
            f"| {mean(lambda r: r[0].kappa)} | {mean(lambda r: r[0].nmi)} "
            f"| **{mean(lambda r: r[1].f1)}** | {mean(lambda r: r[1].kappa)} "
            f"| {mean(lambda r: r[1].nmi)} | {mean(lambda r: r[1].identity or 0.0)} "
            f"| {mean(lambda r: r[2].themes)} | {mean(lambda r: r[2].f1)} "
            f"| {mean(lambda r: r[2].kappa)} | {mean(lambda r: r[2].nmi)} |")


# --------------------------------------------------------------------------- methods


def _discovery(question: Question, embedder: Any, **options: Any) -> Score:
    from consult.analysis.text.themes import fit_themes

    fit = fit_themes(question.texts, embedder, seed=SEED, **options)
    return _score({str(i): [t for t, _ in a] for i, a in enumerate(fit.assignments)},
                  question.gold)


def _codebook(question: Question, embedder: Any, examples: int = EXAMPLES_PER_CODE) -> Score:
    """Two folds: each half coded with examples drawn from the other half."""
    from consult.analysis.text.themes import Code, fit_themes

    order = list(range(len(question.texts)))
    random.Random(SEED).shuffle(order)
    folds = [sorted(order[0::2]), sorted(order[1::2])]
    machine: dict[str, list[str]] = {}
    for fold, other in ((folds[0], folds[1]), (folds[1], folds[0])):
        shuffled = [i for i in order if i in set(other)]
        codebook = [Code(code, label, description, tuple(
            question.texts[i] for i in [i for i in shuffled if code in question.gold[str(i)]]
            [:examples])) for code, (label, description) in question.codes.items()]
        fit = fit_themes([question.texts[i] for i in fold], embedder, codebook=codebook,
                         seed=SEED)
        for i, assigned in zip(fold, fit.assignments, strict=True):
            machine[str(i)] = [t for t, _ in assigned]
    score = _score(machine, question.gold)
    identity = [_f1(set(machine[k]), set(codes)) for k, codes in question.gold.items()]
    return Score(score.themes, score.f1, score.kappa, score.nmi, sum(identity) / len(identity))


def _bertopic_defaults(question: Question, embedder: Any) -> Score:
    from bertopic import BERTopic
    from umap import UMAP

    vectors = embedder.embed(question.texts)
    # BERTopic's default UMAP, seeded so that the baseline is reproducible.
    umap = UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine",
                random_state=SEED, init="random")
    topics, _ = BERTopic(umap_model=umap).fit_transform(question.texts, embeddings=vectors)
    return _score({str(i): [str(t)] for i, t in enumerate(topics)}, question.gold)


def _score(machine: dict[str, list[str]], gold: dict[str, list[str]]) -> Score:
    from consult.analysis.text.agreement import agreement

    result = agreement(machine, gold)
    kappas = [m.kappa for m in result.matches if m.kappa is not None]
    return Score(themes=result.n_themes, f1=result.f1,
                 kappa=sum(kappas) / len(kappas) if kappas else 0.0, nmi=result.nmi)


def _f1(mine: set[str], theirs: set[str]) -> float:
    if not mine and not theirs:
        return 1.0
    return 2 * len(mine & theirs) / (len(mine) + len(theirs))


# --------------------------------------------------------------------------- questions


def print_public_questions() -> None:
    """What was read from each public question's files, and what was left out and why."""
    print("### public questions: what was read (primary coder, top-level codes)\n")
    print("| question | rows | answers | coded (scored) | left out | codes | codes held by one "
          "answer | notes |\n|---|---|---|---|---|---|---|---|")
    for name in PROCTORING:
        path = BENCHMARKS / "proctoring-educators" / "coded" / f"{name}_primary.csv"
        if not path.exists():
            print(f"| proctoring {name} | – | | | | | | unusable: {path.name} is absent |")
            continue
        read = _read_proctoring(path)
        if read.problem:
            print(f"| proctoring {name} | {read.rows} | | | | | | unusable: {read.problem} |")
            continue
        counts: dict[str, int] = {}
        for codes in read.question.gold.values():
            for code in codes:
                counts[code] = counts.get(code, 0) + 1
        print(f"| proctoring {name} | {read.rows} | {read.answers} "
              f"| {len(read.question.texts)} | {read.answers - len(read.question.texts)} "
              f"| {len(counts)} | {sum(v == 1 for v in counts.values())} "
              f"| {'; '.join(read.notes) or '–'} |")
    for part in (1, 2):
        folder = BENCHMARKS / "gambling-xs" / f"question_part_{part}"
        if folder.is_dir():
            question = _gambling(folder, part)
            print(f"| gambling {part} | 100 | {len(question.texts)} | {len(question.texts)} | 0 "
                  f"| {len(question.codes)} | – | reference themes written by a language model "
                  "(labels and descriptions) |")
    print()


@dataclass(frozen=True)
class _Read:
    """One proctoring file: its question and what reading it found."""

    question: Question
    rows: int
    answers: int
    notes: tuple[str, ...]
    problem: str = ""


def _read_proctoring(path: Path) -> _Read:
    """A ``<Q>_primary.csv``: ResponseId, answer, Code 1..8 with sub-codes written ``parent->child``.

    An answer counts with its top-level codes (a sub-code whose parent is not on
    its row still counts its parent); an answer without a code is left out.
    """
    name = path.name.split("_")[0]
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    empty = Question(f"proctoring {name}", [], {}, {})
    if not rows or len(rows[0]) < 3 or not rows[0][0].lower().startswith("responseid"):
        return _Read(empty, max(len(rows) - 1, 0), 0, (), "not ResponseId, answer, Code 1 ...")
    texts, gold = [], {}
    answers, uncoded, orphans = 0, 0, []
    for row in rows[1:]:
        cells = [c.strip() for c in row[2:] if c.strip()]
        codes = list(dict.fromkeys(c.split("->")[0].strip() for c in cells))
        orphans += [c for c in cells if "->" in c and c.split("->")[0].strip() not in cells]
        if not row[1].strip():
            continue
        answers += 1
        if not codes:
            uncoded += 1
            continue
        gold[str(len(texts))] = codes
        texts.append(row[1].strip())
    notes = [f"{uncoded} answer(s) without a code left out"] if uncoded else []
    if orphans:
        notes.append(f"{len(orphans)} sub-code(s) without their parent on the row, parent "
                     f"counted ({', '.join(sorted(set(orphans))[:2])}"
                     f"{' ...' if len(set(orphans)) > 2 else ''})")
    if not texts:
        return _Read(empty, len(rows) - 1, answers, tuple(notes), "no coded answer")
    labels = {c: (c.replace("_", " "), "") for cs in gold.values() for c in cs}
    return _Read(Question(f"proctoring {name}", texts, gold, labels), len(rows) - 1, answers,
                 tuple(notes))


def _gambling(folder: Path, part: int) -> Question:
    with (folder / "responses.jsonl").open(encoding="utf-8") as handle:
        answers = [json.loads(line) for line in handle]
    with (folder / "gold_mapping.jsonl").open(encoding="utf-8") as handle:
        mapping = {row["response_id"]: row["labels"] for row in map(json.loads, handle)}
    themes = json.loads((folder / "gold_themes.json").read_text(encoding="utf-8"))
    texts, gold = [], {}
    for answer in answers:
        if answer["response_id"] in mapping and str(answer["response"]).strip():
            gold[str(len(texts))] = mapping[answer["response_id"]]
            texts.append(str(answer["response"]))
    labels = {t["topic_id"]: (t["topic_label"], t.get("topic_description", "")) for t in themes}
    return Question(f"gambling {part}", texts, gold, labels)


def _public_questions() -> list[Question]:
    found = []
    for name in PROCTORING:
        path = BENCHMARKS / "proctoring-educators" / "coded" / f"{name}_primary.csv"
        if not path.exists():
            continue
        read = _read_proctoring(path)
        if not read.problem:
            found.append(read.question)
    for part in (1, 2):
        folder = BENCHMARKS / "gambling-xs" / f"question_part_{part}"
        if folder.is_dir():
            found.append(_gambling(folder, part))
    return found


def _synthetic_questions(respondents: int, seed: int) -> list[Question]:
    """The practice items of a synthetic R-361 consultation, with the themes planted in each."""
    import yaml

    from consult.analysis.text.preprocess import is_non_answer
    from consult.questionnaire import load_questionnaire
    from consult.synth import generate

    consultation = generate(load_questionnaire(ROOT / "questionnaires" / "r361.yaml"),
                            respondents, seed=seed, junk=0)
    bank = yaml.safe_load((ROOT / "consult" / "synth" / "bank_r361.yaml").read_text(
        encoding="utf-8"))
    found = []
    for item in PRACTICE_ITEMS:
        texts, gold = [], {}
        for response in consultation.complete:
            text = response.answers.get(item)
            if not text or is_non_answer(str(text)) or not response.themes.get(item):
                continue
            gold[str(len(texts))] = list(response.themes[item])
            texts.append(str(text))
        labels = {k: (str(v["label"]), "") for k, v in bank["items"][item]["themes"].items()}
        found.append(Question(item, texts, gold, labels))
    return found


# --------------------------------------------------------------------------- speed


def speed_benchmark(n: int = 10_000) -> None:
    """Discovery on ``n`` answers, each run in a fresh process: cold cache, then cached."""
    print("| answers | run | wall s (fresh process) | imports s | fit s | corpus | themes "
          "| load |\n|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for variant in ("synthetic", "distinct"):
            texts_path = Path(tmp) / f"{variant}.json"
            texts = _speed_texts(n, distinct=variant == "distinct")
            texts_path.write_text(json.dumps(texts), encoding="utf-8")
            cache = Path(tmp) / f"cache-{variant}"
            for run in ("cold", "cached"):
                load = os.getloadavg()[0]
                start = time.perf_counter()
                done = subprocess.run([sys.executable, __file__, "_fit", str(texts_path),
                                       str(cache)], check=True, capture_output=True, text=True)
                wall = time.perf_counter() - start
                print(f"| {variant} | {run} | {wall:.1f} | {done.stdout.strip()} "
                      f"| {load:.1f} |", flush=True)


def _speed_texts(n: int, distinct: bool) -> list[str]:
    """``n`` synthetic answers to one practice item (``distinct``: every sentence made unique)."""
    from consult.analysis.text.preprocess import is_non_answer
    from consult.questionnaire import load_questionnaire
    from consult.synth import generate

    consultation = generate(load_questionnaire(ROOT / "questionnaires" / "r361.yaml"),
                            round(n * 1.35), seed=SEED, junk=0)
    texts = [str(r.answers["acc_practice"]) for r in consultation.complete
             if r.answers.get("acc_practice") and not is_non_answer(str(r.answers["acc_practice"]))]
    texts = texts[:n]
    if distinct:
        # The phrase bank repeats itself; a real consultation's sentences rarely do. A numbered
        # site in every sentence makes each one distinct (the worst case for the cache and the
        # clustering alike).
        texts = [". ".join(f"{s.rstrip('.')} at site {i}-{k}" for k, s in
                           enumerate(t.split(". "))) for i, t in enumerate(texts)]
    return texts


def _fit(texts_path: str, cache: str) -> None:
    """One timed fit in this (fresh) process; prints what the speed table needs."""
    start = time.perf_counter()
    from consult.analysis.text.embed import MiniLMEmbedder
    from consult.analysis.text.preprocess import TextCache
    from consult.analysis.text.themes import fit_themes

    texts = json.loads(Path(texts_path).read_text(encoding="utf-8"))
    embedder = MiniLMEmbedder(cache_dir=Path(cache))
    # As consult themes fit does: embeddings, units and lemmas cached in the project.
    fit_start = time.perf_counter()
    fit = fit_themes(texts, embedder, text_cache=TextCache(Path(cache) / "text"))
    done = time.perf_counter()
    units = fit.settings["n_units"]
    distinct = len({u.text for u in fit.units})
    print(f"{fit_start - start:.1f} | {done - fit_start:.1f} | {len(texts):,} answers, "
          f"{units:,} units ({distinct:,} distinct), {embedder.encoded:,} embedded "
          f"| {len(fit.themes)} themes, {fit.settings['components']['clustering']}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if sys.argv[1:2] == ["_fit"]:
        _fit(sys.argv[2], sys.argv[3])
    else:
        themes_benchmark(sys.argv[1:])
