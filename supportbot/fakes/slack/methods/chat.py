"""chat.*: post, post ephemerally, update, delete, permalink; Block Kit checked on the way in."""

from __future__ import annotations

from supportbot.fakes.slack import blockkit
from supportbot.fakes.slack.state import ApiFailure, EphemeralMessage, JsonDict, Message

from .base import ApiContext, Args, find_conversation, method


def _message_content(args: Args, *, require_content: bool = True) -> tuple[str, list[JsonDict]]:
    """``text`` and ``blocks`` checked the way ``chat.*`` methods check them."""
    text = args.text("text", "") or ""
    if blockkit.message_text_too_long(text):
        raise ApiFailure("msg_too_long")
    blocks = args.decoded("blocks", format_error="invalid_blocks_format")
    if blocks is not None:
        if not isinstance(blocks, list):
            raise ApiFailure("invalid_blocks_format")
        problems = blockkit.blocks_problems(blocks, surface="message")
        if problems:
            raise ApiFailure(
                "invalid_blocks",
                extra={
                    "errors": problems,
                    "response_metadata": {"messages": [f"[ERROR] {p}" for p in problems]},
                },
            )
    attachments = args.decoded("attachments", format_error="invalid_attachments")
    if require_content and not text and not blocks and not attachments:
        raise ApiFailure("no_text")
    return text, list(blocks or [])


def _attachments(args: Args) -> list[JsonDict]:
    value = args.decoded("attachments", format_error="invalid_attachments")
    if value is None:
        return []
    if not isinstance(value, list):
        raise ApiFailure("invalid_attachments")
    if len(value) > 100:
        raise ApiFailure("too_many_attachments")
    return value


def _message_to_update(ctx: ApiContext, args: Args, *, deleting: bool) -> Message:
    conversation = find_conversation(ctx, args)
    message = ctx.state.find_message(conversation.seed.id, args.text("ts"))
    if message is None:
        raise ApiFailure("message_not_found")
    if message.user != ctx.bot_user_id:
        raise ApiFailure("cant_delete_message" if deleting else "cant_update_message")
    return message


@method("chat.postMessage")
def chat_post_message(ctx: ApiContext, args: Args) -> JsonDict:
    state = ctx.state
    conversation = find_conversation(ctx, args)
    if not conversation.bot_is_member and conversation.seed.kind != "im":
        raise ApiFailure("not_in_channel")
    text, blocks = _message_content(args)
    attachments = _attachments(args)
    thread_ts = args.text("thread_ts")
    if thread_ts is not None:
        root = state.thread_root(conversation.seed.id, thread_ts)
        if root is None:
            raise ApiFailure("thread_not_found")
        thread_ts = root.ts
    metadata = args.decoded("metadata", format_error="invalid_metadata_format")
    message = state.add_message(
        Message(
            channel=conversation.seed.id,
            ts=state.next_ts(),
            text=text,
            user=ctx.bot_user_id,
            blocks=blocks,
            thread_ts=thread_ts,
            bot_id=state.workspace.bot_id,
            app_id=state.workspace.app_id,
            attachments=attachments,
            reply_broadcast=thread_ts is not None and args.flag("reply_broadcast"),
            metadata=metadata if isinstance(metadata, dict) else None,
        )
    )
    return {
        "channel": conversation.seed.id,
        "ts": message.ts,
        "message": state.message_json(message),
    }


@method("chat.postEphemeral")
def chat_post_ephemeral(ctx: ApiContext, args: Args) -> JsonDict:
    state = ctx.state
    conversation = find_conversation(ctx, args)
    user = args.text("user")
    if user is None or user not in state.users:
        raise ApiFailure("user_not_found")
    if user not in state.members_of(conversation):
        raise ApiFailure("user_not_in_channel")
    if not conversation.bot_is_member and conversation.seed.kind != "im":
        raise ApiFailure("not_in_channel")
    text, blocks = _message_content(args)
    ts = state.next_ts()
    state.ephemerals.append(
        EphemeralMessage(
            channel=conversation.seed.id,
            user=user,
            ts=ts,
            text=text,
            blocks=blocks,
            thread_ts=args.text("thread_ts"),
            attachments=_attachments(args),
        )
    )
    return {"message_ts": ts}


@method("chat.update")
def chat_update(ctx: ApiContext, args: Args) -> JsonDict:
    state = ctx.state
    message = _message_to_update(ctx, args, deleting=False)
    text, blocks = _message_content(args, require_content=False)
    if "text" in args.raw:
        message.text = text
    if "blocks" in args.raw:
        message.blocks = blocks
    if "attachments" in args.raw:
        message.attachments = _attachments(args)
    if "metadata" in args.raw:
        metadata = args.decoded("metadata", format_error="invalid_metadata_format")
        message.metadata = metadata if isinstance(metadata, dict) else None
    message.edited = {"user": ctx.bot_user_id, "ts": state.next_ts()}
    return {
        "channel": message.channel,
        "ts": message.ts,
        "text": message.text,
        "message": state.message_json(message),
    }


@method("chat.delete")
def chat_delete(ctx: ApiContext, args: Args) -> JsonDict:
    message = _message_to_update(ctx, args, deleting=True)
    ctx.state.remove_message(message)
    return {"channel": message.channel, "ts": message.ts}


@method("chat.getPermalink")
def chat_get_permalink(ctx: ApiContext, args: Args) -> JsonDict:
    conversation = find_conversation(ctx, args)
    message = ctx.state.find_message(conversation.seed.id, args.text("message_ts"))
    if message is None:
        raise ApiFailure("message_not_found")
    return {
        "channel": conversation.seed.id,
        "permalink": ctx.state.permalink(conversation.seed.id, message),
    }
