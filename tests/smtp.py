"""A real SMTP server on loopback for the fielding tests: aiosmtpd's Controller."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_running(handler: Any, **options: Any) -> Iterator[int]:
    """aiosmtpd on a free loopback port for the block; yields the port, stops the server after."""
    for attempt in range(3):  # a free port can be taken before the server binds it
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
        try:
            controller.start()
            break
        except (OSError, RuntimeError):
            if attempt == 2:
                raise
    try:
        yield port
    finally:
        controller.stop()
