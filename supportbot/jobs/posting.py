"""How the jobs talk to Slack: a two-method seam.

The jobs (the reindex report, the daily digest) only post a message and upload a file into
its thread. They depend on :class:`SlackPoster`, which the Slack app's gateway
(:class:`supportbot.slack.gateway.WebClientGateway`) implements — the same client, retry
handlers (rate limits, server errors, dropped connections) and error type
(``SlackDeliveryError``, with the method, the channel and Slack's error code) as the app.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict


class PostedMessage(BaseModel):
    """Where a message landed: the channel ID Slack answered with (even when the message
    was posted to ``#name``) and the message's ts (the thread to reply in)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: str
    ts: str


class MessageRef(Protocol):
    """Any value naming a posted message (:class:`PostedMessage`, or a gateway's own)."""

    @property
    def channel(self) -> str: ...

    @property
    def ts(self) -> str: ...


def posted_message(ref: MessageRef) -> PostedMessage:
    return ref if isinstance(ref, PostedMessage) else PostedMessage(channel=ref.channel, ts=ref.ts)


class SlackPoster(Protocol):
    """Everything the jobs need from Slack; failures raise a ``SupportBotError``."""

    def post_message(
        self,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]],
        *,
        thread_ts: str | None = None,
    ) -> MessageRef:
        """Post ``blocks`` (``text`` is the notification and fallback text); returns the
        channel's ID (also when ``channel`` was a ``#name``) and the message's ts."""
        ...

    def upload_file(
        self, channel: str, path: Path, *, title: str, thread_ts: str | None = None
    ) -> None:
        """Upload ``path`` into ``channel`` (a channel ID), in ``thread_ts``'s thread if given."""
        ...
