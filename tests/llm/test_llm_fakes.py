"""The fake servers speak the real protocols: the official clients work against them."""

from __future__ import annotations

import json

import anthropic
import httpx
import ollama
import pytest

from supportbot.fakes.anthropic import FakeAnthropic, rate_limited, tool_use
from supportbot.fakes.http import example_from_schema
from supportbot.fakes.ollama import FakeOllama, chat_json, chat_text, ollama_error
from supportbot.llm.types import Draft, FrontierAnswer


def test_ollama_chat_streams_ndjson_when_asked(fake_ollama: FakeOllama) -> None:
    fake_ollama.script("chat", chat_text("Hello from a long streamed reply, in pieces."))

    with ollama.Client(host=fake_ollama.url) as client:
        parts = list(
            client.chat(model="qwen3:8b", messages=[{"role": "user", "content": "hi"}], stream=True)
        )

    assert len(parts) > 2
    assert "".join(p.message.content or "" for p in parts) == (
        "Hello from a long streamed reply, in pieces."
    )
    assert [p.done for p in parts] == [False] * (len(parts) - 1) + [True]
    assert parts[-1].eval_count
    assert fake_ollama.chat_requests[0].body["stream"] is True


def test_ollama_default_chat_honours_the_format_schema(fake_ollama: FakeOllama) -> None:
    with ollama.Client(host=fake_ollama.url) as client:
        reply = client.chat(
            model="qwen3:8b",
            messages=[{"role": "user", "content": "hi"}],
            format=Draft.model_json_schema(),
        )

    assert Draft.model_validate_json(reply.message.content or "")


def test_ollama_embed_tags_version_and_errors(fake_ollama: FakeOllama) -> None:
    fake_ollama.script("chat", chat_json({"a": 1}), ollama_error(404, 'model "x" not found'))

    with ollama.Client(host=fake_ollama.url) as client:
        embedded = client.embed(
            model="nomic-embed-text", input=["reset password", "password reset"]
        )
        tags = client.list()
        assert json.loads(client.chat(model="m", messages=[]).message.content or "") == {"a": 1}
        with pytest.raises(ollama.ResponseError) as caught:
            client.chat(model="m", messages=[])

    first, second = embedded.embeddings
    assert len(first) == fake_ollama.embed_dimension
    assert sum(a * b for a, b in zip(first, second, strict=True)) == pytest.approx(1.0)
    assert [m.model for m in tags.models] == ["qwen3:8b", "nomic-embed-text:latest"]
    assert caught.value.status_code == 404
    version = httpx.get(f"{fake_ollama.url}/api/version").json()
    assert version == {"version": fake_ollama.version}
    assert [r.endpoint for r in fake_ollama.requests][:3] == ["embed", "tags", "chat"]


def test_ollama_rejects_unknown_models_when_models_are_listed() -> None:
    with FakeOllama(models=["qwen3:8b"]) as fake, ollama.Client(host=fake.url) as client:
        client.chat(model="qwen3:8b", messages=[])
        with pytest.raises(ollama.ResponseError, match="not found"):
            client.chat(model="llama3", messages=[])
        assert fake.pending("chat") == 0


def test_scripting_an_unknown_endpoint_is_an_error(fake_ollama: FakeOllama) -> None:
    with pytest.raises(ValueError, match="no endpoint 'chats'"):
        fake_ollama.script("chats", chat_text("x"))


def test_anthropic_errors_use_the_api_format(fake_anthropic: FakeAnthropic) -> None:
    fake_anthropic.script("messages", rate_limited(retry_after=7))

    response = httpx.post(
        f"{fake_anthropic.url}/v1/messages",
        headers={"x-api-key": "test-key", "anthropic-version": "2023-06-01"},
        json={"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "x"}]},
    )

    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    body = response.json()
    assert body["type"] == "error"
    assert body["error"]["type"] == "rate_limit_error"
    assert body["request_id"] == response.headers["request-id"]


def test_anthropic_rejects_malformed_requests_before_the_script(
    fake_anthropic: FakeAnthropic,
) -> None:
    fake_anthropic.script("messages", tool_use({"x": 1}))
    headers = {"x-api-key": "test-key", "anthropic-version": "2023-06-01"}

    no_auth = httpx.post(f"{fake_anthropic.url}/v1/messages", json={})
    no_max_tokens = httpx.post(
        f"{fake_anthropic.url}/v1/messages",
        headers=headers,
        json={"model": "m", "messages": [{"role": "user", "content": "x"}]},
    )

    assert no_auth.status_code == 401
    assert no_auth.json()["error"]["type"] == "authentication_error"
    assert no_max_tokens.status_code == 400
    assert "max_tokens" in no_max_tokens.json()["error"]["message"]
    assert fake_anthropic.pending("messages") == 1  # the scripted reply is still waiting


def test_anthropic_default_reply_fills_the_forced_tool_schema(
    fake_anthropic: FakeAnthropic,
) -> None:
    schema = FrontierAnswer.model_json_schema()
    with anthropic.Anthropic(api_key="test-key", base_url=fake_anthropic.url) as client:
        message = client.messages.create(
            model="claude-sonnet-5-5",
            max_tokens=100,
            tools=[{"name": "decide", "input_schema": schema}],
            tool_choice={"type": "tool", "name": "decide"},
            messages=[{"role": "user", "content": "hi"}],
        )

    (block,) = message.content
    assert block.type == "tool_use"
    assert block.name == "decide"
    assert FrontierAnswer.model_validate(block.input) == FrontierAnswer.model_validate(
        example_from_schema(schema)
    )
    assert message.stop_reason == "tool_use"
    assert message.usage.cache_creation_input_tokens == 0  # nothing marked for caching


@pytest.mark.parametrize(("words", "cached"), [(50, False), (2000, True)])
def test_anthropic_caches_only_prefixes_above_the_minimum(
    fake_anthropic: FakeAnthropic, words: int, cached: bool
) -> None:
    system = [{"type": "text", "text": "policy " * words, "cache_control": {"type": "ephemeral"}}]
    with anthropic.Anthropic(api_key="test-key", base_url=fake_anthropic.url) as client:
        usages = [
            client.messages.create(
                model="claude-sonnet-5-5",
                max_tokens=100,
                system=system,  # type: ignore[arg-type]
                messages=[{"role": "user", "content": question}],
            ).usage
            for question in ("first", "second")
        ]

    first, second = usages
    assert bool(first.cache_creation_input_tokens) is cached
    assert bool(second.cache_read_input_tokens) is cached
    assert second.cache_creation_input_tokens == 0
