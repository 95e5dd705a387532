"""A real, throwaway PostgreSQL server for tests.

``postgres_server()`` runs ``initdb`` into a temporary folder, starts the
server on a free port of 127.0.0.1 (and a private unix socket), yields a
:class:`PgServer` that creates one fresh database per need, and at the end
stops the server and removes the folder. ``pg_ctl -w`` waits until the server
accepts connections, so nothing sleeps.

PostgreSQL refuses to run as root; tests in containers often do, so then the
server runs as the ``postgres`` system user (created by Debian's package).

When the binaries are missing the tests that need them are skipped, except on
CI (``CI`` set), where that is a failure: ``.ci/run`` must install PostgreSQL.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import psycopg
import pytest
from psycopg import sql

BINDIR_ENV = "CONSULT_PG_BINDIR"
SUPERUSER = "consult"
SYSTEM_USER = "postgres"
START_ATTEMPTS = 3  # a free port found by binding 0 can be taken before the server binds it


@dataclass
class PgServer:
    """A running throwaway server; ``create_database`` hands out fresh databases."""

    port: int
    socket_dir: Path
    host: str = "127.0.0.1"
    user: str = SUPERUSER
    _names: Iterator[int] = field(default_factory=itertools.count)

    def url(self, dbname: str) -> str:
        """The SQLAlchemy URL of database ``dbname`` on this server."""
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{dbname}"

    def create_database(self, prefix: str = "test") -> str:
        """Create an empty database with a name not used before; return its URL."""
        name = f"{prefix}_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(host=self.host, port=self.port, user=self.user,
                             dbname="postgres", autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)


@contextmanager
def postgres_server() -> Iterator[PgServer]:
    """Start a throwaway server, yield it, then stop it and remove its files."""
    bindir = find_bindir()
    runas = _runas_prefix()
    base = Path(tempfile.mkdtemp(prefix="consult-pg-"))
    data, sockets, log = base / "data", base / "sock", base / "server.log"
    try:
        sockets.mkdir()
        if runas:
            account = pwd.getpwnam(SYSTEM_USER)
            for path in (base, sockets):
                os.chown(path, account.pw_uid, account.pw_gid)
        _run(runas, [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", SUPERUSER,
                     "--no-sync", "-E", "UTF8", "--no-locale"], cwd=base)
        port = _start(runas, bindir, data, sockets, log)
        try:
            yield PgServer(port=port, socket_dir=sockets)
        finally:
            _run(runas, [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                 cwd=base, check=False)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def find_bindir() -> Path:
    """The folder holding ``initdb`` and ``pg_ctl``; skips (or fails on CI) without one.

    Looked up in ``$CONSULT_PG_BINDIR``, then the newest ``/usr/lib/postgresql/*/bin``
    (Debian, Ubuntu), then ``pg_config --bindir``.
    """
    candidates: list[Path] = []
    if os.environ.get(BINDIR_ENV):
        candidates.append(Path(os.environ[BINDIR_ENV]))
    debian = glob.glob("/usr/lib/postgresql/*/bin")
    candidates += [Path(p) for p in sorted(debian, key=_version_key, reverse=True)]
    pg_config = shutil.which("pg_config")
    if pg_config:
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        if found.returncode == 0 and found.stdout.strip():
            candidates.append(Path(found.stdout.strip()))
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    _unavailable(f"no PostgreSQL server binaries (initdb, pg_ctl) found in ${BINDIR_ENV}, "
                 "/usr/lib/postgresql/*/bin or pg_config --bindir")


# --------------------------------------------------------------------------- helpers


def _start(runas: list[str], bindir: Path, data: Path, sockets: Path, log: Path) -> int:
    failure = ""
    for _ in range(START_ATTEMPTS):
        port = _free_port()
        options = (f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c full_page_writes=off -c synchronous_commit=off")
        # -l: without a log file the server keeps pg_ctl's output pipe open and we never return.
        started = _run(runas, [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w",
                               "-t", "60", "-o", options, "start"], cwd=data.parent, check=False)
        if started.returncode == 0:
            return port
        failure = started.stdout + started.stderr + (log.read_text() if log.exists() else "")
    raise RuntimeError(f"PostgreSQL did not start after {START_ATTEMPTS} attempts:\n{failure}")


def _runas_prefix() -> list[str]:
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        _unavailable(f"running as root and there is no {SYSTEM_USER!r} system user to run "
                     "PostgreSQL as (it refuses to run as root)")
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", SYSTEM_USER, "--"]
    setpriv = shutil.which("setpriv")
    if setpriv:
        return [setpriv, f"--reuid={SYSTEM_USER}", f"--regid={SYSTEM_USER}", "--init-groups"]
    _unavailable("running as root and neither runuser nor setpriv is available to drop to "
                 f"the {SYSTEM_USER!r} user")


def _run(runas: Sequence[str], argv: list[str], cwd: Path,
         check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([*runas, *argv], cwd=cwd, capture_output=True, text=True,
                            env={**os.environ, "LC_ALL": "C"})
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({result.returncode}):\n"
                           f"{result.stdout}{result.stderr}")
    return result


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _version_key(path: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", Path(path).parent.name))


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(f"PostgreSQL is needed on CI: {reason}. .ci/run must install it "
                    "(apt-get install postgresql).", pytrace=False)
    pytest.skip(f"PostgreSQL tests skipped: {reason}")
