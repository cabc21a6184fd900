"""Real servers on loopback for tests: an HTTP server with a route table, the fixture site,
an SMTP sink (aiosmtpd) and a webhook receiver. Nothing here is a mock: the code under
test talks to them over real sockets."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # Seconds to wait before answering (a slow server).
    delay: float = 0.0
    # Trickle: send `trickle_bytes` at a time with `trickle` seconds between (0: all at once).
    trickle: float = 0.0
    trickle_bytes: int = 1
    # `body` is the whole raw response, status line and headers included (for broken or
    # trickled headers); `status` and `headers` are then ignored.
    raw: bool = False


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Handler = Callable[[RecordedRequest], Response]


class _QuietHTTPServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client killed mid-request (the crash tests do that on purpose) is not a server error.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class LocalHTTPServer:
    """A threaded HTTP server on 127.0.0.1 whose routes tests change at will."""

    def __init__(self, port: int = 0) -> None:
        self.routes: dict[str, Response | Handler] = {}
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        outer = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                if len(body) < length:
                    return  # the client went away mid-request (killed): nothing was delivered
                request = RecordedRequest(
                    self.command,
                    self.path,
                    {key.lower(): value for key, value in self.headers.items()},
                    body,
                )
                with outer._lock:
                    outer.requests.append(request)
                    route = outer.routes.get(self.path.split("?", 1)[0])
                response = Response(404, b"not found") if route is None else route
                if callable(response):
                    response = response(request)
                if response.delay:
                    time.sleep(response.delay)
                try:
                    if response.raw:
                        self.close_connection = True
                        self._write(response.body, response)
                        return
                    self.send_response(response.status)
                    headers = {"Content-Length": str(len(response.body)), **response.headers}
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    if self.command != "HEAD":
                        self._write(response.body, response)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _write(self, data: bytes, response: Response) -> None:
                if not response.trickle:
                    self.wfile.write(data)
                    return
                self.wfile.flush()
                for start in range(0, len(data), response.trickle_bytes):
                    self.connection.sendall(data[start : start + response.trickle_bytes])
                    time.sleep(response.trickle)

            do_GET = do_POST = do_HEAD = _serve

        # A fixed port lets a test take a server down and bring it back at the same address.
        self._server = _QuietHTTPServer(("127.0.0.1", port), RequestHandler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="test-http", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def start(self) -> LocalHTTPServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add(self, path: str, response: Response | Handler) -> str:
        with self._lock:
            self.routes[path] = response
        return self.url(path)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        with self._lock:
            return [request for request in self.requests if request.path.split("?", 1)[0] == path]


class FixtureSite(LocalHTTPServer):
    """Serves fixtures/site.json's routes, rewriting the fixtures' placeholder host to this server."""

    def __init__(self) -> None:
        super().__init__()
        manifest = json.loads((FIXTURES / "site.json").read_text())
        self.placeholder = manifest["base_url"]
        for path, spec in manifest["routes"].items():
            self.add_fixture(path, spec["file"], spec["content_type"])

    def add_fixture(self, path: str, file: str, content_type: str) -> str:
        def serve(_request: RecordedRequest) -> Response:
            body = (FIXTURES / file).read_bytes().replace(self.placeholder.encode(), self.base_url.encode())
            return Response(200, body, {"Content-Type": content_type})

        return self.add(path, serve)


@dataclass
class ReceivedMail:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def part(self, content_type: str) -> str:
        for part in self.message.walk():
            if part.get_content_type() == content_type:
                return str(part.get_content())
        raise KeyError(content_type)


class SmtpSink:
    """A real SMTP server (aiosmtpd) that keeps every message it accepts.

    Optionally: STARTTLS (`tls_context`) or implicit TLS (`ssl_context`), AUTH with one
    user (`credentials`, required when given), refused recipients (`refuse`: address ->
    reply), and a delay before accepting each message (a slow server).
    """

    def __init__(
        self,
        port: int | None = None,
        *,
        tls_context: ssl.SSLContext | None = None,
        ssl_context: ssl.SSLContext | None = None,
        credentials: tuple[str, str] | None = None,
        refuse: dict[str, str] | None = None,
        delay: float = 0.0,
    ) -> None:
        self.messages: list[ReceivedMail] = []
        self.port = port or free_port()
        self.logins: list[str] = []
        self.refuse = refuse or {}
        self.delay = delay
        options: dict[str, Any] = {}
        if tls_context is not None:
            options.update(tls_context=tls_context, require_starttls=True)
        if ssl_context is not None:
            options.update(ssl_context=ssl_context)
        if credentials is not None:
            options.update(
                authenticator=self._authenticator(credentials),
                auth_required=True,
                # Implicit TLS is TLS too, but aiosmtpd only knows about STARTTLS.
                auth_require_tls=ssl_context is None,
            )
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, **options)

    def _authenticator(self, credentials: tuple[str, str]) -> Callable[..., AuthResult]:
        def authenticate(
            _server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any
        ) -> AuthResult:
            user = data.login.decode() if isinstance(data, LoginPassword) else ""
            password = data.password.decode() if isinstance(data, LoginPassword) else ""
            ok = (user, password) == credentials
            if ok:
                self.logins.append(user)
            return AuthResult(success=ok, handled=False)

        return authenticate

    async def handle_RCPT(
        self, _server: Any, _session: Any, envelope: Any, address: str, _options: list[str]
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def start(self) -> SmtpSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()


class WebhookReceiver(LocalHTTPServer):
    """Accepts POSTs at /hook with a status the test chooses, and keeps them."""

    PATH = "/hook"

    def __init__(self, port: int = 0, delay: float = 0.0) -> None:
        super().__init__(port)
        self.status = 200
        self.add(
            self.PATH,
            lambda _request: Response(self.status, b"{}", {"Content-Type": "application/json"}, delay=delay),
        )

    @property
    def hook_url(self) -> str:
        return self.url(self.PATH)

    @property
    def deliveries(self) -> list[RecordedRequest]:
        return [request for request in self.requests_to(self.PATH) if request.method == "POST"]

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(request.body) for request in self.deliveries]
