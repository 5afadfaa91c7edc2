"""What a post to a ``response_url`` does, as Slack does it: reply in the channel, reply
privately, replace or delete the original message. Hooks expire after 30 minutes and 5 uses."""

from __future__ import annotations

from typing import Any

from . import blockkit
from .recording import Outcome
from .state import (
    RESPONSE_URL_MAX_USES,
    RESPONSE_URL_TTL,
    EphemeralMessage,
    Message,
    SlackState,
)


def respond(state: SlackState, hook_id: str, args: dict[str, Any]) -> Outcome:
    """What a post to a response_url does: reply, replace, delete, or say it privately."""
    hook = state.hooks.get(hook_id)
    if hook is None or state.now() - hook.created_at > RESPONSE_URL_TTL:
        return Outcome(404, {"ok": False, "error": "no_active_hooks"})
    if hook.uses >= RESPONSE_URL_MAX_USES:
        return Outcome(404, {"ok": False, "error": "used_url"})
    text = args.get("text") or ""
    blocks = args.get("blocks")
    problems = blockkit.blocks_problems(blocks) if blocks is not None else []
    if problems or blockkit.message_text_too_long(text):
        error = "invalid_blocks" if problems else "msg_too_long"
        return Outcome(400, {"ok": False, "error": error, "errors": problems})
    hook.uses += 1
    original: Message | EphemeralMessage | None = None
    if hook.message_ts and not hook.is_ephemeral:
        original = state.find_message(hook.channel, hook.message_ts)
    elif hook.message_ts:
        original = next(
            (
                e
                for e in state.ephemerals
                if (e.channel, e.ts, e.user) == (hook.channel, hook.message_ts, hook.user)
            ),
            None,
        )
    if _flag(args.get("delete_original")):
        if isinstance(original, Message):
            state.remove_message(original)
        elif original is not None:
            state.ephemerals.remove(original)
        return Outcome(200, {"ok": True})
    if _flag(args.get("replace_original")) and original is not None:
        original.text = text
        original.blocks = list(blocks or [])
        if isinstance(original, Message):
            original.edited = {"user": state.workspace.bot_user_id, "ts": state.next_ts()}
        return Outcome(200, {"ok": True})
    thread_ts = args.get("thread_ts")
    if args.get("response_type") == "in_channel":
        root = state.thread_root(hook.channel, thread_ts) if thread_ts else None
        state.add_message(
            Message(
                channel=hook.channel,
                ts=state.next_ts(),
                text=text,
                user=state.workspace.bot_user_id,
                blocks=list(blocks or []),
                thread_ts=root.ts if root is not None else None,
                bot_id=state.workspace.bot_id,
                app_id=state.workspace.app_id,
            )
        )
    else:
        state.ephemerals.append(
            EphemeralMessage(
                channel=hook.channel,
                user=hook.user,
                ts=state.next_ts(),
                text=text,
                blocks=list(blocks or []),
                thread_ts=thread_ts if isinstance(thread_ts, str) else None,
            )
        )
    return Outcome(200, {"ok": True})


def _flag(value: object) -> bool:
    return value is True or value in ("true", "1", 1)
