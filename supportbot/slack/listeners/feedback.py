"""The asker's buttons under an answer: 👍 / 👎 (stored) and "Ask a human" (escalates)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from supportbot.slack.blocks import ASK_HUMAN, FEEDBACK_DOWN, FEEDBACK_UP
from supportbot.slack.listeners.context import ListenerContext, clicked


def register(app: App, context: ListenerContext) -> None:
    def vote(body: dict[str, Any], *, up: bool) -> None:
        user, question_id, channel = clicked(body)
        ephemeral = context.ephemeral_via(body.get("response_url"), channel, user)
        context.later(
            lambda: context.answering.feedback(question_id, user=user, up=up, ephemeral=ephemeral),
            ephemeral,
            what="feedback",
        )

    @app.action(FEEDBACK_UP)
    def on_up(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        vote(body, up=True)

    @app.action(FEEDBACK_DOWN)
    def on_down(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        vote(body, up=False)

    @app.action(ASK_HUMAN)
    def on_ask_human(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        user, question_id, channel = clicked(body)
        ephemeral = context.ephemeral_via(body.get("response_url"), channel, user)
        context.later(
            lambda: context.answering.ask_human(question_id, user=user, ephemeral=ephemeral),
            ephemeral,
            what="ask a human",
        )
