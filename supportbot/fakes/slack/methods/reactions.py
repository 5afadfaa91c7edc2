"""reactions.add/remove/get, with already_reacted and no_reaction."""

from __future__ import annotations

from supportbot.fakes.slack.state import ApiFailure, JsonDict, Message

from .base import ApiContext, Args, find_conversation, method


def _reaction_target(ctx: ApiContext, args: Args) -> tuple[Message, str]:
    conversation = find_conversation(ctx, args)
    name = (args.text("name") or "").strip(":")
    if not name:
        raise ApiFailure("invalid_name")
    message = ctx.state.find_message(conversation.seed.id, args.text("timestamp"))
    if message is None:
        raise ApiFailure("message_not_found")
    return message, name


@method("reactions.add")
def reactions_add(ctx: ApiContext, args: Args) -> JsonDict:
    message, name = _reaction_target(ctx, args)
    users = message.reactions.setdefault(name, [])
    if ctx.bot_user_id in users:
        raise ApiFailure("already_reacted")
    users.append(ctx.bot_user_id)
    return {}


@method("reactions.remove")
def reactions_remove(ctx: ApiContext, args: Args) -> JsonDict:
    message, name = _reaction_target(ctx, args)
    users = message.reactions.get(name, [])
    if ctx.bot_user_id not in users:
        raise ApiFailure("no_reaction")
    users.remove(ctx.bot_user_id)
    if not users:
        del message.reactions[name]
    return {}


@method("reactions.get")
def reactions_get(ctx: ApiContext, args: Args) -> JsonDict:
    conversation = find_conversation(ctx, args)
    message = ctx.state.find_message(conversation.seed.id, args.text("timestamp"))
    if message is None:
        raise ApiFailure("message_not_found")
    return {
        "type": "message",
        "channel": conversation.seed.id,
        "message": ctx.state.message_json(message),
    }
