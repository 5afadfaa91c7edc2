"""triggers.py: which Slack events are questions, and their readable text."""

from __future__ import annotations

from typing import Any

import pytest

from supportbot.slack.triggers import mention_trigger, message_trigger, readable_text

BOT = "U0BOT"


def message(**fields: Any) -> dict[str, Any]:
    event = {
        "type": "message",
        "user": "U0ALICE",
        "channel": "C0GENERAL",
        "ts": "10.000001",
        "text": "How do I export?",
        "channel_type": "channel",
    }
    event.update(fields)
    return event


def kind(event: dict[str, Any]) -> str | None:
    trigger = message_trigger(
        event, bot_user_id=BOT, support_channels={"C0SUPPORT"}, event_id="Ev1"
    )
    return None if trigger is None else trigger.kind


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, None),  # an ordinary channel, no mention
        ({"channel": "C0SUPPORT"}, "support_channel"),
        ({"channel": "C0SUPPORT", "thread_ts": "10.000001"}, "support_channel"),  # a thread root
        ({"channel": "C0SUPPORT", "thread_ts": "9.000001"}, "thread_reply"),
        ({"thread_ts": "9.000001"}, "thread_reply"),
        ({"channel": "D0ALICE", "channel_type": "im"}, "direct_message"),
        ({"channel": "D0ALICE", "channel_type": "im", "thread_ts": "9.000001"}, "direct_message"),
        ({"text": "<@U0BOT> how do I export?"}, "mention"),
        ({"subtype": "file_share", "channel": "C0SUPPORT"}, "support_channel"),
        ({"subtype": "thread_broadcast", "thread_ts": "9.000001"}, "thread_reply"),
        ({"subtype": "bot_message", "channel": "C0SUPPORT", "bot_id": "B1"}, None),
        ({"subtype": "message_changed", "channel": "C0SUPPORT"}, None),
        ({"subtype": "message_deleted", "channel": "C0SUPPORT"}, None),
        ({"subtype": "channel_join", "channel": "C0SUPPORT"}, None),
        ({"channel": "C0SUPPORT", "bot_id": "B0OTHER"}, None),  # a bot posting as a user
        ({"channel": "C0SUPPORT", "user": BOT}, None),  # the bot itself
        ({"channel": "D0ALICE", "channel_type": "im", "user": BOT}, None),
        ({"channel": "C0SUPPORT", "user": None}, None),
    ],
)
def test_message_kinds(fields: dict[str, Any], expected: str | None) -> None:
    assert kind(message(**fields)) == expected


def test_a_trigger_knows_its_thread_and_dedup_key() -> None:
    trigger = message_trigger(
        message(channel="C0SUPPORT", thread_ts="9.000001"),
        bot_user_id=BOT,
        support_channels=(),
        event_id="Ev9",
    )
    assert trigger is not None
    assert (trigger.thread_ts, trigger.is_reply, trigger.event_id) == ("9.000001", True, "Ev9")
    assert trigger.message_key == "msg:C0SUPPORT:10.000001"
    top = message_trigger(
        message(channel="C0SUPPORT"), bot_user_id=BOT, support_channels={"C0SUPPORT"}
    )
    assert top is not None
    assert top.thread_ts == top.ts == "10.000001"


def test_mentions_from_people_only() -> None:
    event = {
        "type": "app_mention",
        "user": "U0ALICE",
        "channel": "C0GENERAL",
        "ts": "1.1",
        "text": "<@U0BOT> help",
    }
    trigger = mention_trigger(event, bot_user_id=BOT, event_id="Ev2")
    assert trigger is not None
    assert (trigger.kind, trigger.text) == ("mention", "help")
    assert mention_trigger({**event, "bot_id": "B1"}, bot_user_id=BOT) is None
    assert mention_trigger({**event, "edited": {"user": "U0ALICE"}}, bot_user_id=BOT) is None
    assert mention_trigger({**event, "user": BOT}, bot_user_id=BOT) is None


def test_readable_text() -> None:
    raw = (
        "<@U0BOT|supportbot>  can <@U0DAVE> see <#C0SUPPORT|support> and "
        "<https://example.com/a?b=1&amp;c=2|this page> &lt;now&gt;? <!here> "
        "<!subteam^S0REVIEW|@reviewers>"
    )
    assert readable_text(raw, BOT) == (
        "can @U0DAVE see #support and this page <now>? @here @reviewers"
    )
    assert readable_text("<@U0BOT>", BOT) == ""
    assert readable_text("line one\n\n  line   two ", BOT) == "line one\n\nline two"
