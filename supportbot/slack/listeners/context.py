"""What the listeners need, and the helpers they share."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from supportbot.slack import blocks
from supportbot.slack.answering import AnswerFlow
from supportbot.slack.blocks import SlackMessage
from supportbot.slack.commands import SlashCommands
from supportbot.slack.gateway import SlackDeliveryError, SlackGateway
from supportbot.slack.reviewing import Ephemeral, ReviewFlow
from supportbot.slack.workers import WorkerPool

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ListenerContext:
    bot_user_id: str
    support_channels: Collection[str]
    review_channel: str
    answering: AnswerFlow
    reviewing: ReviewFlow
    commands: SlashCommands
    gateway: SlackGateway
    interactions: WorkerPool

    def later(self, job: Callable[[], object], ephemeral: Ephemeral, *, what: str) -> None:
        """Run ``job`` on the interactions pool, or tell the clicker we are too busy."""
        if not self.interactions.submit(job, what=what):
            ephemeral(blocks.notice("I'm very busy right now; please try again in a moment."))

    def ephemeral_via(self, response_url: str | None, channel: str, user: str) -> Ephemeral:
        """Tell only ``user``: through the interaction's response_url, else postEphemeral."""

        def send(message: SlackMessage) -> None:
            try:
                if response_url:
                    self.gateway.respond(response_url, message)
                else:
                    self.gateway.post_ephemeral(channel, user, message)
            except SlackDeliveryError as exc:
                log.warning("could not tell %s privately: %s", user, exc)

        return send


def clicked(body: Mapping[str, Any]) -> tuple[str, str, str]:
    """(user, the button's value, channel) of a ``block_actions`` payload."""
    action = (body.get("actions") or [{}])[0]
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id", ""
    )
    return str(body["user"]["id"]), str(action.get("value") or ""), str(channel)
