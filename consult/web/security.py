"""The web form's protections: signed session cookie, CSRF tokens, rate limit, headers.

The session lives in the cookie itself (JSON signed with HMAC-SHA256), so
several uvicorn workers behind a proxy share nothing but the secret. The CSRF
token is an HMAC of the session id: a form posted without the cookie it was
rendered for is refused.
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
from pathlib import Path

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

    def _mac(self, text: str) -> str:
        return hmac.new(self._secret, text.encode("utf-8"), hashlib.sha256).hexdigest()


class RateLimiter:
    """At most ``limit`` failures per client in any ``window`` seconds (per worker process)."""

    def __init__(self, limit: int, window: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def blocked(self, client: str) -> bool:
        """Whether ``client`` has used up its failures."""
        with self._lock:
            return len(self._recent(client)) >= self.limit

    def fail(self, client: str) -> None:
        """Count one failure of ``client``."""
        with self._lock:
            self._recent(client).append(self._clock())
            if len(self._failures) > 100_000:  # bound memory under a flood of addresses
                self._failures = {k: v for k, v in self._failures.items() if v}

    def _recent(self, client: str) -> deque[float]:
        times = self._failures.setdefault(client, deque())
        cutoff = self._clock() - self.window
        while times and times[0] <= cutoff:
            times.popleft()
        return times
