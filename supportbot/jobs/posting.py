"""How the jobs talk to Slack: a two-method seam, and its slack_sdk implementation.

The jobs (the reindex report, the daily digest) only post a message and upload a file into
its thread. They depend on :class:`SlackPoster`; :class:`WebClientPoster` implements it on
slack_sdk's ``WebClient`` (with retry handlers for rate limits, server errors and dropped
connections), and the Slack app's gateway can satisfy the same protocol.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, ConfigDict

from supportbot.errors import ConfigurationError, SupportBotError
from supportbot.settings import Settings

if TYPE_CHECKING:
    from slack_sdk import WebClient

#: How often a call is retried after HTTP 429 (waiting for ``Retry-After`` each time).
RATE_LIMIT_RETRIES = 3
#: How often a call is retried after a 5xx answer or a dropped connection.
SERVER_ERROR_RETRIES = 2


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
    """Everything the jobs need from Slack; failures raise a :class:`SupportBotError`."""

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


class PostingFailed(SupportBotError):
    """Slack refused a call or could not be reached (after the client's retries)."""

    def __init__(self, method: str, channel: str, error: str) -> None:
        super().__init__(f"Slack {method} to {channel} failed: {error}")
        self.method = method
        self.channel = channel
        self.error = error


class WebClientPoster:
    """:class:`SlackPoster` on slack_sdk's ``WebClient``."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    @classmethod
    def from_settings(cls, settings: Settings) -> WebClientPoster:
        """A poster with ``SLACK_BOT_TOKEN`` against ``SUPPORTBOT_SLACK_API_URL``."""
        if settings.slack_bot_token is None:
            raise ConfigurationError("SLACK_BOT_TOKEN", "is not set; the jobs cannot post to Slack")
        return cls(web_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url))

    def post_message(
        self,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]],
        *,
        thread_ts: str | None = None,
    ) -> PostedMessage:
        from slack_sdk.errors import SlackApiError, SlackClientError

        try:
            response = self.client.chat_postMessage(
                channel=channel, text=text, blocks=blocks, thread_ts=thread_ts, unfurl_links=False
            )
        except SlackApiError as exc:
            raise PostingFailed("chat.postMessage", channel, _api_error(exc)) from exc
        except SlackClientError as exc:
            raise PostingFailed("chat.postMessage", channel, str(exc)) from exc
        return PostedMessage(channel=str(response["channel"]), ts=str(response["ts"]))

    def upload_file(
        self, channel: str, path: Path, *, title: str, thread_ts: str | None = None
    ) -> None:
        from slack_sdk.errors import SlackApiError, SlackClientError

        try:
            self.client.files_upload_v2(
                channel=channel,
                file=str(path),
                filename=path.name,
                title=title,
                thread_ts=thread_ts,
            )
        except SlackApiError as exc:
            raise PostingFailed("files_upload_v2", channel, _api_error(exc)) from exc
        except (SlackClientError, OSError) as exc:
            raise PostingFailed("files_upload_v2", channel, str(exc)) from exc


def web_client(token: str, base_url: str) -> WebClient:
    """A ``WebClient`` that retries rate limits (honouring ``Retry-After``), server errors and
    dropped connections, as slack_sdk's own retry handlers do it."""
    from slack_sdk import WebClient
    from slack_sdk.http_retry.builtin_handlers import (
        ConnectionErrorRetryHandler,
        RateLimitErrorRetryHandler,
        ServerErrorRetryHandler,
    )

    return WebClient(
        token=token,
        base_url=base_url,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=SERVER_ERROR_RETRIES),
            RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
            ServerErrorRetryHandler(max_retry_count=SERVER_ERROR_RETRIES),
        ],
    )


def _api_error(exc: Any) -> str:
    response = getattr(exc, "response", None)
    error = response.get("error") if response is not None else None
    return str(error) if error else str(exc)
