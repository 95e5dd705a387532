"""How many complete web submissions per second `uvicorn --workers N` takes, on SQLite and PostgreSQL.

Usage: python benchmarks/web_load.py [--respondents 300] [--workers 2]

For each backend: a fresh project on R-361 with one wave-0 code per
respondent, ``uvicorn --factory consult.web.asgi:app --workers N`` on
loopback, then every respondent at once opens its link, consents, loads and
posts each of the eight pages (every fifth double-clicks "Submit") and opens
the thank-you page. The run is checked as tests/test_web_load.py checks it:
every submission stored exactly once. PostgreSQL is a throwaway server
started by tests/pg.py (skipped when its binaries are missing).

Prints one Markdown row per backend. The clients run on the same machine and
take CPU from the server: "server CPU s" is what the uvicorn processes alone
used per submission, so 1 / that figure is the rate one free core would take
(the database's own CPU, in PostgreSQL's processes, is not in it).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the load driver and the PostgreSQL fixture live there

import pytest  # noqa: E402  (pg.py skips through pytest when PostgreSQL is missing)
from pg import postgres_server  # noqa: E402
from test_web_load import (  # noqa: E402
    load_project_with_seeds,
    run_load,
    stored_once_problems,
    uvicorn_workers,
)

from consult.questionnaire.load import load_questionnaire  # noqa: E402


def main() -> None:
    """Run the load on each backend and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--respondents", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    print(f"{args.respondents} respondents at once, {args.workers} uvicorn workers, "
          f"{os.cpu_count()} CPUs\n")
    print("| backend | seconds | submissions/s | requests/s | server CPU s per submission "
          "| stored exactly once |")
    print("|---|---|---|---|---|---|")
    for backend, database in (("SQLite (WAL)", _sqlite), ("PostgreSQL", _postgresql)):
        try:
            with database() as url:
                print(_row(backend, url, args.respondents, args.workers), flush=True)
        except pytest.skip.Exception as skipped:
            print(f"| {backend} | skipped: {skipped} | | | | |")


def _row(backend: str, url: str, respondents: int, workers: int) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        project, codes = load_project_with_seeds(Path(tmp) / "consultation", url, respondents)
        questionnaire = load_questionnaire(project.questionnaire_path)
        with uvicorn_workers(project, url, workers) as server:
            before = _tree_cpu(server.pid)
            seconds, requests, problems = run_load(server.url, codes, questionnaire,
                                                   view_pages=True)
            cpu = _tree_cpu(server.pid) - before
        problems += stored_once_problems(url, codes, questionnaire) + server.errors()
    verdict = "yes" if not problems else f"NO: {len(problems)} problems, e.g. {problems[0]}"
    return (f"| {backend} | {seconds:.1f} | {respondents / seconds:.1f} | {requests / seconds:.0f} "
            f"| {cpu / respondents:.3f} | {verdict} |")


@contextmanager
def _sqlite() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        yield f"sqlite:///{tmp}/consult.db"


@contextmanager
def _postgresql() -> Iterator[str]:
    with postgres_server() as server:
        yield server.create_database("web_load")


def _tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid`` and its descendants (Linux)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue  # ended meanwhile
    return total


if __name__ == "__main__":
    main()
