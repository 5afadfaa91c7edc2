"""The fake Socket Mode endpoint: the WebSocket ``apps.connections.open`` points at.

Like Slack, it greets each connection with ``hello``, pushes envelopes
(``events_api``, ``interactive``, ``slash_commands``, each with an ``envelope_id``) and expects
the client to acknowledge each one with ``{"envelope_id": ..., "payload": ...}``. Tests push
with :meth:`SocketModeHub.push` (waits for the ack) or :meth:`SocketModeHub.send` (does not).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from supportbot.clock import Clock

if TYPE_CHECKING:
    from .incoming import Incoming


@dataclass(frozen=True)
class SocketAck:
    """A client's acknowledgement of one envelope, with the response payload if it sent one."""

    envelope_id: str
    payload: dict[str, Any] | None
    received_at: datetime


class SocketModeHub:
    """Connected Socket Mode clients, the envelopes pushed to them and their acks."""

    def __init__(
        self,
        clock: Clock,
        consume_ticket: Callable[[str], bool],
        app_id: str,
    ) -> None:
        self._clock = clock
        self._consume_ticket = consume_ticket
        self._app_id = app_id
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connections: list[web.WebSocketResponse] = []
        self._retiring: list[web.WebSocketResponse] = []  # told to disconnect; closed on reconnect
        self._acks: dict[str, SocketAck] = {}
        self._sent: list[dict[str, Any]] = []
        self._changed = threading.Condition()
        self._round_robin = itertools.count()

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    # -- the WebSocket endpoint (runs on the server's event loop) ------------------------------
    async def handle(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if not self._consume_ticket(ticket):
            return web.json_response({"ok": False, "error": "invalid_ticket"}, status=401)
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        with self._changed:
            self._connections.append(ws)
            count = len(self._connections)
            retiring, self._retiring = self._retiring, []
            self._changed.notify_all()
        for old in retiring:  # like Slack: the old connection goes once the new one is up
            await old.close()
        await ws.send_str(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": count,
                    "debug_info": {"host": "fake-applink", "approximate_connection_time": 18060},
                    "connection_info": {"app_id": self._app_id},
                }
            )
        )
        try:
            async for frame in ws:
                if frame.type == WSMsgType.TEXT:
                    self._record_ack(frame.data)
        finally:
            with self._changed:
                if ws in self._connections:
                    self._connections.remove(ws)
                self._changed.notify_all()
        return ws

    def _record_ack(self, data: str) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            return
        if not isinstance(message, dict) or "envelope_id" not in message:
            return
        payload = message.get("payload")
        ack = SocketAck(
            envelope_id=str(message["envelope_id"]),
            payload=payload if isinstance(payload, dict) else None,
            received_at=self._clock.now(),
        )
        with self._changed:
            self._acks[ack.envelope_id] = ack
            self._changed.notify_all()

    async def close_all(self) -> None:
        for ws in list(self._connections):
            await ws.close()

    # -- test side -----------------------------------------------------------------------------
    @property
    def connection_count(self) -> int:
        with self._changed:
            return len(self._connections)

    def wait_connected(self, count: int = 1, timeout: float = 5.0) -> None:
        """Block until at least ``count`` clients are connected."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._connections) >= count, timeout):
                raise TimeoutError(
                    f"{len(self._connections)} Socket Mode connection(s) after {timeout} s, "
                    f"wanted {count}"
                )

    def send(self, incoming: Incoming, *, envelope_id: str | None = None) -> str:
        """Push ``incoming`` as an envelope to one connected client; returns the envelope_id."""
        envelope_id = envelope_id or str(uuid.uuid4())
        envelope = incoming.envelope(envelope_id)
        self._send_raw(envelope)
        return envelope_id

    def push(self, incoming: Incoming, timeout: float = 5.0) -> SocketAck:
        """Push ``incoming`` and wait for the client's ack."""
        return self.wait_for_ack(self.send(incoming), timeout=timeout)

    def request_disconnect(self, reason: str = "refresh_requested") -> None:
        """Send Slack's ``disconnect`` message to every client; they should open a new
        connection, and the old ones are closed when the next connection arrives."""
        with self._changed:
            self._retiring.extend(ws for ws in self._connections if not ws.closed)
        self._broadcast({"type": "disconnect", "reason": reason, "debug_info": {"host": "fake"}})

    def close_connections(self) -> None:
        """Close every client's WebSocket from the server side (clients may reconnect)."""
        if self._loop is not None:
            asyncio.run_coroutine_threadsafe(self.close_all(), self._loop).result(timeout=5)

    def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> SocketAck:
        with self._changed:
            if not self._changed.wait_for(lambda: envelope_id in self._acks, timeout):
                raise TimeoutError(f"no ack for envelope {envelope_id} within {timeout} s")
            return self._acks[envelope_id]

    def acks(self) -> list[SocketAck]:
        with self._changed:
            return list(self._acks.values())

    def envelopes(self) -> list[dict[str, Any]]:
        """Every envelope pushed so far (and ``disconnect`` messages), oldest first."""
        with self._changed:
            return list(self._sent)

    def _target(self) -> web.WebSocketResponse:
        with self._changed:
            open_connections = [ws for ws in self._connections if not ws.closed]
            if not open_connections:
                raise RuntimeError("no Socket Mode client is connected")
            return open_connections[next(self._round_robin) % len(open_connections)]

    def _send_raw(self, message: dict[str, Any]) -> None:
        target = self._target()
        with self._changed:
            self._sent.append(message)
        self._run(target.send_str(json.dumps(message)))

    def _broadcast(self, message: dict[str, Any]) -> None:
        with self._changed:
            targets = [ws for ws in self._connections if not ws.closed]
            self._sent.append(message)
        for ws in targets:
            self._run(ws.send_str(json.dumps(message)))

    def _run(self, coroutine: Any) -> None:
        if self._loop is None:
            coroutine.close()
            raise RuntimeError("the fake Slack server is not running")
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=5)
