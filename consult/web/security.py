"""The web form's protections: signed session cookie, CSRF tokens, rate limit, headers.

The session lives in the cookie itself (JSON signed with HMAC-SHA256), so
several uvicorn workers behind a proxy share nothing but the secret. The CSRF
token is an HMAC of the session id: a form posted without the cookie it was
rendered for is refused.

Wrong code entries are counted in the database (``code_failures``), so the
limit holds across workers and machines; the client's address is stored only
as an HMAC under the same secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from consult.store import Store
from consult.store.web import code_failures_since, purge_code_failures, record_code_failure

SECRET_ENV = "CONSULT_WEB_SECRET"
SECRET_FILE = "web-secret"
COOKIE_NAME = "consult_session"
SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                                "base-uri 'none'; object-src 'none'"),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@dataclass
class Session:
    """What the browser carries between pages: nothing a respondent typed."""

    sid: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    code: str | None = None
    language: str | None = None
    consent: bool = False


def load_secret(cache_dir: Path) -> bytes:
    """The signing secret: ``CONSULT_WEB_SECRET``, else ``.consult/web-secret`` (made once).

    Every worker must use the same secret; the file is created atomically, so
    workers starting together agree on it.
    """
    from_env = os.environ.get(SECRET_ENV, "")
    if from_env:
        return from_env.encode("utf-8")
    path = cache_dir / SECRET_FILE
    cache_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secrets.token_hex(32))
    return path.read_bytes().strip()


class Signer:
    """Signs and checks session cookies and CSRF tokens with one secret."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def dump(self, session: Session) -> str:
        """The cookie value for ``session``."""
        body = base64.urlsafe_b64encode(json.dumps(asdict(session)).encode("utf-8")).decode()
        return f"{body}.{self._mac('session|' + body)}"

    def load(self, cookie: str | None) -> Session | None:
        """The session in ``cookie``, or ``None`` when missing, tampered with or malformed."""
        if not cookie or len(cookie) > 2000 or "." not in cookie:
            return None
        body, mac = cookie.rsplit(".", 1)
        if not hmac.compare_digest(mac, self._mac("session|" + body)):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(body.encode()))
            return Session(sid=str(data["sid"]), code=data.get("code"),
                           language=data.get("language"), consent=bool(data.get("consent")))
        except (ValueError, KeyError, TypeError, binascii.Error):
            return None

    def csrf_token(self, session: Session) -> str:
        """The CSRF token of forms rendered for ``session``."""
        return self._mac("csrf|" + session.sid)

    def csrf_ok(self, session: Session | None, token: str) -> bool:
        """Whether ``token`` was issued for ``session``."""
        return session is not None and hmac.compare_digest(token, self.csrf_token(session))

    def client_key(self, address: str) -> str:
        """A keyed hash of a client's address: stored instead of the address.

        Keyed, because there are only four billion IPv4 addresses: a plain hash
        of one is reversed by trying them all. Without the secret it cannot be.
        """
        return self._mac("client|" + address)

    def _mac(self, text: str) -> str:
        return hmac.new(self._secret, text.encode("utf-8"), hashlib.sha256).hexdigest()


class RateLimiter:
    """At most ``limit`` failures per client in any ``window`` seconds.

    With a ``store`` (and the ``signer`` whose secret hashes client addresses)
    the failures are rows of the database, so every worker on every machine
    sharing it counts the same ones. Without, they are kept in this process's
    memory only (one worker, or tests). ``clock`` gives seconds since the epoch:
    workers on several machines compare their moments.
    """

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.time,
                 *, store: Store | None = None, signer: Signer | None = None) -> None:
        if (store is None) != (signer is None):
            raise ValueError("a RateLimiter needs both a store and a signer, or neither")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._store = store
        self._signer = signer
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def blocked(self, client: str) -> bool:
        """Whether ``client`` has used up its failures."""
        now = self._clock()
        if self._store is not None and self._signer is not None:
            since = _moment(now - self.window)
            key = self._signer.client_key(client)
            return code_failures_since(self._store, key, since) >= self.limit
        with self._lock:
            return len(self._recent(client, now)) >= self.limit

    def fail(self, client: str) -> None:
        """Count one failure of ``client`` (and forget everyone's failures past the window)."""
        now = self._clock()
        if self._store is not None and self._signer is not None:
            record_code_failure(self._store, self._signer.client_key(client), _moment(now))
            purge_code_failures(self._store, _moment(now - self.window))
            return
        with self._lock:
            self._recent(client, now).append(now)
            if len(self._failures) > 100_000:  # bound memory under a flood of addresses
                self._failures = {k: v for k, v in self._failures.items() if v}

    def _recent(self, client: str, now: float) -> deque[float]:
        times = self._failures.setdefault(client, deque())
        cutoff = now - self.window
        while times and times[0] <= cutoff:
            times.popleft()
        return times


def _moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
