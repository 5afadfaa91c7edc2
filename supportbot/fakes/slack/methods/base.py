"""What every fake Web API method shares: its arguments, its context, the registry.

A method is a function ``(ctx, args) -> dict`` registered with :func:`method`; it returns
the body of a successful answer (``"ok": true`` is added by the caller) or raises
:class:`~supportbot.fakes.slack.state.ApiFailure`. The dispatcher in ``server.py`` holds the
state lock around each call, checks the token and applies scripted failures first.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from supportbot.fakes.slack.state import ApiFailure, Conversation, JsonDict, SlackState

TokenKind = Literal["bot", "app"]

#: Fields that arrive as JSON strings in form bodies; decoded for handlers and recordings.
JSON_FIELDS = frozenset({"blocks", "attachments", "view", "files", "metadata"})
#: Methods an app-level token (``xapp-``) may call; every other one needs the bot token.
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})


def decode_json_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    """``raw`` with JSON-string fields (blocks, view, ...) parsed; undecodable ones kept."""
    decoded = dict(raw)
    for name in JSON_FIELDS & decoded.keys():
        value = decoded[name]
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                decoded[name] = json.loads(value) if value.strip() else None
    return decoded


@dataclass(frozen=True)
class ApiContext:
    state: SlackState
    base_url: str  # http://127.0.0.1:PORT
    token_kind: TokenKind

    @property
    def bot_user_id(self) -> str:
        return self.state.workspace.bot_user_id


class Args:
    """The arguments of one call, with Slack's lenient typing (form strings or JSON values)."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = decode_json_fields(raw)

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.raw.get(name)
        if value is None or value == "":
            return default
        return value if isinstance(value, str) else json.dumps(value)

    def flag(self, name: str) -> bool:
        value = self.raw.get(name)
        return value is True or value == 1 or (isinstance(value, str) and value in ("1", "true"))

    def integer(self, name: str, default: int) -> int:
        value = self.raw.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError) as exc:
            raise ApiFailure("invalid_arguments") from exc

    def decoded(self, name: str, *, format_error: str) -> Any:
        value = self.raw.get(name)
        if isinstance(value, str):  # still a string: it did not decode
            raise ApiFailure(format_error)
        return value


Handler = Callable[[ApiContext, Args], JsonDict]
METHODS: dict[str, Handler] = {}


def method(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        METHODS[name] = handler
        return handler

    return register


def find_conversation(ctx: ApiContext, args: Args, name: str = "channel") -> Conversation:
    conversation = ctx.state.resolve_channel(args.text(name))
    if conversation is None:
        raise ApiFailure("channel_not_found")
    return conversation


def readable_conversation(ctx: ApiContext, args: Args, name: str = "channel") -> Conversation:
    found = find_conversation(ctx, args, name)
    if found.seed.kind != "public" and not found.bot_is_member:
        raise ApiFailure("channel_not_found")
    if not found.bot_is_member and found.seed.kind != "im":
        raise ApiFailure("not_in_channel")
    return found


def paginate(items: list[Any], args: Args, default_limit: int) -> tuple[list[Any], str]:
    limit = max(1, min(args.integer("limit", default_limit), 1000))
    cursor = args.text("cursor")
    try:
        start = int(cursor.removeprefix("offset:")) if cursor else 0
    except ValueError as exc:
        raise ApiFailure("invalid_cursor") from exc
    page = items[start : start + limit]
    following = start + limit
    return page, (f"offset:{following}" if following < len(items) else "")
