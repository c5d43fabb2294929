"""The dashboard's HTTP server: the standard library's threading server in a daemon thread.

Why the standard library and not an ASGI framework with uvicorn: a dashboard starts with
every :class:`~sherpa.Study` that has a store, so starting one must cost next to nothing.
``http.server`` is already imported with Python, binds and serves in about a millisecond,
and needs no event loop; every handler is a short blocking read of the store anyway. The
server runs in a thread of the process that owns the study, so nothing is pickled and the
``spawn`` start method changes nothing. The routes and every security rule live in
:mod:`sherpa.dashboard._app`; this module only moves bytes.
"""

from __future__ import annotations

import contextlib
import errno
import http.server
import json
import secrets
import selectors
import socket
import threading
import urllib.parse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sherpa.dashboard._app import DashboardApp, Response
from sherpa.logging import get_logger

if TYPE_CHECKING:
    from sherpa.dashboard._view import StudyView

__all__ = ["DEFAULT_PORT", "PORT_TRIES", "DashboardServer"]

_logger = get_logger(__name__)

DEFAULT_PORT = 8880
"""Without a port, the dashboard takes the first free one from here..."""

PORT_TRIES = 100
"""...among this many; if all are taken, any free port."""

IDLE_TIMEOUT_S = 30.0
"""A kept-alive connection that sends nothing for this long is closed."""

MAX_BODY = 4096
"""The most request body the server reads (the API takes none)."""


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sherpa-dashboard"
    sys_version = ""
    timeout = IDLE_TIMEOUT_S
    server: _HTTPServer

    def _answer(self) -> None:
        length = self.headers.get("Content-Length")
        if length is not None:
            try:
                size = int(length)
            except ValueError:
                size = -1
            if not 0 <= size <= MAX_BODY:
                self._send(Response(413, b'{"error":"request body too large"}'), close=True)
                return
            self.rfile.read(size)
        response = self.server.app.handle(self.command, self.path, self.headers)
        self._send(response)

    def _send(self, response: Response, *, close: bool = False) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD" and response.status != 304:
            self.wfile.write(response.body)

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _answer

    def send_error(
        self, code: int, message: str | None = None, explain: str | None = None
    ) -> None:
        # Malformed requests (bad request line, oversized headers): JSON, never HTML.
        body = json.dumps({"error": (message or "bad request")[:200]}).encode()
        self.close_connection = True
        # The request line may not have been parsed yet: answer with a status line and the
        # security headers all the same (HTTP/0.9 would send the body alone).
        self.request_version = "HTTP/1.1"
        with contextlib.suppress(OSError):
            self._send(DashboardApp.secured(Response(code, body)), close=True)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        _logger.debug("dashboard: %s %s", self.address_string(), format % args)


class _HTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], app: DashboardApp | None) -> None:
        self.app: DashboardApp = app  # type: ignore[assignment]  # set before serving
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        if self.address_family == socket.AF_INET6:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        _logger.debug("dashboard: connection from %s ended with an error", client_address)

    def close_connections(self) -> None:
        with self.connections_lock:
            open_now = list(self.connections)
        for connection in open_now:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


def _bind(host: str, port: int | None) -> _HTTPServer:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET

    class _Server(_HTTPServer):
        address_family = family

    if port is not None:
        return _Server((host, port), None)
    for candidate in range(DEFAULT_PORT, DEFAULT_PORT + PORT_TRIES):
        try:
            return _Server((host, candidate), None)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
    return _Server((host, 0), None)


class DashboardServer:
    """Serves the dashboard of one stored study from a daemon thread.

    Nothing touches the database until the first request. The server binds when it is
    built and serves after :meth:`start`; :meth:`stop` ends it and closes open connections.

    Args:
        view_factory: Builds the study view on the first request.
        host: The address to listen on; ``127.0.0.1`` unless you mean to share the
            dashboard (anyone who can reach it still needs the token in :attr:`url`).
        port: The port; None takes the first free one from 8880.

    Raises:
        OSError: the address cannot be bound (e.g. the port is taken).
    """

    def __init__(
        self,
        view_factory: Callable[[], StudyView],
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
    ) -> None:
        self.token = secrets.token_urlsafe(24)
        self._httpd = _bind(host, port)
        self.host = host
        self.port = int(self._httpd.server_address[1])
        self.app = DashboardApp(view_factory, self.token, host, self.port)
        self._httpd.app = self.app
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread = threading.Thread(
            target=self._serve, name=f"sherpa-dashboard-{self.port}", daemon=True
        )
        self._stopped = threading.Event()
        self._stop_lock = threading.Lock()

    @property
    def url(self) -> str:
        """The address to open, with the token (``http://127.0.0.1:8880/?token=...``)."""
        host = self.host if self.host not in ("", "0.0.0.0", "::") else socket.gethostname()
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}/?token={urllib.parse.quote(self.token)}"

    @property
    def base_url(self) -> str:
        """The address without the token."""
        return self.url.split("?", 1)[0].rstrip("/")

    def start(self) -> DashboardServer:
        """Serve from a daemon thread; return at once."""
        self._thread.start()
        return self

    def _serve(self) -> None:
        self._httpd.socket.setblocking(False)
        with selectors.DefaultSelector() as selector:
            selector.register(self._httpd.socket, selectors.EVENT_READ, "accept")
            selector.register(self._wake_r, selectors.EVENT_READ, "wake")
            while not self._stopped.is_set():
                for key, _ in selector.select():
                    if key.data == "wake":
                        return
                    self._httpd.handle_request()

    def stop(self) -> None:
        """Stop serving, close every connection and the study view; safe to call twice."""
        with self._stop_lock:
            if self._stopped.is_set():
                return
            self._stopped.set()
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._httpd.server_close()
        self._httpd.close_connections()
        self._wake_r.close()
        self._wake_w.close()
        self.app.close()

    @property
    def running(self) -> bool:
        """Whether the server still serves."""
        return self._thread.is_alive() and not self._stopped.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until :meth:`stop` has been called; return whether it has."""
        return self._stopped.wait(timeout)

    def __repr__(self) -> str:
        return f"DashboardServer({self.base_url!r}, running={self.running})"
