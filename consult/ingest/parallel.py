"""Run a generator in a forked process and take its items here, in order.

A large ingest converts its rows in Python, and Python's one interpreter lock
keeps that work on one core however the storing is arranged. Forking a second
process gives conversion a core of its own: the child inherits the table
already read (nothing is sent to it), converts it part by part and sends each
part, laid out for the store, back through a pipe; this process only stores.

Only the parent touches the database. The child sends plain data and ends
with ``os._exit``, running no clean-up of what it shares with the parent.
Whatever the child raises is raised again here (an unexpected error with the
child's traceback attached as a note); if the child dies (killed, out of
memory), the caller gets a :class:`~consult.errors.ConsultError`; either way
the caller's transaction is rolled back as for any other error. If the parent
dies, the child's next send fails and it ends.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import traceback
from collections.abc import Callable, Generator, Iterator
from multiprocessing.connection import Connection
from typing import Any, Generic, TypeVar

from consult.errors import ConsultError

Item = TypeVar("Item")
Result = TypeVar("Result")


def can_fork() -> bool:
    """Whether :class:`Forked` may be used here: Linux, whose ``fork`` is safe and cheap.

    macOS offers ``fork`` too, but its system libraries are not safe to use in
    a forked child; Windows has no ``fork``.
    """
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


class InProcess(Generic[Item, Result]):
    """The items of ``produce()``, made in this process; its return value is :attr:`result`."""

    def __init__(self, produce: Callable[[], Generator[Item, None, Result]]) -> None:
        self._items = produce()

    def __iter__(self) -> Iterator[Item]:
        self.result = yield from self._items

    def close(self) -> None:
        """Stop early: nothing more is made."""
        self._items.close()


class Forked(Generic[Item, Result]):
    """The items of ``produce()``, made in a child forked at once; its return value is
    :attr:`result` once every item has been taken.

    Only the forking thread exists in the child, and a lock another thread
    held at the fork stays held there: ``produce`` must not print, log, use
    an open database connection or anything else it shares with the parent
    beyond reading memory. :meth:`close` (call it in a ``finally``) ends the
    child if the items were not all taken.
    """

    def __init__(self, produce: Callable[[], Generator[Item, None, Result]], *,
                 name: str = "consult-worker") -> None:
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        self._child = context.Process(target=_run, args=(produce, send, self._receive),
                                      name=name, daemon=True)
        self._child.start()
        send.close()  # the child holds its end: end of file here means the child has gone
        self._finished = False

    def __iter__(self) -> Iterator[Item]:
        while True:
            try:
                kind, payload = self._receive.recv()
            except EOFError:
                self._child.join()
                raise ConsultError(
                    f"the process converting the file stopped unexpectedly (exit code "
                    f"{self._child.exitcode}; out of memory?); nothing was stored") from None
            if kind == "item":
                yield payload
            elif kind == "return":
                self._finished = True
                self.result: Result = payload
                return
            else:
                raise payload

    def close(self) -> None:
        """Wait for the child to end, ending it first if its items were not all taken."""
        self._receive.close()
        if not self._finished:
            self._child.terminate()
        self._child.join()


def _run(produce: Callable[[], Generator[Any, None, Any]], send: Connection,
         parents_end: Connection) -> None:
    """The child: send every item, then the return value or the exception; then end
    at once.

    The child ends with ``os._exit``, skipping the clean-up ``multiprocessing``
    would run: flushing the standard streams could block for ever on a lock
    that another thread of the parent (a progress bar's) held at the fork,
    and nothing of the parent's is the child's to clean up.
    """
    status = 1
    try:
        # Only the parent reads: with the reading end closed here, a parent
        # that has gone makes the next send fail instead of blocking for ever
        # on a full pipe.
        parents_end.close()
        # Ctrl-C reaches the whole process group: the parent stops and ends
        # the child, which need not print a traceback of its own.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        status = _send_all(produce, send)
    finally:
        os._exit(status)


def _send_all(produce: Callable[[], Generator[Any, None, Any]], send: Connection) -> int:
    """Send ``produce()``'s items, then its value or its exception; the exit status."""
    try:
        items = produce()
        while True:
            try:
                item = next(items)
            except StopIteration as stop:
                send.send(("return", stop.value))
                return 0
            send.send(("item", item))
    except BrokenPipeError:
        return 1  # the parent has gone or given up: nobody to tell
    except BaseException as exc:  # handed to the parent, raised there
        if not isinstance(exc, ConsultError):  # a bug: say where it happened
            exc.add_note("In the forked process:\n" + "".join(traceback.format_exception(exc)))
        try:
            send.send(("raise", exc))
        except BrokenPipeError:
            pass
        except Exception:  # an exception that cannot be pickled: its text still can
            send.send(("raise", ConsultError(f"{type(exc).__name__}: {exc}\n"
                                             + "".join(traceback.format_exception(exc)))))
        return 1
    finally:
        send.close()
