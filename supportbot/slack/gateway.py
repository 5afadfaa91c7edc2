"""The Slack seam: :class:`SlackGateway` is everything the flows ask of Slack, and
:class:`WebClientGateway` does it with slack_sdk's ``WebClient``.

The client retries 429s (honouring ``Retry-After``), 500/503s and dropped connections
through slack_sdk's own retry handlers (:func:`retry_handlers`); posts are paced per channel
(:class:`~supportbot.slack.pacing.ChannelPacer`). Whatever still fails becomes a
:class:`SlackDeliveryError` naming the method, the channel and Slack's error code.

The same gateway serves the scheduled jobs: it satisfies their two-method seam,
:class:`~supportbot.jobs.posting.SlackPoster` (``post_message`` and ``upload_file``, the latter
through ``files_upload_v2``), so the Slack app, the jobs and ``supportbot digest --post``
share one client, one retry policy and one error type.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.webhook import WebhookClient

from supportbot.errors import SupportBotError, describe_exception
from supportbot.slack.blocks import SlackMessage
from supportbot.slack.pacing import ChannelPacer

if TYPE_CHECKING:
    from supportbot.settings import Settings

log = logging.getLogger(__name__)

RATE_LIMIT_RETRIES = 3
SERVER_ERROR_RETRIES = 2
CONNECTION_RETRIES = 2
HTTP_TIMEOUT_SECONDS = 15


def retry_handlers() -> list[RetryHandler]:
    """slack_sdk's handlers for 429 (waits ``Retry-After``), 500/503 and connection errors."""
    return [
        RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        ServerErrorRetryHandler(max_retry_count=SERVER_ERROR_RETRIES),
        ConnectionErrorRetryHandler(max_retry_count=CONNECTION_RETRIES),
    ]


def web_client(token: str, base_url: str) -> WebClient:
    """A WebClient for ``base_url`` (``SUPPORTBOT_SLACK_API_URL``) with the retry handlers."""
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=HTTP_TIMEOUT_SECONDS,
        retry_handlers=retry_handlers(),
    )


class SlackDeliveryError(SupportBotError):
    """A Slack call failed after the retries; ``error`` is Slack's code (``not_in_channel``)."""

    def __init__(self, method: str, error: str, *, channel: str | None = None) -> None:
        where = f" in {channel}" if channel else ""
        super().__init__(f"Slack {method}{where} failed: {error}")
        self.method = method
        self.error = error
        self.channel = channel


@dataclass(frozen=True)
class PostedMessage:
    channel: str
    ts: str


@dataclass(frozen=True)
class BotIdentity:
    """Who the bot is, from ``auth.test``."""

    user_id: str
    bot_id: str | None
    team_id: str | None
    team: str | None


@dataclass(frozen=True)
class ChannelInfo:
    id: str
    name: str | None
    is_member: bool
    is_im: bool


class SlackGateway(Protocol):
    """What the Slack flows do in Slack. Failures raise :class:`SlackDeliveryError`."""

    def post(
        self, channel: str, message: SlackMessage, *, thread_ts: str | None = None
    ) -> PostedMessage: ...

    def update(self, channel: str, ts: str, message: SlackMessage) -> None: ...

    def delete(self, channel: str, ts: str) -> None: ...

    def post_ephemeral(
        self, channel: str, user: str, message: SlackMessage, *, thread_ts: str | None = None
    ) -> None: ...

    def respond(
        self, response_url: str, message: SlackMessage, *, replace_original: bool = False
    ) -> None:
        """Answer through an interaction's ``response_url`` (ephemeral to the clicker)."""
        ...

    def add_reaction(self, channel: str, ts: str, name: str) -> None:
        """Idempotent: an existing reaction is fine."""
        ...

    def remove_reaction(self, channel: str, ts: str, name: str) -> None:
        """Idempotent: a missing reaction is fine."""
        ...

    def open_view(self, trigger_id: str, view: Mapping[str, Any]) -> str:
        """Open a modal; returns its view ID."""
        ...

    def permalink(self, channel: str, ts: str) -> str | None:
        """A link to the message, or None when Slack cannot give one."""
        ...

    def usergroup_members(self, usergroup: str) -> list[str]: ...

    def channel_info(self, channel: str) -> ChannelInfo: ...


class WebClientGateway:
    """:class:`SlackGateway` (and the jobs' ``SlackPoster``) over slack_sdk's ``WebClient``."""

    def __init__(
        self,
        client: WebClient,
        *,
        pacer: ChannelPacer | None = None,
    ) -> None:
        self.client = client
        self.pacer = pacer if pacer is not None else ChannelPacer()

    @classmethod
    def from_settings(cls, settings: Settings) -> WebClientGateway:
        """``SLACK_BOT_TOKEN`` against ``SUPPORTBOT_SLACK_API_URL``; a missing or malformed
        token is a ConfigurationError naming the setting (nothing is sent yet)."""
        from supportbot.slack.config import bot_token

        return cls(web_client(bot_token(settings), settings.slack_api_url))

    # -- identity -----------------------------------------------------------------------
    def auth_test(self) -> BotIdentity:
        response = self._call("auth.test", self.client.auth_test)
        return BotIdentity(
            user_id=str(response["user_id"]),
            bot_id=_optional(response.get("bot_id")),
            team_id=_optional(response.get("team_id")),
            team=_optional(response.get("team")),
        )

    # -- messages -----------------------------------------------------------------------
    def post(
        self, channel: str, message: SlackMessage, *, thread_ts: str | None = None
    ) -> PostedMessage:
        self.pacer.wait(channel)
        response = self._call(
            "chat.postMessage",
            self.client.chat_postMessage,
            channel=channel,
            text=message.text,
            blocks=message.blocks or None,
            thread_ts=thread_ts,
            unfurl_links=False,
            unfurl_media=False,
        )
        return PostedMessage(channel=str(response["channel"]), ts=str(response["ts"]))

    def post_message(
        self,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]],
        *,
        thread_ts: str | None = None,
    ) -> PostedMessage:
        """The jobs' post (``SlackPoster``): ``channel`` may be an ID or a ``#name``; the
        result carries the channel's ID."""
        return self.post(channel, SlackMessage(text=text, blocks=list(blocks)), thread_ts=thread_ts)

    def upload_file(
        self, channel: str, path: Path, *, title: str, thread_ts: str | None = None
    ) -> None:
        """Upload ``path`` into ``channel`` (an ID), in ``thread_ts``'s thread if given, with
        ``files_upload_v2`` (``files.getUploadURLExternal``, the upload, then
        ``files.completeUploadExternal``)."""
        self._call(
            "files_upload_v2",
            self.client.files_upload_v2,
            channel=channel,
            file=str(path),
            filename=path.name,
            title=title,
            thread_ts=thread_ts,
        )

    def update(self, channel: str, ts: str, message: SlackMessage) -> None:
        self._call(
            "chat.update",
            self.client.chat_update,
            channel=channel,
            ts=ts,
            text=message.text,
            blocks=message.blocks,
        )

    def delete(self, channel: str, ts: str) -> None:
        self._call(
            "chat.delete",
            self.client.chat_delete,
            tolerate=("message_not_found",),
            channel=channel,
            ts=ts,
        )

    def post_ephemeral(
        self, channel: str, user: str, message: SlackMessage, *, thread_ts: str | None = None
    ) -> None:
        self._call(
            "chat.postEphemeral",
            self.client.chat_postEphemeral,
            channel=channel,
            user=user,
            text=message.text,
            blocks=message.blocks or None,
            thread_ts=thread_ts,
        )

    def respond(
        self, response_url: str, message: SlackMessage, *, replace_original: bool = False
    ) -> None:
        webhook = WebhookClient(
            response_url, timeout=HTTP_TIMEOUT_SECONDS, retry_handlers=retry_handlers()
        )
        try:
            response = webhook.send(
                text=message.text,
                blocks=message.blocks or None,
                response_type="ephemeral",
                replace_original=replace_original,
            )
        except (SlackClientError, OSError) as exc:
            raise SlackDeliveryError("response_url", describe_exception(exc)) from exc
        if response.status_code != 200:
            raise SlackDeliveryError("response_url", f"HTTP {response.status_code} {response.body}")

    # -- reactions ----------------------------------------------------------------------
    def add_reaction(self, channel: str, ts: str, name: str) -> None:
        self._call(
            "reactions.add",
            self.client.reactions_add,
            tolerate=("already_reacted",),
            channel=channel,
            timestamp=ts,
            name=name,
        )

    def remove_reaction(self, channel: str, ts: str, name: str) -> None:
        self._call(
            "reactions.remove",
            self.client.reactions_remove,
            tolerate=("no_reaction", "message_not_found"),
            channel=channel,
            timestamp=ts,
            name=name,
        )

    # -- views and lookups ----------------------------------------------------------------
    def open_view(self, trigger_id: str, view: Mapping[str, Any]) -> str:
        response = self._call(
            "views.open", self.client.views_open, trigger_id=trigger_id, view=dict(view)
        )
        return str(response["view"]["id"])

    def permalink(self, channel: str, ts: str) -> str | None:
        try:
            response = self._call(
                "chat.getPermalink", self.client.chat_getPermalink, channel=channel, message_ts=ts
            )
        except SlackDeliveryError as exc:
            log.warning("no permalink for %s/%s: %s", channel, ts, exc.error)
            return None
        return _optional(response.get("permalink"))

    def usergroup_members(self, usergroup: str) -> list[str]:
        response = self._call(
            "usergroups.users.list", self.client.usergroups_users_list, usergroup=usergroup
        )
        return [str(user) for user in response.get("users") or []]

    def channel_info(self, channel: str) -> ChannelInfo:
        response = self._call("conversations.info", self.client.conversations_info, channel=channel)
        data = response["channel"]
        return ChannelInfo(
            id=str(data["id"]),
            name=_optional(data.get("name")),
            is_member=bool(data.get("is_member") or data.get("is_im")),
            is_im=bool(data.get("is_im")),
        )

    # -- plumbing -------------------------------------------------------------------------
    def _call(
        self, method: str, function: Any, *, tolerate: tuple[str, ...] = (), **kwargs: Any
    ) -> Mapping[str, Any]:
        channel = kwargs.get("channel")
        try:
            response = function(**{k: v for k, v in kwargs.items() if v is not None})
        except SlackApiError as exc:
            error = str(exc.response.get("error") or exc.response.status_code)
            if error in tolerate:
                return {}
            raise SlackDeliveryError(method, error, channel=channel) from exc
        except (SlackClientError, OSError) as exc:
            raise SlackDeliveryError(method, describe_exception(exc), channel=channel) from exc
        data: Mapping[str, Any] = response.data if isinstance(response.data, dict) else {}
        return data


def _optional(value: object) -> str | None:
    return None if value is None else str(value)
