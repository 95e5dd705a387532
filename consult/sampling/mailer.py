"""Where messages go: an SMTP server, or an outbox folder of ``.eml`` files.

Both deliver one :class:`~email.message.EmailMessage` at a time and say where
it went. A refusal of one message raises :class:`DeliveryError` (the message
is logged as failed and retried on the next run); a lost connection, or a
server answering 421 (closing the connection) to any command of a message,
raises :class:`ConnectionLost` (the run stops; what was not tried stays queued).
"""

from __future__ import annotations

import os
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from consult.errors import ConsultError
from consult.project import SmtpSection

CLOSING = 421
"""The reply code of a server that is closing the connection (RFC 5321, 3.8)."""


class DeliveryError(Exception):
    """One message was refused; ``reason`` is what the server said."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ConnectionLost(DeliveryError):
    """The connection to the server broke; the rest of the run cannot be delivered."""


class Mailer(Protocol):
    """Delivers messages; ``name`` is a stable file name for the message."""

    description: str

    def deliver(self, message: EmailMessage, name: str) -> str:
        """Deliver ``message``; return where it went (recorded as its transport)."""
        ...

    def close(self) -> None:
        """Release the connection, if any."""
        ...


class SmtpMailer:
    """Sends over SMTP with the ``[smtp]`` settings; connects at the first message.

    ``security``: ``none`` (plain), ``starttls`` (plain, then upgraded before
    the login) or ``ssl`` (TLS from the first byte). The server's certificate
    is checked against the system's authorities, or those of the PEM file named
    by the environment variable ``SSL_CERT_FILE``, and must name ``host``.
    """

    def __init__(self, settings: SmtpSection, password: str | None = None,
                 timeout: float = 30.0) -> None:
        self.settings = settings
        self.password = password
        self.timeout = timeout
        self.description = f"smtp://{settings.host}:{settings.port}"
        self._smtp: smtplib.SMTP | None = None

    def deliver(self, message: EmailMessage, name: str) -> str:
        """Send ``message``; raise :class:`DeliveryError` when the server refuses it."""
        smtp = self._smtp or self._connect()
        try:
            smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            replies = list(exc.recipients.values())
            reason = "; ".join(f"{code} {_text(text)}" for code, text in replies)
            if any(code == CLOSING for code, _ in replies):
                # smtplib has already closed its end: a later message would only
                # meet "please run connect() first" and be charged an attempt
                self.close()
                raise ConnectionLost(reason) from None
            raise DeliveryError(reason) from None
        except smtplib.SMTPServerDisconnected as exc:
            self._smtp = None
            raise ConnectionLost(f"connection lost: {exc}") from None
        except smtplib.SMTPResponseException as exc:  # MAIL FROM or DATA refused
            reason = f"{exc.smtp_code} {_text(exc.smtp_error)}"
            if exc.smtp_code == CLOSING:
                self.close()
                raise ConnectionLost(reason) from None
            raise DeliveryError(reason) from None
        except OSError as exc:
            self.close()
            raise ConnectionLost(f"connection lost: {exc}") from None
        return self.description

    def close(self) -> None:
        """Say goodbye to the server."""
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        where = f"{s.host}:{s.port}"
        try:
            smtp: smtplib.SMTP
            if s.security == "ssl":
                smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=self.timeout,
                                        context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=self.timeout)
            if s.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if s.user:
                smtp.login(s.user, self.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise ConsultError(f"the SMTP server {where} refused user {s.user!r} "
                               f"({exc.smtp_code} {_text(exc.smtp_error)}); check [smtp] user "
                               f"and the password in ${s.password_env}") from None
        except smtplib.SMTPNotSupportedError as exc:
            hint = ("[smtp] security and port (465 usually means ssl, 587 starttls)"
                    if "STARTTLS" in str(exc) else
                    'whether it needs TLS before a login: [smtp] security = "starttls" or "ssl"')
            raise ConsultError(f"the SMTP server {where} does not offer what [smtp] asks ({exc}); "
                               f"check {hint}; nothing was sent and every message stays "
                               "queued") from None
        except ssl.SSLCertVerificationError as exc:
            raise ConsultError(f"the SMTP server {where} presented a certificate this computer "
                               f"does not trust ({exc.verify_message}); if it comes from your "
                               "organisation's own authority, point the environment variable "
                               "SSL_CERT_FILE at that authority's certificate (PEM); nothing was "
                               "sent and every message stays queued") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise ConsultError(f"cannot connect to the SMTP server {where} ({exc}); check "
                               "[smtp] host, port and security in consult.toml; nothing was "
                               "sent and every message stays queued") from None
        self._smtp = smtp
        return smtp


class OutboxMailer:
    """Writes each message as ``<name>.eml`` in a folder, for any mail client to send."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.description = str(folder)

    def deliver(self, message: EmailMessage, name: str) -> str:
        """Write ``message``; return the file's path."""
        target = self.folder / f"{name}.eml"
        partial = target.with_name(target.name + ".part")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            partial.write_bytes(bytes(message))
            os.replace(partial, target)
        except OSError as exc:
            raise ConsultError(f"cannot write {target}: {exc.strerror}; nothing more was "
                               "written and the rest stays queued") from None
        return str(target)

    def close(self) -> None:
        """Nothing to release."""


def smtp_password(settings: SmtpSection) -> str | None:
    """The SMTP password from the environment variable named by ``password_env``.

    Raises
    ------
    ConsultError
        When ``[smtp] user`` is set and the variable is empty.
    """
    if not settings.user:
        return None
    password = os.environ.get(settings.password_env, "")
    if not password:
        raise ConsultError(f"[smtp] user is {settings.user!r} but the environment variable "
                           f"{settings.password_env} is empty; export the SMTP password in it "
                           "before sending")
    return password


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
