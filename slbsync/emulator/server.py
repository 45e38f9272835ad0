"""The emulator's HTTP server: the SLB OpenAPI on the wire, plus a control API.

A request is read the way the cloud's gateway reads it (POST or GET,
parameters in the query string or a form body sent with Content-Length or
chunked, the action from ``x-acs-action`` or ``Action``), its signature is
verified, faults are applied, and the handler registered for the action
runs under the store's lock. A write is persisted before it is answered.

Two details keep a call well under a millisecond: every connection sets
TCP_NODELAY, and a response goes out in ONE send (headers and body
together). A keep-alive client that receives headers and body in two
segments waits on its delayed acknowledgement, about 40 ms per call.

Paths under ``/_emulator/`` are the unsigned control API (``control.py``),
answered only to loopback clients.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from slbsync.emulator import registry
from slbsync.emulator.calls import ANSWERED, LOST_RESPONSE, TIMED_OUT, CallLog
from slbsync.emulator.coverage import SLB_ACTIONS
from slbsync.emulator.errors import (
    ApiError,
    InternalError,
    MissingParameter,
    NotEmulated,
)
from slbsync.emulator.faults import Decision, Faults, FaultSettings
from slbsync.emulator.params import Params
from slbsync.emulator.signature import (
    DEFAULT_ACCESS_KEY_ID,
    DEFAULT_ACCESS_KEY_SECRET,
    NonceCache,
    SignedRequest,
    verify,
)
from slbsync.emulator.state.store import Store

log = logging.getLogger(__name__)

HOSTS = {
    registry.SLB_VERSION: "slb.aliyuncs.com",
    registry.ECS_VERSION: "ecs.aliyuncs.com",
}
PRODUCTS = {registry.SLB_VERSION: "Slb", registry.ECS_VERSION: "Ecs"}
CONTROL_PREFIX = "/_emulator/"
_REASONS = {
    200: "OK",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    449: "Retry With",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
}


class InvalidVersion(ApiError):
    code = "InvalidVersion"
    status = 400

    def __init__(self, version: str) -> None:
        super().__init__(
            message=f'Specified parameter Version "{version}" is not valid.'
        )


class ServerStats:
    """Time spent inside the server per API call, for the cost benchmark.

    ``handling`` runs from the request line read to the answer's bytes being
    ready; ``writing`` is the socket send, which mostly measures the kernel
    and, in a process shared with its client, waiting for the GIL.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls = 0
        self.handling = 0.0
        self.writing = 0.0

    def add(self, handling: float, writing: float) -> None:
        with self._lock:
            self.calls += 1
            self.handling += handling
            self.writing += writing

    def summary(self) -> dict[str, Any]:
        with self._lock:
            calls = self.calls or 1
            return {
                "calls": self.calls,
                "server_ms_per_call": self.handling / calls * 1000,
                "write_ms_per_call": self.writing / calls * 1000,
            }

    def clear(self) -> None:
        with self._lock:
            self.calls = 0
            self.handling = 0.0
            self.writing = 0.0


class EmulatorServer:
    """One emulator: its state, keys, faults and call log, served over HTTP."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        state_path: str | Path | None = None,
        access_keys: Mapping[str, str] | None = None,
        region: str = "cn-hangzhou",
        faults: FaultSettings | Mapping[str, Any] | None = None,
        strict_backends: bool = False,
        load_balancer_quota: int = 60,
        backend_server_quota: int = 200,
    ) -> None:
        # Importing the actions package registers every handler.
        import slbsync.emulator.actions  # noqa: F401

        self.store = Store(state_path)
        self._replay(self.store.pending_journal)
        self.store.strict_backends = strict_backends
        self.store.load_balancer_quota = load_balancer_quota
        self.store.backend_server_quota = backend_server_quota
        self._initial_quotas = (load_balancer_quota, backend_server_quota)
        self.access_keys = dict(
            access_keys or {DEFAULT_ACCESS_KEY_ID: DEFAULT_ACCESS_KEY_SECRET}
        )
        self.region = region
        if faults is not None and not isinstance(faults, FaultSettings):
            faults = FaultSettings.from_json(dict(faults))
        self.faults = Faults(faults)
        self.calls = CallLog()
        self.stats = ServerStats()
        self.nonces = NonceCache()
        self.stopping = threading.Event()
        self._httpd = _HttpServer((host, port), _RequestHandler)
        self._httpd.emulator = self
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return str(self._httpd.server_address[0])

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"

    def start(self) -> EmulatorServer:
        """Serve on a background thread; return at once."""
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"emulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def stop(self) -> None:
        """Stop serving, drop open connections and release the port."""
        self.stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
        self._httpd.close_all_connections()
        self._httpd.server_close()
        self.store.close()

    def reset(self) -> None:
        """Forget all resources, calls and faults."""
        self.store.reset()
        store = self.store
        store.load_balancer_quota, store.backend_server_quota = self._initial_quotas
        self.calls.clear()
        self.faults.configure(FaultSettings())

    def call(
        self,
        action: str,
        version: str,
        params: Params,
        request_id: str,
        decision: Decision | None = None,
    ) -> dict[str, Any]:
        """Run one signed call's action; return the body without RequestId."""
        if version not in HOSTS:
            raise InvalidVersion(version)
        spec = registry.find_action(version, action)
        if spec is None and version == registry.SLB_VERSION and action in SLB_ACTIONS:
            raise NotEmulated(f"Action {action}")
        if spec is None:
            raise ApiError(
                "InvalidAction.NotFound",
                f'Specified api "{action}" is not found, please check '
                "your url and method.",
                404,
            )
        registry.refuse_not_emulated(spec, params)
        with self.store.lock:
            ctx = registry.ActionContext(
                action=action,
                params=params,
                store=self.store,
                request_id=request_id,
                region_id=params.raw("RegionId") or self.region,
                now=time.time(),
                configuring_seconds=self.faults.configuring_seconds,
            )
            body = spec.handler(ctx)
            sequence = 0
            if spec.writes:
                sequence = self.store.record_write(_journal_entry(ctx, version))
        # On disk before it is answered; synced outside the lock, so that
        # concurrent writers share one fsync.
        self.store.commit(sequence)
        # Only a write can lose its answer: it leaves a change the client
        # must settle by reading. A read has nothing to commit; its answer
        # dropped would look to a client like a timeout (timeout_rate).
        if decision is not None and decision.lose_response and spec.writes:
            raise _LoseResponse()
        return body

    def _replay(self, entries: list[dict[str, Any]]) -> None:
        """Redo the journalled writes made after the last snapshot."""
        if not entries:
            return
        store = self.store
        # Replayed writes were accepted once: settings given at this start
        # (a lower quota, strict backends) must not refuse them now.
        settings = (
            store.strict_backends,
            store.load_balancer_quota,
            store.backend_server_quota,
        )
        store.strict_backends = False
        store.load_balancer_quota = store.backend_server_quota = 10**9
        try:
            with store.lock:
                for entry in entries:
                    _replay_entry(store, entry)
        finally:
            (
                store.strict_backends,
                store.load_balancer_quota,
                store.backend_server_quota,
            ) = settings
        log.info("state: replayed=%d journalled writes", len(entries))
        store.save()


_UNJOURNALLED = frozenset(
    {
        "AccessKeyId",
        "Signature",
        "SignatureMethod",
        "SignatureNonce",
        "SignatureVersion",
        "Timestamp",
        "SecurityToken",
        "Format",
    }
)


def _journal_entry(ctx: registry.ActionContext, version: str) -> dict[str, Any]:
    """What replaying a write needs: everything its handler read."""
    params = {
        name: ctx.params.raw(name) or ""
        for name in ctx.params.names()
        if name not in _UNJOURNALLED
    }
    return {
        "action": ctx.action,
        "version": version,
        "params": params,
        "request_id": ctx.request_id,
        "region_id": ctx.region_id,
        "now": ctx.now,
        "configuring_seconds": ctx.configuring_seconds,
    }


def _replay_entry(store: Store, entry: dict[str, Any]) -> None:
    spec = registry.find_action(entry["version"], entry["action"])
    if spec is None:
        log.warning("state: cannot replay action=%s, not emulated", entry["action"])
        return
    ctx = registry.ActionContext(
        action=entry["action"],
        params=Params(entry["params"]),
        store=store,
        request_id=entry["request_id"],
        region_id=entry["region_id"],
        now=entry["now"],
        configuring_seconds=entry["configuring_seconds"],
    )
    try:
        spec.handler(ctx)
    except ApiError as err:
        log.warning("state: replay of action=%s refused: %s", entry["action"], err)


class _LoseResponse(Exception):
    """The change is committed; the connection drops without an answer."""


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # Many clients connect at once (a parallel apply, the concurrency test);
    # the default backlog of 5 would make some wait a SYN retry (1 s).
    request_queue_size = 128
    emulator: EmulatorServer

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def track(self, connection: socket.socket, open_: bool) -> None:
        with self._connections_lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def close_all_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            _drop(connection)


def _drop(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)


@dataclass
class _Call:
    """What one API request asks for, as read from the wire."""

    action: str
    version: str
    params: dict[str, str] = field(default_factory=dict)


def _outcome_of(answer: dict[str, Any] | ApiError | None) -> str:
    if answer is None:
        return TIMED_OUT
    if isinstance(answer, ApiError):
        return answer.code
    return ANSWERED


def new_request_id() -> str:
    return str(uuid.uuid4()).upper()


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "slbsync-emulator"
    timeout = 300  # an idle keep-alive connection is closed after this
    server: _HttpServer
    _write_seconds = 0.0

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, True)

    def finish(self) -> None:
        self.server.track(self.connection, False)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http: client=%s %s", self.client_address[0], format % args)

    def _dispatch(self) -> None:
        started = time.perf_counter()
        try:
            body = self._read_body()
        except ValueError as err:
            self._send(400, {"Code": "InvalidRequest", "Message": str(err)})
            self.close_connection = True
            return
        split = urlsplit(self.path)
        if split.path.startswith(CONTROL_PREFIX) or split.path == CONTROL_PREFIX[:-1]:
            self._control(split.path, body)
            return
        if self.command not in ("GET", "POST"):
            error = ApiError(
                "UnsupportedHTTPMethod", "Specified HTTP method is not supported.", 403
            )
            self._answer(error, new_request_id(), "")
            return
        self._api(split.query, body, started)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _dispatch

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        if not length.isdigit():
            raise ValueError(f"Content-Length {length!r} is not a number")
        return self.rfile.read(int(length))

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            size_line = self.rfile.readline(1024).split(b";")[0].strip()
            size = int(size_line, 16)
            if size == 0:
                # Trailers, if any, end with an empty line.
                while self.rfile.readline(1024).strip():
                    pass
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline(8)

    def _control(self, path: str, body: bytes) -> None:
        from slbsync.emulator.control import handle_control

        status, payload = handle_control(
            self.server.emulator, self.command, path, body, self.client_address[0]
        )
        self._send(status, payload)

    def _api(self, query_string: str, body: bytes, started: float) -> None:
        emulator = self.server.emulator
        request_id = new_request_id()
        call = _Call(
            self.headers.get("x-acs-action", ""), self.headers.get("x-acs-version", "")
        )
        answer: dict[str, Any] | ApiError | None
        recorded = False
        try:
            self._read_call(call, query_string, body)
            emulator.calls.record(call.action)
            recorded = True
            decision = emulator.faults.decide(call.action)
            answer = self._with_faults(decision, call, request_id)
        except _LoseResponse:
            log.info("call: action=%s fault=lost-response", call.action)
            emulator.calls.record_outcome(call.action, LOST_RESPONSE)
            self._hang_up()
            return
        except ApiError as err:
            answer = err
        except Exception:
            log.exception("call: action=%s failed inside the emulator", call.action)
            answer = InternalError()
        if recorded:
            emulator.calls.record_outcome(call.action, _outcome_of(answer))
        if answer is None:  # a timed-out call: nothing is sent
            return
        self._answer(answer, request_id, call.version)
        total = time.perf_counter() - started
        emulator.stats.add(total - self._write_seconds, self._write_seconds)

    def _read_call(self, call: _Call, query_string: str, body: bytes) -> None:
        """Fill ``call`` from the request, and check its signature."""
        query = dict(parse_qsl(query_string, keep_blank_values=True))
        form = self._form(body)
        call.params = {**query, **form}
        call.action = call.action or call.params.get("Action", "")
        call.version = call.version or call.params.get("Version", "")
        if not call.action:
            raise MissingParameter("Action")
        if not call.version:
            raise MissingParameter("Version")
        if call.params.get("Format", "JSON").upper() != "JSON":
            raise NotEmulated(f"Format={call.params['Format']} (answers are JSON)")
        headers = {name.lower(): value for name, value in self.headers.items()}
        emulator = self.server.emulator
        verify(
            SignedRequest(self.command, headers, query, form, body),
            emulator.access_keys,
            emulator.nonces,
            time.time(),
        )

    def _with_faults(
        self, decision: Decision, call: _Call, request_id: str
    ) -> dict[str, Any] | ApiError | None:
        emulator = self.server.emulator
        if decision.latency_seconds:
            emulator.stopping.wait(decision.latency_seconds)
        if decision.refusal is not None:
            log.info("call: action=%s fault=%s", call.action, decision.refusal.code)
            return decision.refusal
        if decision.timeout_seconds is not None:
            log.info("call: action=%s fault=timeout", call.action)
            emulator.stopping.wait(decision.timeout_seconds)
            self._hang_up()
            return None
        return emulator.call(
            call.action, call.version, Params(call.params), request_id, decision
        )

    def _form(self, body: bytes) -> dict[str, str]:
        if not body:
            return {}
        content_type = self.headers.get("Content-Type", "")
        if content_type and "x-www-form-urlencoded" not in content_type:
            return {}
        text = body.decode("utf-8", errors="replace")
        return dict(parse_qsl(text, keep_blank_values=True))

    def _answer(
        self, answer: dict[str, Any] | ApiError, request_id: str, version: str
    ) -> None:
        if isinstance(answer, ApiError):
            log.debug("call: request=%s refused=%s", request_id, answer.code)
            host = HOSTS.get(version, HOSTS[registry.SLB_VERSION])
            product = PRODUCTS.get(version, "Slb")
            payload = {
                "RequestId": request_id,
                "HostId": host,
                "Code": answer.code,
                "Message": answer.message,
                "Recommend": "https://api.aliyun.com/troubleshoot?q="
                f"{answer.code}&product={product}&requestId={request_id}",
            }
            self._send(answer.status, payload, request_id)
            return
        self._send(200, {"RequestId": request_id, **answer}, request_id)

    def _send(self, status: int, payload: Any, request_id: str | None = None) -> None:
        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        lines = [
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}",
            "Content-Type: application/json;charset=utf-8",
            f"Content-Length: {len(body)}",
        ]
        if request_id:
            lines.append(f"x-acs-request-id: {request_id}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        # One send for headers and body; see the module docstring.
        started = time.perf_counter()
        self.wfile.write(head + body)
        self._write_seconds = time.perf_counter() - started

    def _hang_up(self) -> None:
        self.close_connection = True
        _drop(self.connection)
