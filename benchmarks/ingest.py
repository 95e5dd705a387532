"""Time `consult ingest` of a large synthetic Qualtrics export beside pandas.read_csv.

Target (issue 3): at most 3x pandas.read_csv of the same file and under 15 s
for 100,000 rows on 2 cores.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def ingest_100k(rows: int = 100_000) -> None:
    """Print a Markdown table: read_csv seconds, consult ingest seconds, ratio."""
    import pandas as pd

    from consult.project import init_project
    from consult.questionnaire import load_questionnaire
    from consult.synth import generate
    from consult.synth.exports import writer

    with tempfile.TemporaryDirectory() as tmp:
        project = init_project(Path(tmp) / "p")
        questionnaire = load_questionnaire(project.questionnaire_path)
        path = writer("qualtrics")(generate(questionnaire, rows, seed=1, junk=0.05),
                                   Path(tmp) / "export.csv")
        start = time.perf_counter()
        pd.read_csv(path, header=0, skiprows=[1, 2], dtype=str, keep_default_na=False)
        read_csv = time.perf_counter() - start
        command = [sys.executable, "-m", "consult", "--project", str(project.root), "ingest",
                   str(path), "--json"]
        subprocess.run([*command], capture_output=True)  # drafts the mapping (exit 3)
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(f"ingest failed: {done.stderr[-2000:]}")
        size = path.stat().st_size / 1e6
    print("| rows | MB | pandas.read_csv s | consult ingest s | ratio |\n|---|---|---|---|---|")
    print(f"| {rows:,} | {size:.0f} | {read_csv:.1f} | {elapsed:.1f} | {elapsed / read_csv:.1f} |")
