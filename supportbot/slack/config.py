"""Checks of the Slack settings at start-up: each problem names the setting to fix.

:func:`check_settings` needs no network; :func:`identify` and :func:`check_app_token` ask
Slack whether it accepts the tokens (``auth.test``, ``apps.connections.open``).
"""

from __future__ import annotations

import re

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from supportbot.errors import ConfigurationError
from supportbot.pipeline.types import Citation
from supportbot.settings import Settings
from supportbot.slack.blocks import AnswerView, answer_messages
from supportbot.slack.gateway import BotIdentity, SlackDeliveryError, WebClientGateway, web_client

CONVERSATION_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
REVIEWER_ID = re.compile(r"^[UWS][A-Z0-9]{2,}$")
TOKEN_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
)


def bot_token(settings: Settings) -> str:
    if settings.slack_bot_token is None or not settings.slack_bot_token.get_secret_value():
        raise ConfigurationError(
            "SLACK_BOT_TOKEN", "not set; copy the Bot User OAuth Token (xoxb-...) of your app"
        )
    token = settings.slack_bot_token.get_secret_value().strip()
    if not token.startswith("xoxb-"):
        raise ConfigurationError(
            "SLACK_BOT_TOKEN", "must be a bot token starting with xoxb- (OAuth & Permissions)"
        )
    return token


def app_token(settings: Settings) -> str | None:
    """The app-level token for Socket Mode, or None for HTTP mode."""
    if settings.slack_app_token is None or not settings.slack_app_token.get_secret_value():
        return None
    token = settings.slack_app_token.get_secret_value().strip()
    if not token.startswith("xapp-"):
        raise ConfigurationError(
            "SLACK_APP_TOKEN",
            "must be an app-level token starting with xapp- (Basic Information > "
            "App-Level Tokens, scope connections:write); unset it for HTTP mode",
        )
    return token


def signing_secret(settings: Settings) -> str:
    if (
        settings.slack_signing_secret is None
        or not settings.slack_signing_secret.get_secret_value()
    ):
        raise ConfigurationError(
            "SLACK_SIGNING_SECRET",
            "not set; HTTP mode (no SLACK_APP_TOKEN) needs it to verify that requests come "
            "from Slack (Basic Information > App Credentials)",
        )
    return settings.slack_signing_secret.get_secret_value().strip()


def check_settings(settings: Settings, *, socket_mode: bool) -> None:
    """Everything that can be checked without asking Slack."""
    bot_token(settings)
    if socket_mode:
        if app_token(settings) is None:
            raise ConfigurationError("SLACK_APP_TOKEN", "Socket Mode needs the app-level token")
    else:
        signing_secret(settings)
    review = settings.review_channel
    if not review:
        raise ConfigurationError(
            "SUPPORTBOT_REVIEW_CHANNEL",
            "not set; escalations need a channel where reviewers approve answers "
            "(its ID, e.g. C0123ABCD, from the channel's details)",
        )
    if not CONVERSATION_ID.match(review):
        raise ConfigurationError(
            "SUPPORTBOT_REVIEW_CHANNEL", f"{review!r} is not a channel ID (like C0123ABCD)"
        )
    for channel in settings.support_channels:
        if not CONVERSATION_ID.match(channel):
            raise ConfigurationError(
                "SUPPORTBOT_SUPPORT_CHANNELS", f"{channel!r} is not a channel ID (like C0123ABCD)"
            )
    for name, ids in (
        ("SUPPORTBOT_REVIEWERS", settings.reviewers),
        ("SUPPORTBOT_FALLBACK_REVIEWERS", settings.fallback_reviewers),
    ):
        for slack_id in ids:
            if not REVIEWER_ID.match(slack_id):
                raise ConfigurationError(
                    name, f"{slack_id!r} is neither a user ID (U...) nor a user group ID (S...)"
                )
    check_source_url_template(settings.source_url_template)


def check_source_url_template(template: str | None) -> None:
    if not template:
        return
    sample = Citation(source="a/b.md", heading="H", score=1.0, line_start=1, line_end=2)
    try:
        answer_messages(
            AnswerView(question_id="q", text="t", citations=[sample]), source_url_template=template
        )
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigurationError(
            "SUPPORTBOT_SOURCE_URL_TEMPLATE",
            f"{template!r} is not a valid template ({exc!r}); use {{source}}, {{doc_id}}, "
            "{heading}, {line_start} and {line_end}",
        ) from exc


def identify(gateway: WebClientGateway, api_url: str) -> BotIdentity:
    """``auth.test``: who the bot is; a refused token or an unreachable Slack stops here."""
    try:
        return gateway.auth_test()
    except SlackDeliveryError as exc:
        if exc.error in TOKEN_ERRORS:
            raise ConfigurationError(
                "SLACK_BOT_TOKEN", f"Slack refused the token ({exc.error}); copy it again"
            ) from exc
        raise ConfigurationError(
            "SUPPORTBOT_SLACK_API_URL", f"cannot talk to Slack at {api_url}: {exc.error}"
        ) from exc


def check_app_token(settings: Settings) -> None:
    """Ask Slack for a Socket Mode URL with the app-level token (nothing connects to it)."""
    token = app_token(settings)
    if token is None:
        return
    client: WebClient = web_client(token, settings.slack_api_url)
    try:
        client.apps_connections_open(app_token=token)
    except SlackApiError as exc:
        error = str(exc.response.get("error"))
        raise ConfigurationError(
            "SLACK_APP_TOKEN",
            f"Slack refused the app-level token ({error}); it needs the connections:write "
            "scope and Socket Mode turned on",
        ) from exc
    except (SlackClientError, OSError) as exc:
        raise ConfigurationError(
            "SUPPORTBOT_SLACK_API_URL", f"cannot talk to Slack at {settings.slack_api_url}: {exc}"
        ) from exc
