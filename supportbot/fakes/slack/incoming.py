"""An incoming request as Slack sends it, and how it travels: signed over HTTP
(:func:`sign_request`, :class:`SlackSender`) or as a Socket Mode envelope
(:meth:`Incoming.envelope`)."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from dataclasses import dataclass, replace
from typing import Any, Literal, NamedTuple
from urllib.parse import urlencode

from supportbot.clock import Clock, SystemClock

IncomingKind = Literal["events_api", "interactive", "slash_commands", "url_verification"]


class SignedRequest(NamedTuple):
    """What Slack POSTs: the raw body and the headers (signature, timestamp, content type)."""

    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class Incoming:
    """One request Slack sends to an app, independent of the transport (HTTP or Socket Mode)."""

    kind: IncomingKind
    payload: dict[str, Any]
    retry_num: int = 0
    retry_reason: str = ""

    @property
    def content_type(self) -> str:
        if self.kind in ("events_api", "url_verification"):
            return "application/json"
        return "application/x-www-form-urlencoded"

    @property
    def event(self) -> dict[str, Any]:
        """The inner event of an ``events_api`` request."""
        event = self.payload.get("event")
        if not isinstance(event, dict):
            raise ValueError(f"a {self.kind} request has no inner event")
        return event

    def body(self) -> bytes:
        if self.kind in ("events_api", "url_verification"):
            return json.dumps(self.payload).encode()
        if self.kind == "interactive":
            return urlencode({"payload": json.dumps(self.payload)}).encode()
        return urlencode(self.payload).encode()

    def retried(self, num: int = 1, reason: str = "http_timeout") -> Incoming:
        """The same request as Slack redelivers it (same body and event_id, retry headers)."""
        return replace(self, retry_num=num, retry_reason=reason)

    def envelope(self, envelope_id: str) -> dict[str, Any]:
        """The Socket Mode envelope carrying this request."""
        if self.kind == "url_verification":
            raise ValueError("url_verification happens over HTTP only")
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": self.kind,
            "payload": self.payload,
            "accepts_response_payload": self.kind != "events_api",
        }
        if self.kind == "events_api":
            envelope["retry_attempt"] = self.retry_num
            envelope["retry_reason"] = self.retry_reason
        return envelope


def signature(signing_secret: str, timestamp: int | str, body: bytes) -> str:
    """``v0=`` + HMAC-SHA256 of ``v0:{timestamp}:{body}`` with the signing secret."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


def sign_request(incoming: Incoming, signing_secret: str, *, timestamp: int) -> SignedRequest:
    """The body and headers Slack sends for ``incoming`` at ``timestamp`` (epoch seconds)."""
    body = incoming.body()
    headers = {
        "Content-Type": incoming.content_type,
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": signature(signing_secret, timestamp, body),
    }
    if incoming.retry_num:
        headers["X-Slack-Retry-Num"] = str(incoming.retry_num)
        headers["X-Slack-Retry-Reason"] = incoming.retry_reason
    return SignedRequest(body, headers)


@dataclass(frozen=True)
class SlackHttpResponse:
    """What the app answered to one signed request."""

    status: int
    body: bytes
    headers: dict[str, str]

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class SlackSender:
    """POSTs signed requests to an app's endpoint (e.g. ``http://127.0.0.1:PORT/slack/events``)."""

    def __init__(
        self,
        url: str,
        signing_secret: str,
        *,
        clock: Clock | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.url = url
        self.signing_secret = signing_secret
        self.clock = clock or SystemClock()
        self.timeout = timeout

    def sign(self, incoming: Incoming) -> SignedRequest:
        return sign_request(
            incoming, self.signing_secret, timestamp=int(self.clock.now().timestamp())
        )

    def send(self, incoming: Incoming) -> SlackHttpResponse:
        return self.send_signed(self.sign(incoming))

    def send_signed(self, request: SignedRequest) -> SlackHttpResponse:
        http_request = urllib.request.Request(
            self.url, data=request.body, headers=request.headers, method="POST"
        )
        try:
            with urllib.request.urlopen(http_request, timeout=self.timeout) as response:
                return SlackHttpResponse(response.status, response.read(), dict(response.headers))
        except urllib.error.HTTPError as error:
            with error:
                return SlackHttpResponse(error.code, error.read(), dict(error.headers))
