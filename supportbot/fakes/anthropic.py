"""A fake Anthropic Messages API (``POST /v1/messages``), for tests and the demo.

It speaks the real wire protocol, so the official ``anthropic`` SDK works against it unchanged
(``Anthropic(base_url=fake.url, api_key="test")``): message responses with ``text`` or
``tool_use`` content and a realistic ``usage`` (input/output tokens and prompt-cache figures),
errors as ``{"type": "error", "error": {"type", "message"}, "request_id"}`` with the proper
status, ``retry-after`` on rate limits and a ``request-id`` header on every response.

Prompt caching is simulated: the prefix up to the last ``cache_control`` breakpoint (tools,
then system, then messages) is written to the cache on first sight
(``cache_creation_input_tokens``) and read on later requests with the same prefix
(``cache_read_input_tokens``). Token counts are estimated at four characters a token.

Script per call::

    with FakeAnthropic() as fake:
        fake.script("messages", rate_limited(retry_after=0.01), tool_use({...}))
        ...
        assert len(fake.requests_to("messages")) == 2
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel

from supportbot.fakes.http import (
    FakeHttpServer,
    FakeResponse,
    RecordedRequest,
    Responder,
    delayed,
    example_from_schema,
)
from supportbot.fakes.ollama import estimate_tokens

__all__ = [
    "FakeAnthropic",
    "anthropic_error",
    "delayed",
    "overloaded",
    "rate_limited",
    "server_error",
    "stand_in_decision",
    "text_reply",
    "tool_use",
]

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def _request_id() -> str:
    return "req_fake" + uuid.uuid4().hex[:20]


def anthropic_error(
    status: int,
    message: str,
    *,
    error_type: str | None = None,
    retry_after: float | None = None,
    headers: Mapping[str, str] | None = None,
) -> Responder:
    """An API error in Anthropic's format, e.g. ``anthropic_error(400, "max_tokens: ...")``."""

    def respond(request: RecordedRequest) -> FakeResponse:
        kind = error_type or _ERROR_TYPES.get(status, "api_error")
        extra = dict(headers or {})
        if retry_after is not None:
            extra["retry-after"] = f"{retry_after:g}"
        return FakeResponse(
            status=status,
            body={"type": "error", "error": {"type": kind, "message": message}},
            headers=extra,
        )

    return respond


def rate_limited(retry_after: float | None = 1.0) -> Responder:
    """429 ``rate_limit_error`` with a ``retry-after`` header (seconds; the SDK honours it)."""
    return anthropic_error(
        429,
        "Number of request tokens has exceeded your per-minute rate limit.",
        retry_after=retry_after,
    )


def overloaded(retry_after: float | None = None) -> Responder:
    """529 ``overloaded_error``, as the API sends when it is temporarily overloaded."""
    return anthropic_error(529, "Overloaded", retry_after=retry_after)


def server_error(status: int = 500) -> Responder:
    """A 5xx ``api_error``."""
    return anthropic_error(status, "Internal server error", error_type="api_error")


def _message_body(
    request: RecordedRequest,
    content: list[dict[str, Any]],
    stop_reason: str,
    usage: Mapping[str, Any] | None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "msg_fake" + uuid.uuid4().hex[:20],
        "type": "message",
        "role": "assistant",
        "model": str(request.body.get("model", "")) if isinstance(request.body, dict) else "",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
    }
    if usage is not None:
        body["usage"] = dict(usage)
    return body


def _forced_tool(request: RecordedRequest) -> dict[str, Any] | None:
    body = request.body if isinstance(request.body, dict) else {}
    tools = [t for t in body.get("tools") or [] if isinstance(t, dict)]
    choice = body.get("tool_choice") or {}
    if choice.get("type") == "tool":
        return next((t for t in tools if t.get("name") == choice.get("name")), None)
    if choice.get("type") == "any" and tools:
        return tools[0]
    return None


def tool_use(
    tool_input: Mapping[str, Any] | BaseModel,
    *,
    name: str | None = None,
    usage: Mapping[str, Any] | None = None,
) -> Responder:
    """Answer with one ``tool_use`` block (the tool forced by ``tool_choice`` unless named)."""
    data = (
        tool_input.model_dump(mode="json")
        if isinstance(tool_input, BaseModel)
        else dict(tool_input)
    )

    def respond(request: RecordedRequest) -> FakeResponse:
        forced = _forced_tool(request)
        tool_name = name or (str(forced["name"]) if forced else "tool")
        block = {
            "type": "tool_use",
            "id": "toolu_fake" + uuid.uuid4().hex[:20],
            "name": tool_name,
            "input": data,
        }
        return FakeResponse(body=_message_body(request, [block], "tool_use", usage))

    return respond


def text_reply(
    text: str, *, stop_reason: str = "end_turn", usage: Mapping[str, Any] | None = None
) -> Responder:
    """Answer with one ``text`` block (e.g. a model that ignored the tool)."""

    def respond(request: RecordedRequest) -> FakeResponse:
        block = {"type": "text", "text": text}
        return FakeResponse(body=_message_body(request, [block], stop_reason, usage))

    return respond


_DRAFT_REPLY = re.compile(
    r"<assistant_draft>.*?draft reply:\n(.*?)(?:\nquotes it relied on:|\n</assistant_draft>)",
    re.DOTALL,
)
_CATEGORY = re.compile(r"<category>\n(.*?)\n</category>", re.DOTALL)
_PASSAGE_SOURCE = re.compile(r'<passage number="\d+" source="([^"]+)"')


def stand_in_decision() -> Responder:
    """A deterministic stand-in for the frontier model, for demos: it reads the escalation
    message supportbot sends and calls the forced tool with a FrontierAnswer-shaped input.

    It answers with the assistant's draft when no policy category matched and there are
    passages and a draft; otherwise it returns ``needs_human`` with the draft for the
    reviewer. The rationale says that it is a stand-in.
    """

    def respond(request: RecordedRequest) -> FakeResponse:
        messages = request.body.get("messages") or []
        first = messages[0].get("content") if messages else ""
        text = first if isinstance(first, str) else ""
        draft = _DRAFT_REPLY.search(text)
        category = _CATEGORY.search(text)
        sources = _PASSAGE_SOURCE.findall(text)
        matched = category is not None and category.group(1).strip() != "(none matched)"
        reply = draft.group(1).strip() if draft else ""
        decision = "answer" if reply and sources and not matched else "needs_human"
        why = (
            f"policy category {category.group(1).strip()!r} needs a person"
            if matched and category
            else "grounded in " + ", ".join(sources)
            if decision == "answer"
            else "no usable draft or evidence"
        )
        tool_input = {
            "final_answer": reply or "A specialist will look into this and reply here.",
            "decision": decision,
            "rationale": f"Stand-in for the frontier model (fake server): {why}.",
        }
        return tool_use(tool_input)(request)

    return respond


def _segments(body: Mapping[str, Any]) -> list[tuple[str, bool]]:
    """The prompt in cache order (tools, system, messages) as (text, has_cache_control)."""
    out: list[tuple[str, bool]] = []
    for tool in body.get("tools") or []:
        out.append((json.dumps(tool, sort_keys=True), "cache_control" in tool))
    system = body.get("system")
    if isinstance(system, str):
        out.append((system, False))
    elif isinstance(system, list):
        out.extend((json.dumps(b, sort_keys=True), "cache_control" in b) for b in system)
    for message in body.get("messages") or []:
        content = message.get("content")
        if isinstance(content, str):
            out.append((content, False))
        elif isinstance(content, list):
            out.extend(
                (json.dumps(b, sort_keys=True), isinstance(b, dict) and "cache_control" in b)
                for b in content
            )
    return out


class FakeAnthropic(FakeHttpServer):
    """A scriptable stand-in for the Anthropic API. Endpoint: ``messages``.

    ``api_key``: when given, requests with another ``x-api-key`` get a 401.
    ``cache_min_tokens``: prefixes shorter than this are not cached, silently, as the real API
    does (its minimum is 1,024 tokens for Sonnet- and Opus-class models, the default here).
    """

    routes: ClassVar[dict[tuple[str, str], str]] = {("POST", "/v1/messages"): "messages"}

    def __init__(self, *, api_key: str | None = None, cache_min_tokens: int = 1024) -> None:
        super().__init__()
        self.api_key = api_key
        self.cache_min_tokens = cache_min_tokens
        self._cached_prefixes: set[str] = set()

    @property
    def message_requests(self) -> list[RecordedRequest]:
        return self.requests_to("messages")

    @staticmethod
    def credential(request: RecordedRequest) -> str | None:
        """The API key a request carried (``x-api-key``, or ``Authorization: Bearer``)."""
        key = request.header("x-api-key")
        if key:
            return key
        scheme, _, token = (request.header("authorization") or "").partition(" ")
        return token.strip() or None if scheme.lower() == "bearer" else None

    def dispatch(self, request: RecordedRequest) -> FakeResponse:
        response = super().dispatch(request)
        request_id = _request_id()
        response.headers.setdefault("request-id", request_id)
        body = response.body
        if isinstance(body, dict) and body.get("type") == "error":
            body.setdefault("request_id", response.headers["request-id"])
        elif (
            response.status == 200
            and isinstance(body, dict)
            and body.get("type") == "message"
            and "usage" not in body
        ):
            body["usage"] = self._usage(request, body)
        return response

    def validate(self, request: RecordedRequest) -> FakeResponse | None:  # noqa: PLR0911
        key = self.credential(request)
        if not key:
            return anthropic_error(401, "x-api-key header is required")(request)
        if self.api_key is not None and key != self.api_key:
            return anthropic_error(401, "invalid x-api-key")(request)
        if not request.header("anthropic-version"):
            return anthropic_error(400, "anthropic-version: header is required")(request)
        body = request.body
        if not isinstance(body, dict):
            return anthropic_error(400, "The request body is not valid JSON.")(request)
        for name, kind in (("model", str), ("max_tokens", int), ("messages", list)):
            if not isinstance(body.get(name), kind):
                return anthropic_error(400, f"{name}: Field required")(request)
        if not body["messages"]:
            return anthropic_error(400, "messages: at least one message is required")(request)
        if body.get("stream"):
            return anthropic_error(400, "stream: the fake Anthropic server does not stream")(
                request
            )
        choice = body.get("tool_choice") or {}
        if choice.get("type") == "tool" and _forced_tool(request) is None:
            return anthropic_error(
                400, f"tool_choice: tool {choice.get('name')!r} not found in tools"
            )(request)
        return None

    def default_response(self, endpoint: str, request: RecordedRequest) -> FakeResponse:
        forced = _forced_tool(request)
        if forced is not None:
            return tool_use(example_from_schema(forced.get("input_schema") or {}))(request)
        return text_reply("This is a reply from the fake Anthropic server.")(request)

    def _usage(self, request: RecordedRequest, message: Mapping[str, Any]) -> dict[str, Any]:
        segments = _segments(request.body)
        total = sum(estimate_tokens(text) for text, _ in segments)
        breakpoints = [i for i, (_, marked) in enumerate(segments) if marked]
        created = read = 0
        if breakpoints:
            prefix = segments[: breakpoints[-1] + 1]
            prefix_tokens = sum(estimate_tokens(text) for text, _ in prefix)
            if prefix_tokens >= self.cache_min_tokens:
                key = hashlib.sha256(
                    json.dumps([request.body.get("model"), [t for t, _ in prefix]]).encode()
                ).hexdigest()
                with self._lock:
                    seen = key in self._cached_prefixes
                    self._cached_prefixes.add(key)
                read, created = (prefix_tokens, 0) if seen else (0, prefix_tokens)
        output = json.dumps(message.get("content", []))
        return {
            "input_tokens": total - created - read,
            "output_tokens": estimate_tokens(output),
            "cache_creation_input_tokens": created,
            "cache_read_input_tokens": read,
            "cache_creation": {
                "ephemeral_5m_input_tokens": created,
                "ephemeral_1h_input_tokens": 0,
            },
            "service_tier": "standard",
        }
