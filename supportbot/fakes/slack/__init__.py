"""A project-owned fake Slack for tests, benchmarks and ``supportbot demo``.

- :class:`FakeSlack` — Web API (``WebClient(base_url=fake.api_url)``), file upload URLs,
  response_urls and a Socket Mode WebSocket, all on 127.0.0.1 (port 0); stateful, checks
  Block Kit limits, records every call, scriptable failures and rate limits.
- ``fake.traffic`` (:class:`SlackTraffic`) — builds what Slack sends to the app
  (:class:`Incoming`): events, button clicks, modal submissions, slash commands.
- :class:`SlackSender` / :func:`sign_request` — deliver them over HTTP, signed as Slack signs.
- ``fake.socket`` (:class:`SocketModeHub`) — deliver them over Socket Mode and collect acks.
"""

from .blockkit import blocks_problems, message_text_too_long, view_problems
from .incoming import (
    Incoming,
    IncomingKind,
    SignedRequest,
    SlackHttpResponse,
    SlackSender,
    sign_request,
    signature,
)
from .recording import SlackCall
from .scripting import ChannelRateLimit
from .server import RESPONSE_URL, UPLOAD, FakeSlack
from .socket_mode import SocketAck, SocketModeHub
from .state import EphemeralMessage, FakeFile, Message, OpenedView
from .traffic import SlackTraffic
from .workspace import SlackChannel, SlackUser, SlackUsergroup, SlackWorkspace

__all__ = [
    "RESPONSE_URL",
    "UPLOAD",
    "ChannelRateLimit",
    "EphemeralMessage",
    "FakeFile",
    "FakeSlack",
    "Incoming",
    "IncomingKind",
    "Message",
    "OpenedView",
    "SignedRequest",
    "SlackCall",
    "SlackChannel",
    "SlackHttpResponse",
    "SlackSender",
    "SlackTraffic",
    "SlackUser",
    "SlackUsergroup",
    "SlackWorkspace",
    "SocketAck",
    "SocketModeHub",
    "blocks_problems",
    "message_text_too_long",
    "sign_request",
    "signature",
    "view_problems",
]
