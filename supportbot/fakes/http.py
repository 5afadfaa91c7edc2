"""A small scriptable HTTP server for project-owned fakes of outside services.

Each fake (Ollama, Anthropic) subclasses :class:`FakeHttpServer`, maps ``(method, path)`` to an
endpoint name and supplies a default responder per endpoint. Tests (and the demo) queue
scripted responders per endpoint with :meth:`FakeHttpServer.script`; every request is recorded
as a :class:`RecordedRequest` for assertions. The server listens on 127.0.0.1, port 0, in a
background thread, speaks HTTP/1.1 (keep-alive, ``Content-Length`` or chunked bodies) and is a
context manager.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar, Self
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received: method, path, lower-cased headers, parsed JSON body."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    body: Any
    raw_body: bytes
    endpoint: str | None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class FakeResponse:
    """What the fake sends back. ``stream`` chunks are sent with chunked transfer encoding."""

    status: int = 200
    body: Any = None  # a JSON value, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (to provoke client timeouts)
    stream: Iterable[bytes] | None = None
    content_type: str = "application/json"


Responder = Callable[[RecordedRequest], FakeResponse]


def delayed(seconds: float, responder: Responder) -> Responder:
    """A responder that answers like ``responder`` after ``seconds`` (a slow server)."""

    def respond(request: RecordedRequest) -> FakeResponse:
        response = responder(request)
        response.delay += seconds
        return response

    return respond


def example_from_schema(  # noqa: PLR0911
    schema: Mapping[str, Any], *, root: Mapping[str, Any] | None = None
) -> Any:
    """A small deterministic instance of a JSON schema (what a fake model 'generates').

    Supports what pydantic emits: objects with required properties, ``$ref`` into ``$defs``,
    ``anyOf``, ``enum``, ``const``, arrays, strings, numbers with bounds and booleans.
    """
    root = schema if root is None else root
    if "$ref" in schema:
        ref = str(schema["$ref"])
        target: Any = root
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        return example_from_schema(target, root=root)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    if "anyOf" in schema:
        options = [o for o in schema["anyOf"] if o.get("type") != "null"] or schema["anyOf"]
        return example_from_schema(options[0], root=root)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        properties: Mapping[str, Any] = schema.get("properties", {})
        required = schema.get("required", list(properties))
        return {name: example_from_schema(properties[name], root=root) for name in required}
    if kind == "array":
        return []
    if kind == "string":
        return str(schema.get("title") or schema.get("description") or "text")[:80]
    if kind in ("number", "integer"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        high = schema.get("maximum", schema.get("exclusiveMaximum", low + 1))
        value = (low + high) / 2
        return int(value) if kind == "integer" else value
    if kind == "boolean":
        return False
    return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, owner: FakeHttpServer) -> None:
        self.owner = owner
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and hung up is expected here; stay quiet about it.
        return

    def drop_connections(self) -> None:
        with self.connections_lock:
            connections = list(self.connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60  # an idle keep-alive connection is closed after this many seconds
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def _serve(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        parts = urlsplit(self.path)
        request = RecordedRequest(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            raw_body=raw,
            endpoint=owner.endpoint_for(self.command, parts.path),
        )
        response = owner.dispatch(request)
        if response.delay > 0 and owner.stopping.wait(response.delay):
            self.close_connection = True
            return
        try:
            self._write(response)
        except OSError:  # the client hung up (e.g. it timed out)
            self.close_connection = True

    def _write(self, response: FakeResponse) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.stream is not None:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for chunk in response.stream:
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
            return
        if isinstance(response.body, bytes):
            payload = response.body
        elif response.body is None:
            payload = b""
        else:
            payload = json.dumps(response.body).encode()
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        self.wfile.flush()


class FakeHttpServer:
    """Base of the fakes: routing, per-endpoint response scripts, request recording."""

    #: ``(method, path) -> endpoint name``; subclasses fill it.
    routes: ClassVar[dict[tuple[str, str], str]] = {}

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scripts: dict[str, deque[Responder]] = {}
        self._defaults: dict[str, Responder] = {}
        self._requests: list[RecordedRequest] = []
        self.stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> Self:
        if self._server is not None:
            return self
        self.stopping.clear()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{type(self).__name__}-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self.stopping.set()
        server.shutdown()
        server.drop_connections()
        server.server_close()
        thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not running; use it as a context manager")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321`` (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}"

    # -- scripting -----------------------------------------------------------------
    def script(self, endpoint: str, *responders: Responder) -> None:
        """Queue responders for the next calls of ``endpoint``, one per call, in order."""
        self._check_endpoint(endpoint)
        with self._lock:
            self._scripts.setdefault(endpoint, deque()).extend(responders)

    def set_default(self, endpoint: str, responder: Responder) -> None:
        """Answer ``endpoint`` with ``responder`` whenever its script is empty."""
        self._check_endpoint(endpoint)
        with self._lock:
            self._defaults[endpoint] = responder

    def pending(self, endpoint: str) -> int:
        """Scripted responses not used yet."""
        with self._lock:
            return len(self._scripts.get(endpoint, ()))

    def reset(self) -> None:
        """Forget scripts and recorded requests (defaults set with ``set_default`` stay)."""
        with self._lock:
            self._scripts.clear()
            self._requests.clear()

    # -- recording -----------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def requests_to(self, endpoint: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.endpoint == endpoint]

    # -- dispatch ------------------------------------------------------------------
    def endpoint_for(self, method: str, path: str) -> str | None:
        lookup = "GET" if method == "HEAD" else method
        return self.routes.get((lookup, path.rstrip("/") or "/"))

    def dispatch(self, request: RecordedRequest) -> FakeResponse:
        with self._lock:
            self._requests.append(request)
        endpoint = request.endpoint
        if endpoint is None:
            return self.not_found(request)
        rejected = self.validate(request)
        if rejected is not None:
            return rejected  # the real service rejects it before any model runs
        with self._lock:
            queue = self._scripts.get(endpoint)
            responder = queue.popleft() if queue else self._defaults.get(endpoint)
        if responder is None:
            return self.default_response(endpoint, request)
        return responder(request)

    # -- hooks for subclasses ----------------------------------------------------------
    def validate(self, request: RecordedRequest) -> FakeResponse | None:
        """Reject malformed requests the way the real service does (None = accept)."""
        return None

    def default_response(self, endpoint: str, request: RecordedRequest) -> FakeResponse:
        raise NotImplementedError

    def not_found(self, request: RecordedRequest) -> FakeResponse:
        return FakeResponse(status=404, body=b"404 page not found", content_type="text/plain")

    def _check_endpoint(self, endpoint: str) -> None:
        if endpoint not in set(self.routes.values()):
            known = ", ".join(sorted(set(self.routes.values())))
            raise ValueError(f"{type(self).__name__} has no endpoint {endpoint!r}; known: {known}")
