"""The fake Slack's world: conversations, messages, threads, views, triggers, files.

Everything here is guarded by one lock (:attr:`SlackState.lock`), held by the Web API
dispatcher for the length of one method call and by the test-side helpers while they read.
Public getters return deep copies, so a test never sees a message change under it.
"""

from __future__ import annotations

import copy
import itertools
import mimetypes
import secrets
import string
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from supportbot.clock import Clock

from .workspace import SlackChannel, SlackUser, SlackUsergroup, SlackWorkspace

JsonDict = dict[str, Any]

_ID_ALPHABET = string.ascii_uppercase + string.digits
RESPONSE_URL_MAX_USES = 5
RESPONSE_URL_TTL = timedelta(minutes=30)
VIEW_STACK_MAX = 3


class ApiFailure(Exception):
    """A Web API method refuses the call: ``{"ok": false, "error": error, **extra}``."""

    def __init__(
        self,
        error: str,
        *,
        status: int = 200,
        extra: JsonDict | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.extra = extra or {}
        self.headers = headers or {}

    def body(self) -> JsonDict:
        return {"ok": False, "error": self.error, **self.extra}


def ts_key(ts: str) -> int:
    """A message ts as integer microseconds, for ordering (``"1700000000.000100"``)."""
    seconds, _, fraction = ts.partition(".")
    return int(seconds) * 1_000_000 + int((fraction or "0").ljust(6, "0")[:6])


def new_id(prefix: str, length: int = 10) -> str:
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


@dataclass
class Message:
    """One message in a conversation, as the fake stores it."""

    channel: str
    ts: str
    text: str
    user: str | None = None
    blocks: list[JsonDict] = field(default_factory=list)
    thread_ts: str | None = None  # on replies: the parent's ts
    bot_id: str | None = None
    app_id: str | None = None
    subtype: str | None = None
    username: str | None = None
    attachments: list[JsonDict] = field(default_factory=list)
    edited: JsonDict | None = None
    reactions: dict[str, list[str]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    reply_broadcast: bool = False
    metadata: JsonDict | None = None
    client_msg_id: str | None = None

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts


@dataclass
class EphemeralMessage:
    """A message only ``user`` sees (``chat.postEphemeral`` or an ephemeral response_url post)."""

    channel: str
    user: str
    ts: str
    text: str
    blocks: list[JsonDict] = field(default_factory=list)
    thread_ts: str | None = None
    attachments: list[JsonDict] = field(default_factory=list)


@dataclass
class OpenedView:
    """A modal (or App Home) the app opened, with its stack position."""

    id: str
    user: str
    view: JsonDict
    hash: str
    root_view_id: str
    previous_view_id: str | None = None
    trigger_id: str | None = None
    closed: bool = False


@dataclass
class Trigger:
    id: str
    user: str
    issued_at: datetime
    source: str
    view_id: str | None = None
    used: bool = False


@dataclass
class FakeFile:
    """A file uploaded through ``files.getUploadURLExternal`` and its upload URL."""

    id: str
    name: str
    length: int
    user: str
    created: int
    title: str = ""
    alt_txt: str | None = None
    snippet_type: str | None = None
    content: bytes | None = None
    completed: bool = False
    channels: list[str] = field(default_factory=list)
    thread_ts: str | None = None
    message_ts: str | None = None

    @property
    def uploaded(self) -> bool:
        return self.content is not None


@dataclass
class ResponseHook:
    """A ``response_url`` the fake handed out with an interaction or a slash command."""

    id: str
    channel: str
    user: str
    created_at: datetime
    message_ts: str | None = None
    is_ephemeral: bool = False
    uses: int = 0


@dataclass
class Conversation:
    seed: SlackChannel
    bot_is_member: bool
    messages: list[Message] = field(default_factory=list)  # every message, ordered by ts
    by_ts: dict[str, Message] = field(default_factory=dict)


class SlackState:
    """All mutable state of one fake Slack workspace."""

    def __init__(self, workspace: SlackWorkspace, clock: Clock, *, trigger_ttl: float) -> None:
        self.workspace = workspace
        self.clock = clock
        self.trigger_ttl = timedelta(seconds=trigger_ttl)
        self.lock = threading.RLock()
        self.users: dict[str, SlackUser] = {}
        self.usergroups: dict[str, SlackUsergroup] = {}
        self.conversations: dict[str, Conversation] = {}
        self.ephemerals: list[EphemeralMessage] = []
        self.views: dict[str, OpenedView] = {}
        self.triggers: dict[str, Trigger] = {}
        self.files: dict[str, FakeFile] = {}
        self.uploads: dict[str, str] = {}  # upload id -> file id
        self.hooks: dict[str, ResponseHook] = {}
        self.socket_tickets: set[str] = set()
        self._last_ts_us = 0
        self._counter = itertools.count(1)
        bot = SlackUser(
            id=workspace.bot_user_id,
            name=workspace.bot_name,
            real_name=workspace.bot_name,
            is_bot=True,
            bot_id=workspace.bot_id,
        )
        for user in (bot, *workspace.users):
            self.add_user(user)
        for group in workspace.usergroups:
            self.add_usergroup(group)
        for channel in workspace.channels:
            self.add_channel(channel)

    # -- seeding ------------------------------------------------------------------------
    def add_user(self, user: SlackUser) -> None:
        with self.lock:
            self.users[user.id] = user

    def add_usergroup(self, group: SlackUsergroup) -> None:
        with self.lock:
            self.usergroups[group.id] = group

    def add_channel(self, channel: SlackChannel) -> Conversation:
        with self.lock:
            conversation = Conversation(seed=channel, bot_is_member=channel.bot_is_member)
            self.conversations[channel.id] = conversation
            return conversation

    # -- clocks and ids ---------------------------------------------------------------------
    def now(self) -> datetime:
        return self.clock.now()

    def next_ts(self) -> str:
        """A message ts: the clock's time, strictly increasing across the workspace."""
        with self.lock:
            now_us = int(self.clock.now().timestamp() * 1_000_000)
            self._last_ts_us = max(now_us, self._last_ts_us + 1)
            return f"{self._last_ts_us // 1_000_000}.{self._last_ts_us % 1_000_000:06d}"

    def serial(self) -> int:
        return next(self._counter)

    # -- conversations ---------------------------------------------------------------------
    def resolve_channel(self, ref: object, *, open_dm: bool = True) -> Conversation | None:
        """A conversation by ID, ``#name``/``name``, or a user ID (the bot's DM with them)."""
        if not isinstance(ref, str) or not ref:
            return None
        with self.lock:
            if ref in self.conversations:
                return self.conversations[ref]
            name = ref.removeprefix("#")
            for conversation in self.conversations.values():
                if conversation.seed.name and conversation.seed.name == name:
                    return conversation
            if ref in self.users and open_dm:
                return self.dm_with(ref)
            return None

    def dm_with(self, user_id: str) -> Conversation:
        with self.lock:
            for conversation in self.conversations.values():
                if conversation.seed.kind == "im" and conversation.seed.user == user_id:
                    return conversation
            return self.add_channel(
                SlackChannel(id="D" + user_id.removeprefix("U"), kind="im", user=user_id)
            )

    def members_of(self, conversation: Conversation) -> list[str]:
        seed = conversation.seed
        if seed.kind == "im":
            return [self.workspace.bot_user_id, seed.user or ""]
        members = list(seed.members) if seed.members else [u for u in self.users if u]
        if conversation.bot_is_member and self.workspace.bot_user_id not in members:
            members.append(self.workspace.bot_user_id)
        return members

    def add_message(self, message: Message) -> Message:
        with self.lock:
            conversation = self.conversations[message.channel]
            conversation.messages.append(message)
            conversation.messages.sort(key=lambda m: ts_key(m.ts))
            conversation.by_ts[message.ts] = message
            if message.is_reply and message.thread_ts in conversation.by_ts:
                parent = conversation.by_ts[message.thread_ts]
                parent.thread_ts = parent.ts
            return message

    def remove_message(self, message: Message) -> None:
        with self.lock:
            conversation = self.conversations[message.channel]
            conversation.messages.remove(message)
            del conversation.by_ts[message.ts]

    def find_message(self, channel: str, ts: object) -> Message | None:
        with self.lock:
            conversation = self.conversations.get(channel)
            if conversation is None or not isinstance(ts, str):
                return None
            return conversation.by_ts.get(ts)

    def thread_root(self, channel: str, ts: str) -> Message | None:
        """The parent of the thread ``ts`` belongs to (a reply's ts resolves to its parent)."""
        message = self.find_message(channel, ts)
        if message is not None and message.is_reply and message.thread_ts is not None:
            return self.find_message(channel, message.thread_ts)
        return message

    def replies(self, channel: str, parent_ts: str) -> list[Message]:
        with self.lock:
            conversation = self.conversations[channel]
            return [m for m in conversation.messages if m.is_reply and m.thread_ts == parent_ts]

    def top_level(self, channel: str) -> list[Message]:
        with self.lock:
            conversation = self.conversations[channel]
            return [m for m in conversation.messages if not m.is_reply or m.reply_broadcast]

    # -- rendering as Slack does -------------------------------------------------------------
    def bot_profile(self) -> JsonDict:
        ws = self.workspace
        return {
            "id": ws.bot_id,
            "app_id": ws.app_id,
            "name": ws.bot_name,
            "team_id": ws.team_id,
            "deleted": False,
            "icons": {},
            "updated": 1_700_000_000,
        }

    def message_json(self, message: Message) -> JsonDict:
        """The message as ``conversations.history``/``replies`` and payloads show it."""
        with self.lock:
            data: JsonDict = {"type": "message", "ts": message.ts, "text": message.text}
            optional = {
                "user": message.user,
                "subtype": message.subtype,
                "bot_id": message.bot_id,
                "app_id": message.app_id,
                "bot_profile": self.bot_profile() if message.app_id else None,
                "username": message.username,
                "client_msg_id": message.client_msg_id,
                "team": self.workspace.team_id,
                "blocks": message.blocks or None,
                "attachments": message.attachments or None,
                "metadata": message.metadata,
                "edited": message.edited,
            }
            data.update(copy.deepcopy({k: v for k, v in optional.items() if v is not None}))
            if message.files:
                data["files"] = [self.file_json(self.files[f]) for f in message.files]
                data["upload"] = True
            if message.reactions:
                data["reactions"] = [
                    {"name": name, "users": list(users), "count": len(users)}
                    for name, users in message.reactions.items()
                ]
            if message.thread_ts is not None:
                data.update(self._thread_fields(message))
            return data

    def _thread_fields(self, message: Message) -> JsonDict:
        fields: JsonDict = {"thread_ts": message.thread_ts}
        if message.is_reply:
            parent = self.find_message(message.channel, message.thread_ts)
            if parent is not None and parent.user is not None:
                fields["parent_user_id"] = parent.user
            return fields
        replies = self.replies(message.channel, message.ts)
        users = list(dict.fromkeys(r.user for r in replies if r.user))
        fields.update(
            reply_count=len(replies),
            reply_users_count=len(users),
            reply_users=users,
            latest_reply=replies[-1].ts if replies else message.ts,
            is_locked=False,
            subscribed=False,
        )
        return fields

    def permalink(self, channel: str, message: Message) -> str:
        base = (
            f"https://{self.workspace.domain}.slack.com/archives/{channel}/"
            f"p{message.ts.replace('.', '')}"
        )
        if message.is_reply:
            return f"{base}?thread_ts={message.thread_ts}&cid={channel}"
        return base

    def channel_json(self, conversation: Conversation) -> JsonDict:
        seed = conversation.seed
        data: JsonDict = {
            "id": seed.id,
            "created": 1_700_000_000,
            "is_archived": False,
            "is_org_shared": False,
            "is_shared": False,
            "context_team_id": self.workspace.team_id,
            "is_channel": seed.kind == "public",
            "is_group": seed.kind == "private",
            "is_im": seed.kind == "im",
            "is_mpim": seed.kind == "mpim",
            "is_private": seed.kind != "public",
        }
        if seed.kind == "im":
            data["user"] = seed.user
            data["is_open"] = True
        else:
            data["name"] = seed.name
            data["name_normalized"] = seed.name
            data["is_member"] = conversation.bot_is_member
            data["num_members"] = len(self.members_of(conversation))
        return data

    def user_json(self, user: SlackUser) -> JsonDict:
        profile: JsonDict = {
            "real_name": user.real_name or user.name,
            "display_name": user.name,
            "real_name_normalized": user.real_name or user.name,
            "display_name_normalized": user.name,
            "team": self.workspace.team_id,
        }
        if user.email:
            profile["email"] = user.email
        if user.bot_id:
            profile["bot_id"] = user.bot_id
        return {
            "id": user.id,
            "team_id": self.workspace.team_id,
            "name": user.name,
            "deleted": False,
            "real_name": user.real_name or user.name,
            "tz": user.tz,
            "is_bot": user.is_bot,
            "is_admin": False,
            "is_owner": False,
            "is_app_user": False,
            "profile": profile,
        }

    def file_json(self, file: FakeFile) -> JsonDict:
        return {
            "id": file.id,
            "created": file.created,
            "timestamp": file.created,
            "name": file.name,
            "title": file.title or file.name,
            "mimetype": _mimetype(file.name),
            "filetype": file.name.rsplit(".", 1)[-1].lower() if "." in file.name else "binary",
            "user": file.user,
            "size": len(file.content) if file.content is not None else file.length,
            "is_external": False,
            "channels": [c for c in file.channels if c.startswith("C")],
            "groups": [c for c in file.channels if c.startswith("G")],
            "ims": [c for c in file.channels if c.startswith("D")],
            "permalink": f"https://{self.workspace.domain}.slack.com/files/{file.user}/{file.id}",
            "alt_txt": file.alt_txt,
        }

    def view_json(self, opened: OpenedView) -> JsonDict:
        ws = self.workspace
        view = copy.deepcopy(opened.view)
        return {
            "id": opened.id,
            "team_id": ws.team_id,
            "type": view.get("type", "modal"),
            "title": view.get("title"),
            "submit": view.get("submit"),
            "close": view.get("close"),
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "external_id": view.get("external_id", ""),
            "state": {"values": {}},
            "hash": opened.hash,
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "previous_view_id": opened.previous_view_id,
            "root_view_id": opened.root_view_id,
            "app_id": ws.app_id,
            "app_installed_team_id": ws.team_id,
            "bot_id": ws.bot_id,
        }

    # -- triggers, views, response URLs -------------------------------------------------------
    def mint_trigger(self, user: str, source: str, *, view_id: str | None = None) -> str:
        with self.lock:
            trigger_id = f"{int(self.now().timestamp())}.{self.serial()}.{secrets.token_hex(16)}"
            self.triggers[trigger_id] = Trigger(
                id=trigger_id, user=user, issued_at=self.now(), source=source, view_id=view_id
            )
            return trigger_id

    def exchange_trigger(self, trigger_id: object) -> Trigger:
        """Use a trigger once; Slack's ``invalid_``/``exchanged_``/``expired_trigger_id``."""
        with self.lock:
            trigger = self.triggers.get(trigger_id) if isinstance(trigger_id, str) else None
            if trigger is None:
                raise ApiFailure("invalid_trigger_id")
            if trigger.used:
                raise ApiFailure("exchanged_trigger_id")
            if self.now() - trigger.issued_at > self.trigger_ttl:
                raise ApiFailure("expired_trigger_id")
            trigger.used = True
            return trigger

    def new_view_hash(self) -> str:
        return f"{int(self.now().timestamp())}.{secrets.token_hex(4)}"

    def view_stack(self, root_view_id: str) -> list[OpenedView]:
        with self.lock:
            return [
                v for v in self.views.values() if v.root_view_id == root_view_id and not v.closed
            ]

    def mint_response_hook(
        self, channel: str, user: str, *, message_ts: str | None = None, is_ephemeral: bool = False
    ) -> str:
        with self.lock:
            hook_id = f"{self.workspace.team_id}/{self.serial()}/{secrets.token_hex(12)}"
            self.hooks[hook_id] = ResponseHook(
                id=hook_id,
                channel=channel,
                user=user,
                created_at=self.now(),
                message_ts=message_ts,
                is_ephemeral=is_ephemeral,
            )
            return hook_id


def _mimetype(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"
