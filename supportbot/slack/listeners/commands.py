"""``/supportbot``: acked at once (help inline, a question with "looking into it");
answers, status and reindex reports follow through the command's response_url."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from supportbot.slack.commands import CommandContext
from supportbot.slack.listeners.context import ListenerContext

COMMAND = "/supportbot"


def register(app: App, context: ListenerContext) -> None:
    @app.command(COMMAND)
    def on_command(ack: Ack, command: dict[str, Any]) -> None:
        reply = context.commands.handle(
            str(command.get("text") or ""),
            CommandContext(
                user=str(command["user_id"]),
                channel=str(command["channel_id"]),
                response_url=str(command["response_url"]),
            ),
        )
        if reply is None:
            ack()
        else:
            ack(text=reply.text, blocks=reply.blocks, response_type="ephemeral")
