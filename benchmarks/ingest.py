"""Time `consult ingest` of a large synthetic Qualtrics export beside pandas.read_csv.

Target (issue 3): at most 3x pandas.read_csv of the same file and under 15 s
for 100,000 rows on 2 cores.

The file is generated once; then read_csv and the ingest (a fresh project each
time, the command line as a user runs it) are timed ``repeats`` times,
alternately, with the load average beside each run: on a shared machine the
median says more than any single run.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def ingest_100k(rows: int = 100_000, repeats: int = 3) -> None:
    """Print a Markdown table: read_csv seconds, consult ingest seconds, ratio, load."""
    import pandas as pd

    from consult.project import init_project
    from consult.questionnaire import load_questionnaire
    from consult.synth import generate
    from consult.synth.exports import writer

    with tempfile.TemporaryDirectory() as tmp:
        first = init_project(Path(tmp) / "p0")
        questionnaire = load_questionnaire(first.questionnaire_path)
        path = writer("qualtrics")(generate(questionnaire, rows, seed=1, junk=0.05),
                                   Path(tmp) / "export.csv")
        command = [sys.executable, "-m", "consult", "ingest", str(path), "--json"]
        # Drafts the mapping (exit 3); every timed run then uses the same one.
        subprocess.run([*command[:3], "--project", str(first.root), *command[3:]],
                       capture_output=True)
        runs: list[tuple[float, float, float, float]] = []
        for n in range(1, repeats + 1):
            project = init_project(Path(tmp) / f"p{n}")
            shutil.copytree(first.root / "mapping", project.root / "mapping", dirs_exist_ok=True)
            load = os.getloadavg()[0]
            start = time.perf_counter()
            pd.read_csv(path, header=0, skiprows=[1, 2], dtype=str, keep_default_na=False)
            read_csv = time.perf_counter() - start
            start = time.perf_counter()
            done = subprocess.run([*command[:3], "--project", str(project.root), *command[3:]],
                                  capture_output=True, text=True)
            elapsed = time.perf_counter() - start
            if done.returncode != 0:
                sys.exit(f"ingest failed: {done.stderr[-2000:]}")
            runs.append((read_csv, elapsed, load, os.getloadavg()[0]))
        size = path.stat().st_size / 1e6
    print("| rows | MB | run | pandas.read_csv s | consult ingest s | ratio | load before, after |")
    print("|---|---|---|---|---|---|---|")
    for n, (read_csv, elapsed, before, after) in enumerate(runs, start=1):
        print(f"| {rows:,} | {size:.0f} | {n} | {read_csv:.1f} | {elapsed:.1f} | "
              f"{elapsed / read_csv:.1f} | {before:.1f}, {after:.1f} |")
    read_median = statistics.median(r[0] for r in runs)
    ingest_median = statistics.median(r[1] for r in runs)
    print(f"| {rows:,} | {size:.0f} | median | {read_median:.1f} | {ingest_median:.1f} | "
          f"{ingest_median / read_median:.1f} | |")
