"""The Ollama executor, driven through the official ``ollama`` client against FakeOllama."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from llm_samples import REPO_POLICIES, eventually

from supportbot.fakes.http import delayed
from supportbot.fakes.ollama import FakeOllama, chat_json, chat_text, ollama_error
from supportbot.llm import build_executor
from supportbot.llm.ollama_executor import OllamaExecutor, draft_format_schema
from supportbot.llm.types import ConversationTurn, Draft, Evidence
from supportbot.retrieval.types import Passage
from supportbot.settings import Settings

QUESTION = "Can I get my money back after three weeks?"


def refund_draft(*evidence: Evidence, escalate: bool = False) -> Draft:
    return Draft(
        classification="billing",
        evidence=list(evidence)
        or [
            Evidence(
                source="billing/refunds.md",
                quote="Customers can request a full refund within 30 days of purchase.",
            )
        ],
        draft_response="Yes: a full refund is possible within 30 days of purchase.",
        confidence=0.9,
        escalate=escalate,
        escalate_reason="refund request" if escalate else None,
    )


@pytest.fixture
def executor(ollama_settings: Settings) -> Iterator[OllamaExecutor]:
    with OllamaExecutor.from_settings(ollama_settings) as built:
        yield built


def test_valid_draft_is_returned_with_one_recorded_call(
    executor: OllamaExecutor, fake_ollama: FakeOllama, passages: list[Passage]
) -> None:
    fake_ollama.script("chat", chat_json(refund_draft(), prompt_eval_count=812, eval_count=95))

    outcome = executor.draft(QUESTION, passages)

    assert outcome.draft == refund_draft()
    assert outcome.consecutive_failures == 0
    assert not outcome.invalid_output
    assert outcome.invented_citations == []
    (call,) = outcome.calls
    assert (call.tier, call.provider, call.model, call.outcome) == (
        "executor",
        "ollama",
        "qwen3:8b",
        "ok",
    )
    assert (call.input_tokens, call.output_tokens) == (812, 95)
    assert call.latency_ms > 0
    # What went over the wire: /api/chat, the Draft schema as format, temperature 0, num_ctx.
    (request,) = fake_ollama.chat_requests
    body = request.body
    assert body["model"] == "qwen3:8b"
    assert body["stream"] is False
    assert body["format"] == draft_format_schema()
    assert body["options"] == {"temperature": 0, "num_ctx": 4096}
    system, user = body["messages"]
    assert system["role"] == "system"
    assert "Stop conditions" in system["content"]
    assert '"draft_response"' in system["content"]  # the schema is in the prompt too
    assert user["role"] == "user"
    assert QUESTION in user["content"]
    assert 'source="billing/refunds.md" heading="Refunds > Refund window"' in user["content"]


def test_invalid_json_gets_one_repair_with_the_error_fed_back(
    executor: OllamaExecutor, fake_ollama: FakeOllama, passages: list[Passage]
) -> None:
    fake_ollama.script(
        "chat", chat_text('{"classification": "billing", '), chat_json(refund_draft())
    )

    outcome = executor.draft(QUESTION, passages)

    assert outcome.draft == refund_draft()
    assert outcome.consecutive_failures == 0
    assert [c.outcome for c in outcome.calls] == ["invalid_output", "ok"]
    assert [c.attempt for c in outcome.calls] == [1, 2]
    assert "json" in (outcome.calls[0].error or "").lower()
    first, repair = fake_ollama.chat_requests
    repair_messages = repair.body["messages"]
    assert repair_messages[:2] == first.body["messages"]
    assert repair_messages[2] == {"role": "assistant", "content": '{"classification": "billing", '}
    assert repair_messages[3]["role"] == "user"
    assert outcome.calls[0].error in repair_messages[3]["content"]


def test_invalid_twice_is_a_counted_failure_that_keeps_the_last_output(
    executor: OllamaExecutor, fake_ollama: FakeOllama, passages: list[Passage]
) -> None:
    schema_invalid = {"classification": "billing", "confidence": 7, "escalate": "maybe"}
    fake_ollama.script("chat", chat_text("I think yes!"), chat_json(schema_invalid))

    outcome = executor.draft(QUESTION, passages)

    assert outcome.draft is None
    assert outcome.consecutive_failures == 2
    assert outcome.invalid_output
    assert outcome.last_output is not None
    assert '"confidence": 7' in outcome.last_output
    assert [c.outcome for c in outcome.calls] == ["invalid_output", "invalid_output"]
    assert "confidence" in (outcome.error or "")
    assert "draft_response: Field required" in (outcome.error or "")


def test_invented_citations_are_dropped_and_reported(
    executor: OllamaExecutor, fake_ollama: FakeOllama, passages: list[Passage]
) -> None:
    real = Evidence(
        # Curly quotes, different case and spacing, and the wrong file: still a real quote.
        source="refunds.md",
        quote="\u201cafter 30 days,  REFUNDS are not available for monthly plans\u201d",
    )
    invented = Evidence(
        source="billing/refunds.md", quote="Refunds are always available on request."
    )
    fake_ollama.script("chat", chat_json(refund_draft(real, invented)))

    outcome = executor.draft(QUESTION, passages)

    assert outcome.draft is not None
    assert outcome.draft.evidence == [
        Evidence(source="billing/refunds.md", quote=real.quote),
    ]
    assert outcome.invented_citations == [invented]
    assert outcome.consecutive_failures == 0


def test_a_quote_found_in_another_passage_is_attributed_to_it(
    executor: OllamaExecutor, fake_ollama: FakeOllama, passages: list[Passage]
) -> None:
    misattributed = Evidence(source="billing/refunds.md", quote="The link expires after 24 hours.")
    fake_ollama.script("chat", chat_json(refund_draft(misattributed)))

    outcome = executor.draft("How long is the reset link valid?", passages)

    assert outcome.draft is not None
    assert outcome.draft.evidence == [
        Evidence(source="accounts/password.md", quote="The link expires after 24 hours.")
    ]
    assert outcome.invented_citations == []


def test_slow_model_times_out_and_counts_as_failures(
    isolated_env: Path, fake_ollama: FakeOllama, passages: list[Passage]
) -> None:
    settings = Settings(
        ollama_host=fake_ollama.url, ollama_timeout_seconds=0.5, policies_dir=REPO_POLICIES
    )
    slow = delayed(30, chat_json(refund_draft()))  # cut short when the fake stops
    fake_ollama.script("chat", slow, slow)

    with OllamaExecutor.from_settings(settings) as executor:
        outcome = executor.draft(QUESTION, passages)

    assert outcome.draft is None
    assert outcome.consecutive_failures == 2
    assert not outcome.invalid_output
    assert [c.outcome for c in outcome.calls] == ["timeout", "timeout"]
    assert "in time" in (outcome.error or "")
    assert eventually(lambda: len(fake_ollama.chat_requests) == 2)


def test_server_error_is_retried_once_then_the_draft_is_used(
    executor: OllamaExecutor, fake_ollama: FakeOllama, passages: list[Passage]
) -> None:
    fake_ollama.script("chat", ollama_error(500, "llama runner crashed"), chat_json(refund_draft()))

    outcome = executor.draft(QUESTION, passages)

    assert outcome.draft == refund_draft()
    assert outcome.consecutive_failures == 0
    assert [c.outcome for c in outcome.calls] == ["error", "ok"]
    assert "500" in (outcome.calls[0].error or "")
    assert "llama runner crashed" in (outcome.calls[0].error or "")
    first, second = fake_ollama.chat_requests
    assert first.body["messages"] == second.body["messages"]  # a plain retry, no repair turn


def test_server_errors_twice_fail_without_any_fallback(
    ollama_settings: Settings, fake_ollama: FakeOllama, embedder: object, passages: list[Passage]
) -> None:
    fake_ollama.script("chat", ollama_error(503, "busy"), ollama_error(500, "boom"))

    executor = build_executor(ollama_settings, embedder)  # type: ignore[arg-type]
    assert isinstance(executor, OllamaExecutor)
    with executor:
        outcome = executor.draft(QUESTION, passages)

    assert outcome.draft is None  # not an offline draft
    assert outcome.consecutive_failures == 2
    assert [c.provider for c in outcome.calls] == ["ollama", "ollama"]
    assert "boom" in (outcome.error or "")


def test_unreachable_ollama_is_a_model_failure(isolated_env: Path, passages: list[Passage]) -> None:
    with FakeOllama() as fake:
        url = fake.url  # a port nobody listens on once the fake has stopped
    settings = Settings(ollama_host=url, policies_dir=REPO_POLICIES, ollama_timeout_seconds=2)

    with OllamaExecutor.from_settings(settings) as executor:
        outcome = executor.draft(QUESTION, passages)

    assert outcome.draft is None
    assert outcome.consecutive_failures == 2
    assert all(c.outcome == "error" for c in outcome.calls)


def test_max_attempts_follows_the_policy(
    ollama_settings: Settings, fake_ollama: FakeOllama, passages: list[Passage]
) -> None:
    fake_ollama.script("chat", *[ollama_error(500)] * 3)

    with OllamaExecutor.from_settings(ollama_settings, max_attempts=3) as executor:
        outcome = executor.draft(QUESTION, passages)

    assert outcome.consecutive_failures == 3
    assert len(fake_ollama.chat_requests) == 3


def test_thread_history_is_bounded_and_informs_the_prompt(
    executor: OllamaExecutor, fake_ollama: FakeOllama, passages: list[Passage]
) -> None:
    history = [
        ConversationTurn(role="user" if i % 2 == 0 else "assistant", text=f"turn number {i}")
        for i in range(10)
    ] + [ConversationTurn(role="user", text="x" * 5000)]
    fake_ollama.script("chat", chat_json(refund_draft()))

    executor.draft("And for annual plans?", passages, history=history)

    user = fake_ollama.chat_requests[0].body["messages"][1]["content"]
    assert "Earlier messages in this thread" in user
    assert "turn number 9" in user
    assert "Support: turn number 9" in user
    assert "turn number 4" not in user  # only the last six turns are sent
    assert "x" * 800 not in user  # a long turn is cut
    assert user.index("turn number 9") < user.index("And for annual plans?")


def test_passages_beyond_the_context_budget_are_not_sent(
    isolated_env: Path, fake_ollama: FakeOllama, passages: list[Passage]
) -> None:
    settings = Settings(
        ollama_host=fake_ollama.url, ollama_num_ctx=1500, policies_dir=REPO_POLICIES
    )
    big = passages[0].model_copy(update={"text": passages[0].text + "\n" + "More words. " * 50})
    quote_from_dropped = Evidence(
        source="product/export.md", quote="Exports include comments and attachments"
    )
    fake_ollama.script("chat", chat_json(refund_draft(quote_from_dropped)))

    with OllamaExecutor.from_settings(settings) as executor:
        outcome = executor.draft(QUESTION, [big, *passages[1:]])

    user = fake_ollama.chat_requests[0].body["messages"][1]["content"]
    assert "billing/refunds.md" in user  # the best passage always goes
    assert "product/export.md" not in user
    # A quote of a passage the model never saw cannot be evidence.
    assert outcome.invented_citations == [quote_from_dropped]


def test_build_executor_needs_ollama_host_for_the_ollama_executor(
    isolated_env: Path, embedder: object
) -> None:
    from supportbot.llm.offline_executor import OfflineExecutor

    executor = build_executor(Settings(policies_dir=REPO_POLICIES), embedder)  # type: ignore[arg-type]

    assert isinstance(executor, OfflineExecutor)
