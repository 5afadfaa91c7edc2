"""Questions: ``app_mention`` anywhere the bot is, and ``message`` (DMs, support channels,
follow-ups in threads the bot answered). Which events are questions: ``triggers.py``."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltRequest

from supportbot.slack.listeners.context import ListenerContext
from supportbot.slack.triggers import Trigger, mention_trigger, message_trigger

log = logging.getLogger(__name__)


def retry_number(request: BoltRequest) -> int:
    values = request.headers.get("x-slack-retry-num") or ["0"]
    try:
        return int(values[0])
    except ValueError:
        return 0


def register(app: App, context: ListenerContext) -> None:
    def receive(trigger: Trigger | None, request: BoltRequest) -> None:
        if trigger is None:
            return
        receipt = context.answering.receive(trigger, retry_num=retry_number(request))
        log.debug("%s %s: %s", trigger.kind, trigger.message_key, receipt)

    @app.event("app_mention")
    def on_mention(
        ack: Ack, event: dict[str, Any], body: dict[str, Any], request: BoltRequest
    ) -> None:
        trigger = mention_trigger(
            event, bot_user_id=context.bot_user_id, event_id=body.get("event_id")
        )
        receive(trigger, request)
        ack()

    @app.event("message")
    def on_message(
        ack: Ack, event: dict[str, Any], body: dict[str, Any], request: BoltRequest
    ) -> None:
        trigger = message_trigger(
            event,
            bot_user_id=context.bot_user_id,
            support_channels=context.support_channels,
            event_id=body.get("event_id"),
        )
        receive(trigger, request)
        ack()
