"""Run consult's benchmarks and print their results.

Usage: python benchmarks/run.py [NAME ...]   (names: cli_startup, synth, ingest, ...)

Each benchmark prints a Markdown table; copy the figures you measured into
benchmarks/RESULTS.md with the date and the machine. Speed targets live here,
never in unit tests.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONSULT = [sys.executable, "-m", "consult"]


def cli_startup(repeats: int = 15) -> None:
    """`consult --help` wall time (target: median under 0.3 s)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([*CONSULT, "--help"], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    print("| benchmark | median s | min s | max s |\n|---|---|---|---|")
    print(f"| consult --help | {statistics.median(times):.3f} | {min(times):.3f} | "
          f"{max(times):.3f} |")


def synth(sizes: tuple[int, ...] = (81, 1_000, 10_000, 100_000)) -> None:
    """`consult synth` at growing sizes (canonical CSV written)."""
    questionnaire = ROOT / "questionnaires" / "r361.yaml"
    print("| respondents | seconds | MB written |\n|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            out = Path(tmp) / f"r{n}.csv"
            start = time.perf_counter()
            subprocess.run([*CONSULT, "synth", "-n", str(n), "-q", str(questionnaire), "-o",
                            str(out)], check=True, capture_output=True)
            elapsed = time.perf_counter() - start
            print(f"| {n:,} | {elapsed:.1f} | {out.stat().st_size / 1e6:.1f} |")


def ingest() -> None:
    """`consult ingest` of a 100,000-row Qualtrics export beside pandas.read_csv."""
    from ingest import ingest_100k  # benchmarks/ingest.py (run.py runs as a script)

    ingest_100k()


def analyze() -> None:
    """`consult analyze` on 100,000 stored synthetic respondents."""
    from analyze import analyze_100k  # benchmarks/analyze.py

    analyze_100k()


def themes() -> None:
    """Theme discovery and codebook F1 on ../shared/benchmarks (skips when absent)."""
    from themes import themes_benchmark  # benchmarks/themes.py

    themes_benchmark()


BENCHMARKS: dict[str, Callable[[], None]] = {
    "themes": themes,
    "cli_startup": cli_startup,
    "synth": synth,
    "ingest": ingest,
    "analyze": analyze,
}


def main(names: list[str]) -> None:
    """Run the named benchmarks (all when none are named)."""
    for name in names or list(BENCHMARKS):
        if name not in BENCHMARKS:
            sys.exit(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}")
        print(f"\n## {name}\n")
        BENCHMARKS[name]()


if __name__ == "__main__":
    main(sys.argv[1:])
