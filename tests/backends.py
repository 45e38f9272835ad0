"""Small real backend servers for the proxy tests (nginx and HAProxy).

Each backend listens on 127.0.0.1 on a free port, serves from daemon threads
and says who it is, so a test can count where a proxy sent each request:

- ``start_http_backend("b1")`` answers every GET with the body ``b1``
  (``?slow=N`` sleeps N seconds first, to hold a connection open). A GET
  carrying ``Upgrade:`` gets ``101 Switching Protocols`` and then an echo of
  every line, like a WebSocket that stays open.
- ``start_tcp_backend("t1")`` sends ``hello from t1\\n`` on connect and then
  echoes every line until the client leaves.

``Backend.active_connections`` counts connections open right now (HTTP:
per connection, not per request); ``Backend.stop()`` closes the listener and
every open connection, so clients see EOF at once.

Import as ``from tests.backends import start_http_backend`` (the test
packages under ``tests/targets/`` carry ``__init__.py`` files).
"""

from __future__ import annotations

import contextlib
import http.client
import http.server
import socket
import socketserver
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable

MAX_SLOW_SECONDS = 60.0
"""Upper bound for ``?slow=N``, so a typo cannot hang a test run."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float = 5.0, host: str = "127.0.0.1") -> None:
    """Return once ``host:port`` accepts a connection; TimeoutError otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError as err:
            if time.monotonic() >= deadline:
                message = f"nothing accepted on {host}:{port} within {timeout}s"
                raise TimeoutError(message) from err
            time.sleep(0.02)


class Backend:
    """A running backend: its name, port and open connections."""

    def __init__(self, name: str, server: socketserver.ThreadingTCPServer) -> None:
        self.name = name
        self.port: int = server.server_address[1]
        self.requests = 0  # HTTP requests answered (HTTP backends only)
        self._server = server
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"backend-{name}",
            daemon=True,
        )

    @property
    def active_connections(self) -> int:
        with self._lock:
            return len(self._open)

    def stop(self) -> None:
        """Stop listening and cut every open connection."""
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            connections = list(self._open)
        for connection in connections:
            # OSError: the client has left already.
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=2)

    def _opened(self, connection: socket.socket) -> None:
        with self._lock:
            self._open.add(connection)

    def _closed(self, connection: socket.socket) -> None:
        with self._lock:
            self._open.discard(connection)

    def _count_request(self) -> None:
        with self._lock:
            self.requests += 1

    def __repr__(self) -> str:
        return f"Backend({self.name!r}, port={self.port})"


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 256
    backend: Backend

    def handle_error(self, request: object, client_address: object) -> None:
        # Proxies reset connections on reloads and drains; that is what the
        # tests provoke, not a fault worth a traceback in the test output.
        error = sys.exc_info()[1]
        if not isinstance(error, ConnectionError):
            super().handle_error(request, client_address)


def _echo_lines(reader: Callable[[], bytes], connection: socket.socket) -> None:
    """Echo each line back until the peer closes or the backend stops."""
    while True:
        try:
            line = reader()
        except OSError:
            return
        if not line:
            return
        try:
            connection.sendall(line)
        except OSError:
            return


class _HttpHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.backend._opened(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.backend._closed(self.connection)

    def do_GET(self) -> None:
        backend = self.server.backend
        backend._count_request()
        if self.headers.get("Upgrade"):
            self._switch_to_echo()
            return
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        slow = float(query.get("slow", ["0"])[0] or 0)
        if slow > 0:
            time.sleep(min(slow, MAX_SLOW_SECONDS))
        body = backend.name.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _switch_to_echo(self) -> None:
        self.send_response(101)
        self.send_header("Upgrade", self.headers["Upgrade"])
        self.send_header("Connection", "Upgrade")
        self.end_headers()
        self.wfile.write(f"hello from {self.server.backend.name}\n".encode())
        self.wfile.flush()
        _echo_lines(self.rfile.readline, self.connection)
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test output quiet


class _TcpHandler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        backend = self.server.backend
        backend._opened(self.connection)
        try:
            self.connection.sendall(f"hello from {backend.name}\n".encode())
            _echo_lines(self.rfile.readline, self.connection)
        except OSError:
            pass  # the client or the proxy cut the connection
        finally:
            backend._closed(self.connection)


def _start(name: str, handler: type[socketserver.BaseRequestHandler]) -> Backend:
    server = _Server(("127.0.0.1", 0), handler)
    backend = Backend(name, server)
    server.backend = backend
    backend._thread.start()
    return backend


def start_http_backend(name: str) -> Backend:
    """An HTTP backend on 127.0.0.1 answering every GET with ``name``."""
    return _start(name, _HttpHandler)


def start_tcp_backend(name: str) -> Backend:
    """A TCP backend on 127.0.0.1: ``hello from NAME``, then a line echo."""
    return _start(name, _TcpHandler)


def http_get(
    port: int,
    path: str = "/",
    source: str | None = None,
    timeout: float = 5.0,
    host: str = "127.0.0.1",
    headers: dict[str, str] | None = None,
) -> str:
    """GET over a fresh connection (from ``source``, e.g. 127.0.0.7); the body."""
    source_address = (source, 0) if source else None
    connection = http.client.HTTPConnection(
        host, port, timeout=timeout, source_address=source_address
    )
    try:
        sent = {"Connection": "close", **(headers or {})}
        connection.request("GET", path, headers=sent)
        response = connection.getresponse()
        body = response.read().decode()
        if response.status != 200:
            raise RuntimeError(f"GET {path} on :{port} answered {response.status}")
        return body
    finally:
        connection.close()
