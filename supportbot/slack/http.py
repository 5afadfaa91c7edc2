"""HTTP mode: the bolt app behind a small threaded WSGI server.

``POST /slack/events`` takes events, interactions and slash commands (bolt verifies the
signature); ``GET /healthz`` answers 200 with the queue depth, for load balancers. Each
request gets its own thread, so a slow client never holds up Slack's other requests; the
listeners ack in milliseconds and leave the work to the bot's pools.
"""

from __future__ import annotations

import json
import logging
import socketserver
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Self
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


class SlackWsgiApp:
    """The WSGI application: bolt at ``/slack/events`` and a health check."""

    def __init__(self, app: App, health: Callable[[], dict[str, Any]]) -> None:
        self._slack = SlackRequestHandler(app, path=EVENTS_PATH)
        self._health = health

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "GET" and environ.get("PATH_INFO") == HEALTH_PATH:
            body = json.dumps({"ok": True, **self._health()}).encode()
            start_response(
                "200 OK",
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [body]
        return self._slack(environ, start_response)


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


class HttpServer:
    """A threaded WSGI server for :class:`SlackWsgiApp` (``port=0``: any free port)."""

    def __init__(self, app: SlackWsgiApp, *, host: str, port: int) -> None:
        self._server = make_server(
            host, port, app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
        )
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_port)

    @property
    def url(self) -> str:
        """The Slack endpoint, e.g. ``http://127.0.0.1:3000/slack/events``."""
        host = self._server.server_address[0]
        host = host.decode() if isinstance(host, bytes) else str(host)
        return f"http://{host}:{self.port}{EVENTS_PATH}"

    def start(self) -> Self:
        """Serve on a background thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="slack-http",
            daemon=True,
        )
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
