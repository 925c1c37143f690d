"""Real HTTP and HTTPS servers on 127.0.0.1 for tests, each path answered by a function.

A route gets the `Exchange` (the request as received, and the connection) and writes what it likes:
a well-formed response through `reply`, or slow, lying or broken bytes through `write`. Every
connection is closed after one response. Nothing here listens anywhere but 127.0.0.1.
"""

from __future__ import annotations

import datetime
import http
import http.server
import ipaddress
import socket
import socketserver
import ssl
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

LOOPBACK = "127.0.0.1"

Route = Callable[["Exchange"], None]


@dataclass(frozen=True)
class Seen:
    """A request a server received."""

    target: str
    headers: dict[str, str]  # names lower-cased


class Exchange:
    """One request, and the connection to answer it on."""

    def __init__(self, handler: _Handler, stopping: threading.Event) -> None:
        self._handler = handler
        self._stopping = stopping
        self.target = handler.path
        self.headers = {name.lower(): value for name, value in handler.headers.items()}

    def reply(
        self, status: int, body: bytes = b"", headers: Sequence[tuple[str, str]] = (), *, length: bool = True
    ) -> None:
        """A response with `Connection: close`, and a Content-Length unless `length` is False or one is given."""
        lines = [f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}"]
        lines += [f"{name}: {value}" for name, value in headers]
        if length and not any(name.lower() == "content-length" for name, _ in headers):
            lines.append(f"Content-Length: {len(body)}")
        lines.append("Connection: close")
        self.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)

    def write(self, data: bytes) -> None:
        self._handler.wfile.write(data)
        self._handler.wfile.flush()

    def pause(self, seconds: float) -> bool:
        """Wait; False when the server is shutting down and the route should stop."""
        return not self._stopping.wait(seconds)


def answer(status: int = 200, body: bytes = b"", headers: Sequence[tuple[str, str]] = ()) -> Route:
    return lambda exchange: exchange.reply(status, body, headers)


def redirect(location: str, status: int = 302) -> Route:
    return answer(status, b"moved", [("Location", location)])


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10  # a stuck client cannot hold a server thread for ever
    server: _Server

    def setup(self) -> None:
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(self.timeout)
            self.request.do_handshake()
        super().setup()

    def handle(self) -> None:
        self.handle_one_request()
        self.close_connection = True

    def do_GET(self) -> None:
        owner = self.server.owner
        exchange = Exchange(self, owner.stopping)
        owner.seen.append(Seen(self.path, exchange.headers))
        route = owner.routes.get(urlsplit(self.path).path)
        if route is None:
            exchange.reply(404, b"no such route")
        else:
            route(exchange)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, owner: LoopbackServer) -> None:
        self.owner = owner
        super().__init__((LOOPBACK, 0), _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        if self.owner.tls is not None:
            sock = self.owner.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up, fail the TLS handshake or time out are part of the tests: stay quiet."""


class LoopbackServer:
    """A threaded HTTP/1.1 server on 127.0.0.1 and a free port; TLS when given a server context."""

    def __init__(self, routes: Mapping[str, Route], *, tls: ssl.SSLContext | None = None) -> None:
        self.routes = dict(routes)
        self.tls = tls
        self.seen: list[Seen] = []
        self.sni: list[str | None] = []
        self.stopping = threading.Event()
        if tls is not None:
            tls.sni_callback = self._record_sni
        self._server = _Server(self)
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def url(self, path: str = "/", host: str = LOOPBACK) -> str:
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}{path}"

    def _record_sni(self, _sslobj: ssl.SSLObject, name: str | None, _context: ssl.SSLContext) -> None:
        self.sni.append(name)

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


class RawServer:
    """A bare TCP listener on 127.0.0.1: `serve` gets each accepted socket (for misbehaviour below HTTP)."""

    def __init__(self, serve: Callable[[socket.socket, threading.Event], None]) -> None:
        self._serve = serve
        self.stopping = threading.Event()
        self._listener = socket.create_server((LOOPBACK, 0))
        self._listener.settimeout(0.05)
        self.port: int = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._clients: list[socket.socket] = []

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._clients.append(client)
            threading.Thread(target=self._serve, args=(client, self.stopping), daemon=True).start()

    def __enter__(self) -> RawServer:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stopping.set()
        self._thread.join(5)
        self._listener.close()
        for client in self._clients:
            client.close()


# --- throwaway certificates ----------------------------------------------------------------------


@dataclass(frozen=True)
class Certificate:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    names: tuple[str, ...] = field(default=())

    @property
    def pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode("ascii")

    def server_context(self, folder: Path) -> ssl.SSLContext:
        """A server-side context presenting this certificate (written to `folder`, as ssl needs files)."""
        stem = folder / f"cert-{self.cert.serial_number}"
        cert_file, key_file = stem.with_suffix(".pem"), stem.with_suffix(".key")
        cert_file.write_text(self.pem)
        key_file.write_bytes(
            self.key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts this certificate (as a CA, or as itself) and nothing else."""
        return ssl.create_default_context(cadata=self.pem)


def _subject_names(names: Sequence[str]) -> list[x509.GeneralName]:
    out: list[x509.GeneralName] = []
    for name in names:
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            out.append(x509.DNSName(name))
    return out


def issue(names: Sequence[str], *, issuer: Certificate | None = None, ca: bool = False) -> Certificate:
    """A certificate for `names` (DNS names or IP addresses): self-signed, or signed by `issuer`."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0] if names else "newsflow test CA")])
    now = datetime.datetime.now(datetime.UTC)
    signer_key = issuer.key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_key.public_key()),
            critical=False,
        )
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(_subject_names(names)), critical=False)
    return Certificate(builder.sign(signer_key, hashes.SHA256()), key, tuple(names))
