"""A generator run in a forked process: its items and value come back in order, its
errors are raised here, and the child never outlives what it works for."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import textwrap
from collections.abc import Generator
from pathlib import Path

import pytest

from consult.errors import ConsultError, IngestFileError
from consult.ingest.parallel import Forked, InProcess, can_fork

pytestmark = pytest.mark.skipif(not can_fork(), reason="forked conversion runs on Linux only")


def numbers(count: int) -> Generator[tuple[int, int], None, str]:
    for n in range(count):
        yield n, os.getpid()
    return f"{count} made"


def test_items_and_value_come_back_in_order_from_another_process() -> None:
    forked = Forked(lambda: numbers(5000))
    try:
        items = list(forked)
    finally:
        forked.close()
    assert [n for n, _ in items] == list(range(5000))
    assert {pid for _, pid in items} != {os.getpid()}  # made in the child
    assert len({pid for _, pid in items}) == 1
    assert forked.result == "5000 made"
    here = InProcess(lambda: numbers(5000))
    assert [n for n, _ in here] == list(range(5000)) and here.result == "5000 made"


def failing(error: BaseException) -> Generator[int, None, None]:
    yield 1
    raise error


def test_an_error_of_the_child_is_raised_here() -> None:
    forked = Forked(lambda: failing(IngestFileError("export.csv, line 3: bad cell")))
    try:
        with pytest.raises(IngestFileError, match="line 3: bad cell") as raised:
            list(forked)
    finally:
        forked.close()
    assert not getattr(raised.value, "__notes__", None)  # a user's error, said as it is
    forked = Forked(lambda: failing(KeyError("item")))
    try:
        with pytest.raises(KeyError) as bug:
            list(forked)
    finally:
        forked.close()
    notes = "".join(bug.value.__notes__)
    assert "In the forked process" in notes and "in failing" in notes


def dying() -> Generator[int, None, None]:
    yield 1
    os._exit(9)


def test_a_child_that_dies_is_an_error_not_a_hang() -> None:
    forked = Forked(dying)
    try:
        with pytest.raises(ConsultError, match=r"stopped unexpectedly \(exit code 9"):
            list(forked)
    finally:
        forked.close()


def endless() -> Generator[int, None, None]:
    n = 0
    while True:
        n += 1
        yield n


def test_closing_early_ends_the_child() -> None:
    forked = Forked(endless)
    first = next(iter(forked))
    forked.close()  # the child, blocked on a full pipe, is ended
    assert first == 1
    assert forked._child.exitcode == -signal.SIGTERM


def test_the_child_ends_when_its_parent_is_killed(tmp_path: Path) -> None:
    script = textwrap.dedent("""
        import sys
        from consult.ingest.parallel import Forked
        def endless():
            n = 0
            while True:
                n += 1
                yield bytes(100_000)
        forked = Forked(endless)
        items = iter(forked)
        next(items)
        print(forked._child.pid, flush=True)
        sys.stdin.read()
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    handle = os.pidfd_open(child)
    try:
        parent.kill()
        parent.wait()
        # The child, writing to a pipe nobody reads any more, ends: wait for it
        # (the process's descriptor becomes readable when it has exited).
        ready, _, _ = select.select([handle], [], [], 60)
        assert ready, "the child outlived its killed parent"
    finally:
        os.close(handle)


def test_output_written_before_the_fork_is_written_once(tmp_path: Path) -> None:
    script = textwrap.dedent("""
        import sys
        from consult.ingest.parallel import Forked
        def one():
            yield 1
            return None
        sys.stdout.write("before the fork\\n")  # buffered: stdout is a pipe
        forked = Forked(one)
        print(list(forked))
        forked.close()
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True)
    assert done.stdout == "before the fork\n[1]\n"


def test_the_child_leaves_ctrl_c_to_its_parent() -> None:
    forked = Forked(endless)
    try:
        next(iter(forked))
        status = Path(f"/proc/{forked._child.pid}/status").read_text()
        ignored = int(next(line for line in status.splitlines()
                           if line.startswith("SigIgn:")).split()[1], 16)
        assert ignored & (1 << (signal.SIGINT - 1))
    finally:
        forked.close()


def test_the_child_ends_without_touching_the_parents_output_streams() -> None:
    # A thread of the parent (a progress bar's) may hold a stream's lock at the
    # fork, and would never release it in the child: the child must end
    # without flushing its copy of the streams.
    script = textwrap.dedent("""
        import os, sys, threading
        from consult.ingest.parallel import Forked
        def one():
            yield 1
        parent = os.getpid()
        lock = threading.Lock()
        lock.acquire()  # held, as by another thread, at the fork
        class Stream:
            def write(self, text):
                self.flush()
            def flush(self):
                if os.getpid() != parent:
                    lock.acquire()
        real = sys.stdout
        sys.stdout = sys.stderr = Stream()
        forked = Forked(one)
        items = list(forked)
        forked.close()
        real.write(f"{items} {forked._child.exitcode}\\n")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.stdout == "[1] 0\n", done.stderr
