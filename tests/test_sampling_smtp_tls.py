"""Sending over TLS (STARTTLS and implicit) with a login, against a real aiosmtpd server.

The server runs on loopback with a self-signed certificate made by the test
(with ``cryptography`` when installed, else the ``openssl`` command). consult
trusts it the way a coordinator trusts an organisation's own authority: the
environment variable ``SSL_CERT_FILE`` names it. The password comes from the
environment variable that ``[smtp] password_env`` names, never from the file.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from smtp import smtp_running
from typer.testing import CliRunner

from consult.cli.main import app
from consult.project import DATABASE_ENV, init_project
from consult.store import fielding, open_store

runner = CliRunner()
# The implicit-TLS server is told that a login needs no STARTTLS (it is TLS already); aiosmtpd
# warns about that setting, which is right for a plain port and wrong here.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Requiring AUTH while not requiring TLS:UserWarning")
USER, PASSWORD, PASSWORD_ENV = "coordinator", "correct horse battery staple", "RELAY_SECRET"


# --------------------------------------------------------------------------- certificate


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for 127.0.0.1, valid for a day."""
    folder = tmp_path_factory.mktemp("tls")
    made = Certificate(folder / "cert.pem", folder / "key.pem")
    try:
        _with_cryptography(made)
    except ImportError:
        if shutil.which("openssl") is None:
            pytest.skip("needs the cryptography package or the openssl command")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(made.key),
                        "-out", str(made.cert), "-days", "1", "-subj", "/CN=consult test relay",
                        "-addext", "subjectAltName=IP:127.0.0.1",
                        "-addext", "keyUsage=critical,digitalSignature,keyCertSign",
                        "-addext", "extendedKeyUsage=serverAuth"],
                       check=True, capture_output=True)
    return made


def _with_cryptography(made: Certificate) -> None:
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "consult test relay")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, True, False, False,
                                         False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    made.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    made.key.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))


# --------------------------------------------------------------------------- the server


@dataclass
class Relay:
    """An aiosmtpd handler and authenticator: keeps messages, how each came, who logged in."""

    received: list[EmailMessage] = field(default_factory=list)
    encrypted: list[bool] = field(default_factory=list)
    logins: list[tuple[str, bool]] = field(default_factory=list)

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                     auth_data: Any) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        ok = (auth_data.login.decode(), auth_data.password.decode()) == (USER, PASSWORD)
        self.logins.append((auth_data.login.decode(), ok))
        return AuthResult(success=ok, handled=False)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(message)
        self.encrypted.append(server.transport.get_extra_info("ssl_object") is not None)
        return "250 Message accepted for delivery"


@dataclass
class Server:
    relay: Relay
    port: int


def _serve(certificate: Certificate, *, implicit: bool) -> Iterator[Server]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate.cert, certificate.key)
    relay = Relay()
    # aiosmtpd counts only STARTTLS as TLS when it decides to offer AUTH: on an implicit-TLS
    # port it must be told that a login needs nothing more (the handler checks the socket).
    tls: dict[str, Any] = ({"ssl_context": context, "auth_require_tls": False} if implicit else
                           {"tls_context": context, "require_starttls": True,
                            "auth_require_tls": True})
    with smtp_running(relay, authenticator=relay.authenticate, auth_required=True,
                      **tls) as port:
        yield Server(relay, port)


@pytest.fixture
def starttls_server(certificate: Certificate) -> Iterator[Server]:
    yield from _serve(certificate, implicit=False)


@pytest.fixture
def implicit_tls_server(certificate: Certificate) -> Iterator[Server]:
    yield from _serve(certificate, implicit=True)


# --------------------------------------------------------------------------- the project


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A consultation with one seed in wave 0, its password in $RELAY_SECRET."""
    monkeypatch.delenv(DATABASE_ENV, raising=False)
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    root = tmp_path / "consultation"
    init_project(root, title="Test consultation")
    base = ["--project", str(root)]
    assert runner.invoke(app, [*base, "seeds", "add", "--name", "Ana Lima", "--email",
                               "ana@example.org"]).exit_code == 0
    assert runner.invoke(app, [*base, "wave", "open", "0"]).exit_code == 0
    return root


def use(root: Path, port: int, security: str, user: str = USER) -> None:
    settings = root / "consult.toml"
    text = settings.read_text(encoding="utf-8")
    for old, new in (('host = "localhost"', 'host = "127.0.0.1"'), ("port = 25", f"port = {port}"),
                     ('security = "none"', f'security = "{security}"'),
                     ('user = ""', f'user = "{user}"'),
                     ('password_env = "CONSULT_SMTP_PASSWORD"', f'password_env = "{PASSWORD_ENV}"')):
        assert old in text, old
        text = text.replace(old, new)
    assert PASSWORD not in text
    settings.write_text(text, encoding="utf-8")


def invite(root: Path) -> Any:
    return runner.invoke(app, ["--project", str(root), "invite", "--send"])


def statuses(root: Path) -> list[str]:
    from consult.project import load_project

    with open_store(load_project(explicit=root).database_url) as store:
        return [m.status for m in fielding.messages(store)]


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_a_login_over_tls_sends_the_invitation(security: str, project: Path,
                                               request: pytest.FixtureRequest,
                                               certificate: Certificate,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    server: Server = request.getfixturevalue(
        "starttls_server" if security == "starttls" else "implicit_tls_server")
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.cert))
    use(project, server.port, security)
    result = invite(project)
    assert result.exit_code == 0, result.output
    assert f"Sent 1 message(s) via smtp://127.0.0.1:{server.port}\n" in result.stdout
    assert server.relay.logins == [(USER, True)]
    assert server.relay.encrypted == [True]
    assert [str(m["To"]) for m in server.relay.received] == ["Ana Lima <ana@example.org>"]
    assert statuses(project) == ["sent"]


def test_a_wrong_password_sends_nothing_and_keeps_the_message(
        project: Path, starttls_server: Server, certificate: Certificate,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.cert))
    monkeypatch.setenv(PASSWORD_ENV, "wrong")
    use(project, starttls_server.port, "starttls")
    result = invite(project)
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"Error: the SMTP server 127.0.0.1:{starttls_server.port} refused user 'coordinator' "
        "(535 ")
    assert result.stderr.endswith(f"check [smtp] user and the password in ${PASSWORD_ENV}\n")
    assert set(starttls_server.relay.logins) == {(USER, False)}  # smtplib tries each mechanism
    assert starttls_server.relay.received == []
    assert statuses(project) == ["queued"]
    # With the right password the same message goes, once.
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    assert invite(project).exit_code == 0
    assert len(starttls_server.relay.received) == 1 and statuses(project) == ["sent"]


def test_an_untrusted_certificate_stops_before_anything_is_sent(
        project: Path, implicit_tls_server: Server, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "no-authority.pem"))
    use(project, implicit_tls_server.port, "ssl")
    result = invite(project)
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: the SMTP server 127.0.0.1:{implicit_tls_server.port} presented a certificate "
        "this computer does not trust (self-signed certificate); if it comes "
        "from your organisation's own authority, point the environment variable SSL_CERT_FILE "
        "at that authority's certificate (PEM); nothing was sent and every message stays "
        "queued\n")
    assert implicit_tls_server.relay.logins == [] and statuses(project) == ["queued"]


def test_a_login_without_tls_is_refused_with_a_hint(
        project: Path, starttls_server: Server) -> None:
    use(project, starttls_server.port, "none")
    result = invite(project)
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: the SMTP server 127.0.0.1:{starttls_server.port} does not offer what [smtp] "
        "asks (SMTP AUTH extension not supported by server.); check whether it needs TLS "
        'before a login: [smtp] security = "starttls" or "ssl"; nothing was sent and every '
        "message stays queued\n")
    assert starttls_server.relay.logins == [] and statuses(project) == ["queued"]
