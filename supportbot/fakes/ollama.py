"""A fake Ollama server that speaks the real REST API, for tests and the demo.

Endpoints: ``POST /api/chat`` (non-streaming JSON, or NDJSON chunks when the client asks for
``stream``; ``format`` is honoured by the default responder), ``POST /api/embed``,
``GET /api/tags``, ``GET /api/version`` and ``GET /``. The official ``ollama`` client works
against it unchanged::

    with FakeOllama() as fake:
        fake.script("chat", chat_json(draft), chat_text("not json"), ollama_error(500))
        client = ollama.Client(host=fake.url)
        ...
        assert fake.requests_to("chat")[0].body["options"]["temperature"] == 0

Scripted responders (one per call, in order) come from :func:`chat_json`, :func:`chat_text`,
:func:`ollama_error` and :func:`~supportbot.fakes.http.delayed` (a slow server); when the
script is empty the default responder answers.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
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

__all__ = [
    "FakeOllama",
    "chat_json",
    "chat_text",
    "delayed",
    "estimate_tokens",
    "ollama_error",
]

DEFAULT_MODELS = ("qwen3:8b", "nomic-embed-text:latest")
_STREAM_CHUNK_CHARS = 24
_WORD = re.compile(r"\w+")


def estimate_tokens(text: str) -> int:
    """A rough token count (four characters a token), good enough for usage figures."""
    return max(1, len(text) // 4) if text else 0


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _prompt_text(request: RecordedRequest) -> str:
    if not isinstance(request.body, dict):
        return ""
    messages = request.body.get("messages") or []
    return "\n".join(str(m.get("content") or "") for m in messages if isinstance(m, dict))


def _model(request: RecordedRequest) -> str:
    return str(request.body.get("model", "")) if isinstance(request.body, dict) else ""


def _chat_response(
    request: RecordedRequest,
    content: str,
    *,
    prompt_eval_count: int | None,
    eval_count: int | None,
    done_reason: str,
) -> FakeResponse:
    model = _model(request)
    prompt_tokens = (
        prompt_eval_count
        if prompt_eval_count is not None
        else estimate_tokens(_prompt_text(request))
    )
    output_tokens = eval_count if eval_count is not None else estimate_tokens(content)
    final = {
        "model": model,
        "created_at": _now(),
        "done": True,
        "done_reason": done_reason,
        "total_duration": 1_000_000 * (prompt_tokens + output_tokens),
        "load_duration": 1_000_000,
        "prompt_eval_count": prompt_tokens,
        "prompt_eval_duration": 500_000 * prompt_tokens,
        "eval_count": output_tokens,
        "eval_duration": 1_000_000 * output_tokens,
    }
    streaming = not isinstance(request.body, dict) or request.body.get("stream", True) is not False
    if not streaming:
        body = {**final, "message": {"role": "assistant", "content": content}}
        return FakeResponse(body=body, content_type="application/json; charset=utf-8")

    def lines() -> Iterator[bytes]:
        for start in range(0, len(content), _STREAM_CHUNK_CHARS):
            piece = content[start : start + _STREAM_CHUNK_CHARS]
            part = {
                "model": model,
                "created_at": _now(),
                "message": {"role": "assistant", "content": piece},
                "done": False,
            }
            yield json.dumps(part).encode() + b"\n"
        last = {**final, "message": {"role": "assistant", "content": ""}}
        yield json.dumps(last).encode() + b"\n"

    return FakeResponse(stream=lines(), content_type="application/x-ndjson")


def chat_text(
    content: str,
    *,
    prompt_eval_count: int | None = None,
    eval_count: int | None = None,
    done_reason: str = "stop",
) -> Responder:
    """Answer a chat call with exactly ``content`` (e.g. invalid JSON, to test repairs)."""

    def respond(request: RecordedRequest) -> FakeResponse:
        return _chat_response(
            request,
            content,
            prompt_eval_count=prompt_eval_count,
            eval_count=eval_count,
            done_reason=done_reason,
        )

    return respond


def chat_json(
    value: BaseModel | Mapping[str, Any] | Sequence[Any],
    *,
    prompt_eval_count: int | None = None,
    eval_count: int | None = None,
) -> Responder:
    """Answer a chat call with ``value`` serialised as JSON (a draft, or schema-invalid JSON)."""
    text = (
        value.model_dump_json()
        if isinstance(value, BaseModel)
        else json.dumps(value, ensure_ascii=False)
    )
    return chat_text(text, prompt_eval_count=prompt_eval_count, eval_count=eval_count)


def ollama_error(
    status: int = 500, message: str = "llama runner process has terminated"
) -> Responder:
    """Answer with Ollama's error body ``{"error": message}`` and ``status``."""

    def respond(request: RecordedRequest) -> FakeResponse:
        return FakeResponse(
            status=status, body={"error": message}, content_type="application/json; charset=utf-8"
        )

    return respond


def _hashed_embedding(text: str, dimension: int) -> list[float]:
    """A deterministic bag-of-words vector: texts sharing words point the same way."""
    vector = [0.0] * dimension
    for word in _WORD.findall(text.lower()):
        digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
        index = int.from_bytes(digest[:4], "little") % dimension
        vector[index] += 1.0 if digest[4] & 1 else -1.0
    norm = sum(v * v for v in vector) ** 0.5 or 1.0
    return [v / norm for v in vector]


def _qualified(model: str) -> str:
    return model if ":" in model else f"{model}:latest"


class FakeOllama(FakeHttpServer):
    """A scriptable stand-in for an Ollama server. Endpoints: chat, embed, tags, version, root.

    ``models``: when given, only these models exist (others get Ollama's 404 "not found");
    by default every model name is accepted and ``/api/tags`` lists :data:`DEFAULT_MODELS`.
    """

    routes: ClassVar[dict[tuple[str, str], str]] = {
        ("POST", "/api/chat"): "chat",
        ("POST", "/api/embed"): "embed",
        ("GET", "/api/tags"): "tags",
        ("GET", "/api/version"): "version",
        ("GET", "/"): "root",
    }

    def __init__(
        self,
        *,
        models: Sequence[str] | None = None,
        embed_dimension: int = 64,
        version: str = "0.12.6",
    ) -> None:
        super().__init__()
        self.models = tuple(_qualified(m) for m in models) if models is not None else None
        self.embed_dimension = embed_dimension
        self.version = version

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return self.requests_to("chat")

    def validate(self, request: RecordedRequest) -> FakeResponse | None:
        if request.endpoint not in ("chat", "embed"):
            return None
        if not isinstance(request.body, dict):
            return ollama_error(400, "invalid request body")(request)
        model = _model(request)
        if not model:
            return ollama_error(400, "model is required")(request)
        if self.models is not None and _qualified(model) not in self.models:
            return ollama_error(404, f'model "{model}" not found, try pulling it first')(request)
        if request.endpoint == "chat" and not isinstance(request.body.get("messages", []), list):
            return ollama_error(400, "messages must be a list")(request)
        return None

    def default_response(self, endpoint: str, request: RecordedRequest) -> FakeResponse:
        if endpoint == "chat":
            return self._default_chat(request)
        if endpoint == "embed":
            return self._embed(request)
        if endpoint == "tags":
            return FakeResponse(
                body={"models": [self._tag(m) for m in self.models or DEFAULT_MODELS]}
            )
        if endpoint == "version":
            return FakeResponse(body={"version": self.version})
        return FakeResponse(body=b"Ollama is running", content_type="text/plain; charset=utf-8")

    def _default_chat(self, request: RecordedRequest) -> FakeResponse:
        schema = request.body.get("format")
        if isinstance(schema, dict):
            content = json.dumps(example_from_schema(schema))
        elif schema == "json":
            content = "{}"
        else:
            content = "This is a reply from the fake Ollama server."
        return chat_text(content)(request)

    def _embed(self, request: RecordedRequest) -> FakeResponse:
        raw = request.body.get("input", [])
        texts = [raw] if isinstance(raw, str) else [str(t) for t in raw]
        body = {
            "model": _model(request),
            "embeddings": [_hashed_embedding(t, self.embed_dimension) for t in texts],
            "total_duration": 1_000_000,
            "load_duration": 100_000,
            "prompt_eval_count": sum(estimate_tokens(t) for t in texts),
        }
        return FakeResponse(body=body, content_type="application/json; charset=utf-8")

    @staticmethod
    def _tag(name: str) -> dict[str, Any]:
        family = name.split(":", 1)[0].split("-", 1)[0]
        return {
            "name": name,
            "model": name,
            "modified_at": "2025-01-01T00:00:00Z",
            "size": 1_000_000_000,
            "digest": hashlib.sha256(name.encode()).hexdigest(),
            "details": {
                "parent_model": "",
                "format": "gguf",
                "family": family,
                "families": [family],
                "parameter_size": "8B",
                "quantization_level": "Q4_K_M",
            },
        }
