"""Which Slack events are questions: pure functions of the event and the configuration.

=====================  ====================================================================
kind                   when
=====================  ====================================================================
``mention``            an ``app_mention``, or a ``message`` whose text mentions the bot
``direct_message``     a ``message`` in a DM with the bot (top level or in a thread)
``support_channel``    a top-level ``message`` in a ``SUPPORTBOT_SUPPORT_CHANNELS`` channel
``thread_reply``       a reply in a thread: a question only if the bot already answered
                       that person in that thread (the flow asks the store)
=====================  ====================================================================

Never a question: messages from bots (``bot_id``) or from the bot itself, edits, deletions
and every other ``subtype`` (joins, topic changes...). The same message may arrive twice
(as ``message`` and as ``app_mention``); the flow de-duplicates by channel and ts.
"""

from __future__ import annotations

import html
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal

TriggerKind = Literal["mention", "direct_message", "support_channel", "thread_reply"]

#: Message subtypes that are still a person writing a message.
QUESTION_SUBTYPES = frozenset({"file_share", "thread_broadcast"})

_USER_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL_LINK = re.compile(r"<#([A-Z0-9]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!([^>|]+)(?:\|([^>]*))?>")  # <!here>, <!subteam^S1|@team>, dates
_LINK = re.compile(r"<((?:https?|mailto):[^>|]+)(?:\|([^>]*))?>")


@dataclass(frozen=True)
class Trigger:
    """A Slack message that may be a question, and where to answer it."""

    kind: TriggerKind
    channel: str
    user: str
    text: str  # readable text, the bot's mention removed
    ts: str  # the message's own ts
    thread_ts: str  # the thread to answer in (the message's ts when it is top level)
    event_id: str | None = None
    channel_type: str | None = None

    @property
    def is_reply(self) -> bool:
        return self.thread_ts != self.ts

    @property
    def message_key(self) -> str:
        """One key per message however Slack delivers it (``message`` or ``app_mention``)."""
        return f"msg:{self.channel}:{self.ts}"


def readable_text(text: str, bot_user_id: str) -> str:
    """Slack's wire format made readable: the bot's mentions removed, links and channel
    references spelled out, HTML entities decoded."""
    text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", " ", text)
    text = _USER_MENTION.sub(lambda m: f"@{m.group(1)}", text)
    text = _CHANNEL_LINK.sub(lambda m: f"#{m.group(2) or m.group(1)}", text)
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = _SPECIAL.sub(lambda m: m.group(2) or f"@{m.group(1)}", text)
    text = html.unescape(text)
    return "\n".join(" ".join(line.split()) for line in text.strip().splitlines()).strip()


def _authored_by_person(event: Mapping[str, Any], bot_user_id: str) -> str | None:
    user = event.get("user")
    if not isinstance(user, str) or not user or user == bot_user_id:
        return None
    if event.get("bot_id") or event.get("bot_profile"):
        return None
    return user


def _base(
    kind: TriggerKind, event: Mapping[str, Any], user: str, bot_user_id: str, event_id: str | None
) -> Trigger | None:
    channel, ts = event.get("channel"), event.get("ts")
    if not isinstance(channel, str) or not isinstance(ts, str):
        return None
    thread_ts = event.get("thread_ts")
    return Trigger(
        kind=kind,
        channel=channel,
        user=user,
        text=readable_text(str(event.get("text") or ""), bot_user_id),
        ts=ts,
        thread_ts=thread_ts if isinstance(thread_ts, str) and thread_ts else ts,
        event_id=event_id,
        channel_type=event.get("channel_type")
        if isinstance(event.get("channel_type"), str)
        else None,
    )


def mention_trigger(
    event: Mapping[str, Any], *, bot_user_id: str, event_id: str | None = None
) -> Trigger | None:
    """An ``app_mention`` event as a question (None for bots and edits)."""
    user = _authored_by_person(event, bot_user_id)
    if user is None or event.get("edited") or event.get("subtype"):
        return None
    return _base("mention", event, user, bot_user_id, event_id)


def message_trigger(
    event: Mapping[str, Any],
    *,
    bot_user_id: str,
    support_channels: Collection[str],
    event_id: str | None = None,
) -> Trigger | None:
    """A ``message`` event as a possible question, or None when it cannot be one."""
    subtype = event.get("subtype")
    if subtype is not None and subtype not in QUESTION_SUBTYPES:
        return None
    user = _authored_by_person(event, bot_user_id)
    if user is None:
        return None
    channel = event.get("channel")
    ts, thread_ts = event.get("ts"), event.get("thread_ts")
    is_reply = isinstance(thread_ts, str) and thread_ts != ts
    kind: TriggerKind
    if event.get("channel_type") == "im":
        kind = "direct_message"
    elif f"<@{bot_user_id}" in str(event.get("text") or ""):
        kind = "mention"
    elif is_reply:
        kind = "thread_reply"
    elif channel in support_channels:
        kind = "support_channel"
    else:
        return None
    return _base(kind, event, user, bot_user_id, event_id)
