"""Themes against human (and reference) coding on ../shared/benchmarks.

Run: ``python -m benchmarks.themes`` (or ``python benchmarks/themes.py``).
Prints, per question, the answers, the reference codes, and the per-answer
F1 (one-to-one matched) of discovery, zero-shot codebook (code labels and
descriptions only) and the trivial "one theme for all" baseline. Skips with a
message when the benchmark folder is absent.
"""

from __future__ import annotations

import csv
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT.parent / "shared" / "benchmarks"
PROCTORING = ("Q5", "N3", "N4", "Q8", "Q11", "Q12", "Q14")
# Outside the repository: a benchmark must not leave files in the working tree.
CACHE = Path(tempfile.gettempdir()) / "consult-benchmark-embeddings"


def themes_benchmark() -> None:
    """Print the per-question table (see the module docstring)."""
    if not BENCHMARKS.is_dir():
        print(f"skipped: {BENCHMARKS} is absent (see ../shared/benchmarks/README.md)")
        return
    from consult.analysis.text.agreement import agreement
    from consult.analysis.text.embed import MiniLMEmbedder
    from consult.analysis.text.themes import Code, fit_themes

    embedder = MiniLMEmbedder(cache_dir=CACHE)
    print(f"{'question':<12}{'n':>5}{'codes':>7}{'themes':>8}{'discovery':>11}{'codebook':>10}"
          f"{'one theme':>11}{'NMI':>7}{'seconds':>9}")
    discovery, codebook = [], []
    for name, texts, gold, codes in _questions():
        start = time.perf_counter()
        keys = [str(i) for i in range(len(texts))]
        found = fit_themes(texts, embedder)
        machine = {k: [t for t, _ in a] for k, a in zip(keys, found.assignments, strict=True)}
        disc = agreement(machine, gold)
        coded = fit_themes(texts, embedder, codebook=[Code(c, label, description)
                                                      for c, (label, description) in codes.items()],
                           min_similarity=-1.0)
        by_code = {k: [t for t, _ in a] for k, a in zip(keys, coded.assignments, strict=True)}
        book = agreement(by_code, gold)
        one = agreement({k: ["all"] for k in keys}, gold)
        discovery.append(disc.f1)
        codebook.append(book.f1)
        print(f"{name:<12}{len(texts):>5}{disc.n_codes:>7}{len(found.themes):>8}{disc.f1:>11.3f}"
              f"{book.f1:>10.3f}{one.f1:>11.3f}{disc.nmi:>7.3f}{time.perf_counter() - start:>9.1f}")
    if discovery:
        print(f"{'mean':<12}{'':>5}{'':>7}{'':>8}{sum(discovery) / len(discovery):>11.3f}"
              f"{sum(codebook) / len(codebook):>10.3f}")


def _questions() -> list[tuple[str, list[str], dict[str, list[str]],
                               dict[str, tuple[str, str]]]]:
    found = []
    for question in PROCTORING:
        path = BENCHMARKS / "proctoring-educators" / "coded" / f"{question}_primary.csv"
        if not path.exists():
            continue
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle))
        texts, gold = [], {}
        for row in rows[1:]:
            codes = list(dict.fromkeys(c.split("->")[0].strip() for c in row[2:] if c.strip()))
            if not row[1].strip() or not codes:
                continue
            gold[str(len(texts))] = codes
            texts.append(row[1].strip())
        labels = {c: (c.replace("_", " "), "") for cs in gold.values() for c in cs}
        found.append((f"proct {question}", texts, gold, labels))
    for part in (1, 2):
        folder = BENCHMARKS / "gambling-xs" / f"question_part_{part}"
        if not folder.is_dir():
            continue
        answers = [json.loads(line) for line in (folder / "responses.jsonl").open(encoding="utf-8")]
        mapping = {json.loads(line)["response_id"]: json.loads(line)["labels"]
                   for line in (folder / "gold_mapping.jsonl").open(encoding="utf-8")}
        themes = json.loads((folder / "gold_themes.json").read_text(encoding="utf-8"))
        texts, gold = [], {}
        for answer in answers:
            if answer["response_id"] in mapping and str(answer["response"]).strip():
                gold[str(len(texts))] = mapping[answer["response_id"]]
                texts.append(str(answer["response"]))
        labels = {t["topic_id"]: (t["topic_label"], t.get("topic_description", ""))
                  for t in themes}
        found.append((f"gambling {part}", texts, gold, labels))
    return found


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    themes_benchmark()
