"""Benchmark: `consult analyze` on 100,000 synthetic respondents stored in SQLite.

The consultation is generated with :func:`consult.synth.generate`, turned into
store records with :func:`consult.synth.records.synth_records` and written with
:func:`consult.store.responses.write_ingest`, as a perfect ingest would store
it; then ``consult analyze`` runs as a separate process, as a coordinator runs
it. The loading of the store and the analysis are also timed apart, in this
process, to show where the time goes.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONSULT = [sys.executable, "-m", "consult"]


def analyze_100k(respondents: int = 100_000, seed: int = 2014) -> None:
    """Time `consult analyze` on ``respondents`` synthetic respondents (SQLite); print a table."""
    from consult.analysis.run import analyze
    from consult.project import init_project
    from consult.questionnaire import load_questionnaire
    from consult.store import open_store
    from consult.store.responses import (
        IngestRecord,
        exclusion_counts,
        load_responses,
        write_ingest,
    )
    from consult.synth import Association, generate
    from consult.synth.records import synth_records

    with tempfile.TemporaryDirectory() as tmp:
        project = init_project(Path(tmp) / "bench")
        questionnaire = load_questionnaire(project.questionnaire_path)
        start = time.perf_counter()
        consultation = generate(questionnaire, respondents, seed=seed,
                                associations=[Association("int_same_procedures", "region", 0.3)])
        records = synth_records(consultation)
        with open_store(project.database_url) as store:
            write_ingest(store, IngestRecord("synth", "synth.csv", "0" * 64, len(records)), records)
            answer_rows = store.counts()["answers"]
        prepared = time.perf_counter() - start

        start = time.perf_counter()
        subprocess.run([*CONSULT, "--project", str(project.root), "analyze"], check=True,
                       capture_output=True)
        command = time.perf_counter() - start
        size = (project.out_dir / "results.json").stat().st_size

        start = time.perf_counter()
        with open_store(project.database_url) as store:
            people, answers = load_responses(store)
            exclusions = exclusion_counts(store)
        loading = time.perf_counter() - start
        start = time.perf_counter()
        analyze(people, answers, questionnaire, project.settings, exclusions)
        analysis = time.perf_counter() - start

    print("| respondents | answer rows | generate + store s | consult analyze s | "
          "of which: load s | analyse s | results.json KB |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {len(people):,} | {answer_rows:,} | {prepared:.1f} | {command:.1f} | {loading:.1f} | "
          f"{analysis:.1f} | {size / 1000:.0f} |")


if __name__ == "__main__":
    analyze_100k(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
