"""conversations.*: history, replies (threads), info, list, members, open, join."""

from __future__ import annotations

from supportbot.fakes.slack.state import ApiFailure, JsonDict, Message, ts_key

from .base import ApiContext, Args, find_conversation, method, paginate, readable_conversation


@method("conversations.replies")
def conversations_replies(ctx: ApiContext, args: Args) -> JsonDict:
    state = ctx.state
    conversation = readable_conversation(ctx, args)
    ts = args.text("ts")
    if ts is None:
        raise ApiFailure("invalid_arguments")
    root = state.thread_root(conversation.seed.id, ts)
    if root is None:
        raise ApiFailure("thread_not_found")
    thread = [root, *state.replies(conversation.seed.id, root.ts)]
    thread = _within(thread, args)
    page, cursor = paginate(thread, args, default_limit=1000)
    return {
        "messages": [state.message_json(m) for m in page],
        "has_more": bool(cursor),
        "response_metadata": {"next_cursor": cursor},
    }


def _within(messages: list[Message], args: Args) -> list[Message]:
    inclusive = args.flag("inclusive")
    oldest, latest = args.text("oldest"), args.text("latest")

    def keep(m: Message) -> bool:
        key = ts_key(m.ts)
        if oldest is not None and (
            key < ts_key(oldest) or (key == ts_key(oldest) and not inclusive)
        ):
            return False
        return not (
            latest is not None
            and (key > ts_key(latest) or (key == ts_key(latest) and not inclusive))
        )

    return [m for m in messages if keep(m)]


@method("conversations.history")
def conversations_history(ctx: ApiContext, args: Args) -> JsonDict:
    state = ctx.state
    conversation = readable_conversation(ctx, args)
    newest_first = list(reversed(_within(state.top_level(conversation.seed.id), args)))
    page, cursor = paginate(newest_first, args, default_limit=100)
    return {
        "messages": [state.message_json(m) for m in page],
        "has_more": bool(cursor),
        "pin_count": 0,
        "response_metadata": {"next_cursor": cursor},
    }


@method("conversations.info")
def conversations_info(ctx: ApiContext, args: Args) -> JsonDict:
    conversation = find_conversation(ctx, args)
    return {"channel": ctx.state.channel_json(conversation)}


@method("conversations.list")
def conversations_list(ctx: ApiContext, args: Args) -> JsonDict:
    wanted = set((args.text("types") or "public_channel").split(","))
    kinds = {"public_channel": "public", "private_channel": "private", "im": "im", "mpim": "mpim"}
    allowed = {kinds[t] for t in wanted if t in kinds}
    conversations = [
        c
        for c in ctx.state.conversations.values()
        if c.seed.kind in allowed and (c.seed.kind == "public" or c.bot_is_member)
    ]
    page, cursor = paginate(conversations, args, default_limit=100)
    return {
        "channels": [ctx.state.channel_json(c) for c in page],
        "response_metadata": {"next_cursor": cursor},
    }


@method("conversations.members")
def conversations_members(ctx: ApiContext, args: Args) -> JsonDict:
    conversation = readable_conversation(ctx, args)
    page, cursor = paginate(ctx.state.members_of(conversation), args, default_limit=100)
    return {"members": page, "response_metadata": {"next_cursor": cursor}}


@method("conversations.open")
def conversations_open(ctx: ApiContext, args: Args) -> JsonDict:
    users = [u for u in (args.text("users") or "").split(",") if u]
    if len(users) != 1:
        raise ApiFailure("users_list_not_supplied" if not users else "not_enough_users")
    if users[0] not in ctx.state.users:
        raise ApiFailure("user_not_found")
    conversation = ctx.state.dm_with(users[0])
    return {"channel": {"id": conversation.seed.id}}


@method("conversations.join")
def conversations_join(ctx: ApiContext, args: Args) -> JsonDict:
    conversation = find_conversation(ctx, args)
    if conversation.seed.kind != "public":
        raise ApiFailure("method_not_supported_for_channel_type")
    conversation.bot_is_member = True
    return {"channel": ctx.state.channel_json(conversation)}
