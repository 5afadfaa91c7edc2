"""The Slack edge: the bolt app, its listeners, Block Kit, and the gateway to Slack.

Build it with :func:`build_app`; everything it posts goes through a :class:`SlackGateway`.
"""

from supportbot.slack.app import SlackBot, build_app
from supportbot.slack.gateway import (
    BotIdentity,
    PostedMessage,
    SlackDeliveryError,
    SlackGateway,
    WebClientGateway,
    retry_handlers,
    web_client,
)
from supportbot.slack.workers import WorkerPool

__all__ = [
    "BotIdentity",
    "PostedMessage",
    "SlackBot",
    "SlackDeliveryError",
    "SlackGateway",
    "WebClientGateway",
    "WorkerPool",
    "build_app",
    "retry_handlers",
    "web_client",
]
