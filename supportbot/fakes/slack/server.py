"""The fake Slack server: Web API, upload URLs, response_urls and Socket Mode on one port.

Use it as a context manager; point the official client at :attr:`FakeSlack.api_url`::

    with FakeSlack() as slack:
        client = WebClient(token=slack.bot_token, base_url=slack.api_url)
        client.chat_postMessage(channel="C0SUPPORT", text="hi")
        assert slack.last_message("C0SUPPORT").text == "hi"

The server is an aiohttp application on 127.0.0.1 (port 0) in a background thread. Every
call is recorded as a :class:`SlackCall`; failures can be scripted per method
(:meth:`FakeSlack.fail_next`); an optional per-channel rate limit imitates Slack's
"about one message per second per channel".
"""

from __future__ import annotations

import asyncio
import copy
import socket
import threading
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from aiohttp import web

from supportbot.clock import Clock, SystemClock

from .methods import APP_TOKEN_METHODS, METHODS, ApiContext, Args, TokenKind
from .recording import CallLog, Outcome, SlackCall
from .response_urls import respond
from .scripting import ChannelRateLimit, ChannelRateLimiter, ScriptedFailures
from .socket_mode import SocketModeHub
from .state import (
    ApiFailure,
    EphemeralMessage,
    FakeFile,
    JsonDict,
    Message,
    OpenedView,
    SlackState,
)
from .traffic import SlackTraffic
from .workspace import SlackChannel, SlackUser, SlackUsergroup, SlackWorkspace

if TYPE_CHECKING:
    from slack_sdk import WebClient

UPLOAD = "upload"  # the method name recorded for bytes POSTed to an upload URL
RESPONSE_URL = "response_url"  # the method name recorded for posts to a response_url


class FakeSlack:
    """A fake Slack workspace speaking the Web API, Socket Mode and response_url protocols."""

    def __init__(
        self,
        workspace: SlackWorkspace | None = None,
        *,
        clock: Clock | None = None,
        trigger_ttl: float = 3.0,
        channel_rate_limit: ChannelRateLimit | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.workspace = workspace or SlackWorkspace.default()
        self.clock = clock or SystemClock()
        self.state = SlackState(self.workspace, self.clock, trigger_ttl=trigger_ttl)
        self._host = host
        self._port: int | None = None
        self._log = CallLog(self.state.lock, self.clock)
        self._failures = ScriptedFailures()
        self._delays: dict[str, float] = {}
        self._rate_limiter = ChannelRateLimiter(channel_rate_limit)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._startup_error: BaseException | None = None
        self.socket = SocketModeHub(self.clock, self._consume_ticket, self.workspace.app_id)
        self._traffic: SlackTraffic | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> Self:
        if self._thread is not None:
            return self
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._serve, args=(ready,), name="fake-slack", daemon=True
        )
        self._thread.start()
        ready.wait(timeout=10)
        if self._startup_error is not None or self._port is None:
            self._thread.join(timeout=5)
            self._thread = None
            raise RuntimeError("the fake Slack server did not start") from self._startup_error
        self._traffic = SlackTraffic(self.state, self.url)
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=15)
        self._thread = None
        self._loop = None
        self._port = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _serve(self, ready: threading.Event) -> None:
        loop = self._loop
        assert loop is not None
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._open())
        except BaseException as exc:  # reported to start()
            self._startup_error = exc
            ready.set()
            loop.close()
            return
        self.socket.attach(loop)
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self._close())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _open(self) -> None:
        app = web.Application(client_max_size=256 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/upload/v1/{upload_id}", self._handle_upload)
        app.router.add_post("/response_url/{hook_id:.+}", self._handle_response_url)
        app.router.add_get("/link/", self.socket.handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind((self._host, 0))
            sock.listen(512)
            site = web.SockSite(runner, sock, backlog=512)
            await site.start()
        except BaseException:
            sock.close()
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = int(sock.getsockname()[1])

    async def _close(self) -> None:
        await self.socket.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- addresses ----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        if self._port is None:
            raise RuntimeError("the fake Slack server is not running; use it as a context manager")
        return f"http://{self._host}:{self._port}"

    @property
    def api_url(self) -> str:
        """The Web API base URL for ``WebClient(base_url=...)`` (ends with ``/api/``)."""
        return f"{self.url}/api/"

    @property
    def bot_token(self) -> str:
        return self.workspace.bot_token

    @property
    def app_token(self) -> str:
        return self.workspace.app_token

    @property
    def bot_user_id(self) -> str:
        return self.workspace.bot_user_id

    @property
    def team_id(self) -> str:
        return self.workspace.team_id

    @property
    def traffic(self) -> SlackTraffic:
        """Builders of incoming requests (events, clicks, submissions, slash commands)."""
        if self._traffic is None:
            raise RuntimeError("the fake Slack server is not running; use it as a context manager")
        return self._traffic

    # -- scripting -----------------------------------------------------------------------------
    def fail_next(
        self,
        method: str,
        *,
        error: str | None = None,
        status: int = 200,
        retry_after: int | None = None,
        times: int = 1,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with a failure instead of running it.

        ``status=429`` answers ``ratelimited`` with a ``Retry-After`` header (default 1 s);
        another status answers ``{"ok": false, "error": error}`` with that HTTP status.
        """
        if method not in METHODS and method not in (UPLOAD, RESPONSE_URL):
            raise ValueError(f"the fake Slack has no method {method!r}")
        with self.state.lock:
            self._failures.add(
                method,
                error=error,
                status=status,
                retry_after=retry_after,
                times=times,
                extra=extra,
            )

    def set_delay(self, method: str, seconds: float) -> None:
        """Answer ``method`` (``"*"``: every method) after ``seconds``, like a slow Slack."""
        with self.state.lock:
            self._delays[method] = seconds

    def set_channel_rate_limit(self, limit: ChannelRateLimit | None) -> None:
        with self.state.lock:
            self._rate_limiter.set(limit)

    # -- seeding -------------------------------------------------------------------------------
    def add_user(self, user: SlackUser) -> None:
        self.state.add_user(user)

    def add_channel(self, channel: SlackChannel) -> None:
        self.state.add_channel(channel)

    def add_usergroup(self, group: SlackUsergroup) -> None:
        self.state.add_usergroup(group)

    def post_as_user(
        self, user: str, channel: str, text: str, *, thread_ts: str | None = None
    ) -> Message:
        """Store a message ``user`` wrote, without building an event (history seeding)."""
        return copy.deepcopy(self.traffic.post(user, channel, text, thread_ts=thread_ts))

    def web_client(self, **kwargs: Any) -> WebClient:
        """A slack_sdk WebClient with the bot token, pointed at this fake."""
        from slack_sdk import WebClient

        return WebClient(token=self.bot_token, base_url=self.api_url, **kwargs)

    def mint_trigger_id(self, user: str) -> str:
        """A fresh trigger_id for ``user``, accepted once by views.open within the TTL."""
        return self.state.mint_trigger(user, "test")

    # -- recorded calls ------------------------------------------------------------------------
    def calls(self, method: str | None = None) -> list[SlackCall]:
        """Recorded calls, oldest first; only those of ``method`` when given."""
        return self._log.calls(method)

    def rejections(
        self, *, include_scripted: bool = False, include_rate_limited: bool = False
    ) -> list[SlackCall]:
        """Calls Slack refused on their merits (invalid blocks, unknown message, ...)."""
        return self._log.rejections(
            include_scripted=include_scripted, include_rate_limited=include_rate_limited
        )

    def assert_no_rejections(self) -> None:
        """Fail with every refused call listed (scripted failures and rate limits aside)."""
        self._log.assert_no_rejections()

    def subscribe(self, callback: Callable[[SlackCall], None]) -> None:
        """Call ``callback`` with every call once it is answered (on the server's thread;
        keep it quick). For printing a conversation as it happens, e.g. in the demo."""
        self._log.subscribe(callback)

    def reset_calls(self) -> None:
        self._log.reset()

    def wait_for_call(
        self,
        method: str,
        predicate: Callable[[SlackCall], bool] | None = None,
        *,
        count: int = 1,
        timeout: float = 5.0,
    ) -> SlackCall:
        """Block until ``count`` calls of ``method`` (matching ``predicate``) were answered;
        returns the ``count``-th. For flows where the app works after acking."""
        return self._log.wait_for_call(method, predicate, count=count, timeout=timeout)

    def wait_for_message(
        self,
        channel: str,
        thread_ts: str | None = None,
        predicate: Callable[[Message], bool] | None = None,
        *,
        user: str | None = None,
        timeout: float = 5.0,
    ) -> Message:
        """Block until a message matching ``predicate`` exists in the channel (or thread)."""

        def found() -> Message | None:
            for message in self._messages(channel, thread_ts, user):
                if predicate is None or predicate(message):
                    return message
            return None

        message = self._log.wait_until(
            found, timeout=timeout, what=f"matching message in {channel}"
        )
        return copy.deepcopy(message)

    def response_url_posts(self) -> list[SlackCall]:
        return self.calls(RESPONSE_URL)

    # -- state for assertions ------------------------------------------------------------------
    def _messages(self, channel: str, thread_ts: str | None, user: str | None) -> list[Message]:
        state = self.state
        with state.lock:
            conversation = state.resolve_channel(channel, open_dm=False)
            if conversation is None:
                return []
            channel_id = conversation.seed.id
            if thread_ts is None:
                messages = state.top_level(channel_id)
            else:
                root = state.thread_root(channel_id, thread_ts)
                if root is None:
                    return []
                messages = [root, *state.replies(channel_id, root.ts)]
            return [m for m in messages if user is None or m.user == user]

    def messages_in(
        self, channel: str, thread_ts: str | None = None, *, user: str | None = None
    ) -> list[Message]:
        """Messages oldest first: the channel's top level, or with ``thread_ts`` the whole
        thread (its parent first, like ``conversations.replies``); only ``user``'s if given."""
        with self.state.lock:
            return copy.deepcopy(self._messages(channel, thread_ts, user))

    def last_message(
        self, channel: str, thread_ts: str | None = None, *, user: str | None = None
    ) -> Message | None:
        messages = self.messages_in(channel, thread_ts, user=user)
        return messages[-1] if messages else None

    def message(self, channel: str, ts: str) -> Message | None:
        with self.state.lock:
            found = self.state.find_message(channel, ts)
            return copy.deepcopy(found)

    def message_json(self, channel: str, ts: str) -> JsonDict:
        """The message as Slack's API would show it (reactions, reply_count, files...)."""
        with self.state.lock:
            found = self.state.find_message(channel, ts)
            if found is None:
                raise LookupError(f"no message {ts} in {channel}")
            return self.state.message_json(found)

    def ephemerals(
        self, channel: str | None = None, *, user: str | None = None
    ) -> list[EphemeralMessage]:
        with self.state.lock:
            return copy.deepcopy(
                [
                    e
                    for e in self.state.ephemerals
                    if (channel is None or e.channel == channel)
                    and (user is None or e.user == user)
                ]
            )

    def views(self, user: str | None = None) -> list[OpenedView]:
        """Views opened, pushed or published, oldest first."""
        with self.state.lock:
            return copy.deepcopy(
                [v for v in self.state.views.values() if user is None or v.user == user]
            )

    def view(self, view_id: str) -> OpenedView | None:
        with self.state.lock:
            return copy.deepcopy(self.state.views.get(view_id))

    def close_view(self, view_id: str) -> None:
        """The user closed the modal (or a submission cleared it)."""
        with self.state.lock:
            opened = self.state.views.get(view_id)
            if opened is not None:
                opened.closed = True

    def files(self) -> list[FakeFile]:
        """Files shared into conversations (completed uploads), with their bytes."""
        with self.state.lock:
            return copy.deepcopy([f for f in self.state.files.values() if f.completed])

    def file(self, file_id: str) -> FakeFile | None:
        with self.state.lock:
            return copy.deepcopy(self.state.files.get(file_id))

    # -- dispatch ------------------------------------------------------------------------------
    def _consume_ticket(self, ticket: str) -> bool:
        with self.state.lock:
            if ticket in self.state.socket_tickets:
                self.state.socket_tickets.discard(ticket)
                return True
            return False

    def _token_kind(self, token: str | None) -> TokenKind:
        if not token:
            raise ApiFailure("not_authed")
        if token == self.workspace.bot_token:
            return "bot"
        if token == self.workspace.app_token:
            return "app"
        raise ApiFailure("invalid_auth")

    def _rate_limited(self, method: str, args: Mapping[str, Any]) -> Outcome | None:
        if method != "chat.postMessage":
            return None
        conversation = self.state.resolve_channel(args.get("channel"))
        if conversation is None:
            return None
        return self._rate_limiter.check(conversation.seed.id, self.clock.now())

    def _call(self, method: str, args: Mapping[str, Any], token: str | None) -> Outcome:
        """Run one Web API call against the state (what the HTTP endpoint does)."""
        with self.state.lock:
            if method not in METHODS:
                return Outcome(200, {"ok": False, "error": "unknown_method", "req_method": method})
            try:
                kind = self._token_kind(token)
                if (kind == "app") != (method in APP_TOKEN_METHODS):
                    raise ApiFailure("not_allowed_token_type")
            except ApiFailure as failure:
                return Outcome(failure.status, failure.body(), failure.headers)
            scripted = self._failures.pop(method)
            if scripted is not None:
                return scripted
            limited = self._rate_limited(method, args)
            if limited is not None:
                return limited
            context = ApiContext(self.state, self.url, kind)
            try:
                body = METHODS[method](context, Args(args))
            except ApiFailure as failure:
                return Outcome(failure.status, failure.body(), failure.headers)
            return Outcome(200, {"ok": True, **body})

    async def _read_args(self, request: web.Request) -> tuple[dict[str, Any], str | None]:
        args: dict[str, Any] = dict(request.query)
        token: str | None = None
        if request.body_exists:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    body = None
                if isinstance(body, dict):
                    args.update(body)
            elif request.content_type in (
                "application/x-www-form-urlencoded",
                "multipart/form-data",
            ):
                form = await request.post()
                for name, value in form.items():
                    if isinstance(value, str):
                        args[name] = value
                    elif isinstance(value, bytes | bytearray):
                        args[name] = bytes(value)
                    else:
                        args[name] = value.file.read()
        # Slack takes the token from the Authorization header, or from a form/query field.
        form_token = args.pop("token", None)
        authorization = request.headers.get("Authorization", "")
        if authorization.startswith("Bearer "):
            token = authorization.removeprefix("Bearer ").strip()
        elif isinstance(form_token, str) and request.content_type != "application/json":
            token = form_token
        return args, token

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args, token = await self._read_args(request)
        delay = self._delays.get(method, self._delays.get("*", 0.0))
        if delay > 0:
            await asyncio.sleep(delay)
        outcome = self._call(method, args, token)
        self._log.record(method, args, token, outcome)
        return web.json_response(outcome.body, status=outcome.status, headers=outcome.headers)

    async def _handle_upload(self, request: web.Request) -> web.Response:
        upload_id = request.match_info["upload_id"]
        data = await request.read()
        state = self.state
        with state.lock:
            scripted = self._failures.pop(UPLOAD)
            file_id = state.uploads.get(upload_id)
            file = state.files.get(file_id or "")
            if scripted is not None:
                outcome = scripted
            elif file is None or file.uploaded:
                outcome = Outcome(404, {"ok": False, "error": "upload_url_not_found"})
            else:
                file.content = data
                del state.uploads[upload_id]
                outcome = Outcome(200, {"ok": True, "file_id": file.id, "size": len(data)})
        args = {"upload_id": upload_id, "file_id": file_id, "size": len(data)}
        self._log.record(UPLOAD, args, None, outcome)
        if outcome.status == 200 and outcome.body.get("ok"):
            return web.Response(text=f"OK - {len(data)}")
        return web.Response(status=outcome.status, text=str(outcome.body.get("error")))

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        hook_id = request.match_info["hook_id"]
        try:
            body = await request.json()
        except ValueError:
            body = None
        args: dict[str, Any] = dict(body) if isinstance(body, dict) else {}
        with self.state.lock:
            outcome = self._failures.pop(RESPONSE_URL) or respond(self.state, hook_id, args)
        self._log.record(RESPONSE_URL, {**args, "hook_id": hook_id}, None, outcome)
        if outcome.body.get("ok"):
            return web.json_response({"ok": True})
        return web.Response(status=outcome.status, text=str(outcome.body.get("error")))
