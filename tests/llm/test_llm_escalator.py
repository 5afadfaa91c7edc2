"""The Anthropic escalator, driven through the official SDK against FakeAnthropic."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from llm_samples import FRONTIER_MODEL, REPO_POLICIES, eventually

from supportbot.fakes.anthropic import (
    FakeAnthropic,
    anthropic_error,
    overloaded,
    rate_limited,
    server_error,
    text_reply,
    tool_use,
)
from supportbot.fakes.http import delayed
from supportbot.llm import build_escalator
from supportbot.llm.anthropic_escalator import TOOL_NAME, AnthropicEscalator
from supportbot.llm.types import Draft, EscalationRequest, Evidence, FrontierAnswer
from supportbot.retrieval.types import Passage
from supportbot.routing.types import Reason
from supportbot.settings import Settings

ANSWER = FrontierAnswer(
    final_answer="Refunds are possible within 30 days of purchase.",
    decision="answer",
    rationale="billing/refunds.md states the 30-day window.",
)


def make_request(
    passages: list[Passage], question: str = "Can I get a refund?"
) -> EscalationRequest:
    return EscalationRequest(
        question=question,
        passages=passages[:2],
        draft=Draft(
            classification="billing",
            evidence=[
                Evidence(
                    source="billing/refunds.md",
                    quote="Customers can request a full refund within 30 days of purchase.",
                )
            ],
            draft_response="You can get a refund within 30 days.",
            confidence=0.45,
            escalate=False,
        ),
        reasons=[Reason(signal="low_confidence", detail="executor confidence 0.45 < 0.6")],
        category="refund_exception",
    )


@pytest.fixture
def escalator(anthropic_settings: Settings) -> Iterator[AnthropicEscalator]:
    with AnthropicEscalator.from_settings(anthropic_settings) as built:
        yield built


def user_text(body: dict[str, Any]) -> str:
    content = body["messages"][0]["content"]
    assert isinstance(content, str)
    return content


def test_success_returns_the_validated_answer_and_records_cache_usage(
    escalator: AnthropicEscalator, fake_anthropic: FakeAnthropic, passages: list[Passage]
) -> None:
    fake_anthropic.script("messages", tool_use(ANSWER), tool_use(ANSWER))

    first = escalator.escalate(make_request(passages))
    second = escalator.escalate(make_request(passages, "Another question about refunds?"))

    assert first.result == ANSWER
    assert first.error is None
    (call,) = first.calls
    assert (call.tier, call.provider, call.model, call.outcome) == (
        "escalator",
        "anthropic",
        FRONTIER_MODEL,
        "ok",
    )
    assert call.input_tokens > 0
    assert call.output_tokens > 0
    assert call.retries == 0
    assert (call.request_id or "").startswith("req_")
    # The static system prompt is written to the cache once and read by the next question.
    assert call.cache_write_tokens > 0
    assert call.cache_read_tokens == 0
    (again,) = second.calls
    assert again.cache_read_tokens == call.cache_write_tokens
    assert again.cache_write_tokens == 0
    # On the wire: a cached system block, one forced tool, the FrontierAnswer schema.
    body = fake_anthropic.message_requests[0].body
    assert body["model"] == FRONTIER_MODEL
    (system,) = body["system"]
    assert system["cache_control"] == {"type": "ephemeral"}
    assert f"`{TOOL_NAME}`" in system["text"]
    assert body["tool_choice"] == {"type": "tool", "name": TOOL_NAME}
    (tool,) = body["tools"]
    assert tool["name"] == TOOL_NAME
    assert set(tool["input_schema"]["required"]) == {"final_answer", "decision", "rationale"}
    assert fake_anthropic.credential(fake_anthropic.message_requests[0]) == "test-key"


def test_the_frontier_model_gets_only_the_escalation_request(
    escalator: AnthropicEscalator, fake_anthropic: FakeAnthropic, passages: list[Passage]
) -> None:
    fake_anthropic.script("messages", tool_use(ANSWER))

    escalator.escalate(make_request(passages))

    body = fake_anthropic.message_requests[0].body
    assert len(body["messages"]) == 1
    text = user_text(body)
    for part in ("question", "category", "escalation_reasons", "evidence", "assistant_draft"):
        assert f"<{part}>" in text
    assert "refund_exception" in text
    assert "low_confidence: executor confidence 0.45 < 0.6" in text
    assert 'source="billing/refunds.md"' in text
    assert 'source="accounts/password.md"' in text
    assert 'source="product/export.md"' not in text  # only the passages of the request
    assert "You can get a refund within 30 days." in text


def test_rate_limit_is_retried_by_the_sdk_honouring_retry_after(
    escalator: AnthropicEscalator, fake_anthropic: FakeAnthropic, passages: list[Passage]
) -> None:
    fake_anthropic.script("messages", rate_limited(retry_after=0.05), tool_use(ANSWER))

    outcome = escalator.escalate(make_request(passages))

    assert outcome.result == ANSWER
    (call,) = outcome.calls
    assert call.outcome == "ok"
    assert call.retries == 1
    assert len(fake_anthropic.message_requests) == 2
    assert [r.header("x-stainless-retry-count") for r in fake_anthropic.message_requests] == [
        "0",
        "1",
    ]


def test_overload_until_the_sdk_gives_up_is_a_failure_without_result(
    escalator: AnthropicEscalator, fake_anthropic: FakeAnthropic, passages: list[Passage]
) -> None:
    fake_anthropic.script("messages", *[overloaded(retry_after=0.01)] * 3)

    outcome = escalator.escalate(make_request(passages))

    assert outcome.result is None
    assert "529" in (outcome.error or "")
    assert "Overloaded" in (outcome.error or "")
    (call,) = outcome.calls
    assert call.outcome == "error"
    assert call.retries == 2
    assert (call.request_id or "").startswith("req_")
    assert len(fake_anthropic.message_requests) == 3  # max_retries=2: one try and two retries


def test_a_server_error_then_success_is_one_call(
    escalator: AnthropicEscalator, fake_anthropic: FakeAnthropic, passages: list[Passage]
) -> None:
    fake_anthropic.script(
        "messages",
        anthropic_error(500, "Internal server error", retry_after=0.01),
        tool_use(ANSWER),
    )

    outcome = escalator.escalate(make_request(passages))

    assert outcome.result == ANSWER
    assert outcome.calls[0].retries == 1


def test_client_errors_are_not_retried(
    escalator: AnthropicEscalator, fake_anthropic: FakeAnthropic, passages: list[Passage]
) -> None:
    fake_anthropic.script("messages", anthropic_error(400, "messages: too long"))

    outcome = escalator.escalate(make_request(passages))

    assert outcome.result is None
    assert "400" in (outcome.error or "")
    assert outcome.calls[0].retries == 0
    assert len(fake_anthropic.message_requests) == 1


def test_timeouts_are_retried_then_fail(
    isolated_env: Path, fake_anthropic: FakeAnthropic, passages: list[Passage]
) -> None:
    settings = Settings(
        anthropic_api_key="test-key",
        anthropic_base_url=fake_anthropic.url,
        anthropic_model=FRONTIER_MODEL,
        anthropic_timeout_seconds=0.5,
        anthropic_max_retries=1,
        policies_dir=REPO_POLICIES,
    )
    slow = delayed(30, tool_use(ANSWER))  # cut short when the fake stops
    fake_anthropic.script("messages", slow, slow)

    with AnthropicEscalator.from_settings(settings) as escalator:
        outcome = escalator.escalate(make_request(passages))

    assert outcome.result is None
    assert outcome.calls[0].outcome == "timeout"
    assert eventually(lambda: len(fake_anthropic.message_requests) == 2)


def test_invalid_tool_input_gets_one_repair_turn(
    escalator: AnthropicEscalator, fake_anthropic: FakeAnthropic, passages: list[Passage]
) -> None:
    fake_anthropic.script(
        "messages",
        tool_use({"final_answer": "Maybe.", "decision": "perhaps"}),
        tool_use(ANSWER),
    )

    outcome = escalator.escalate(make_request(passages))

    assert outcome.result == ANSWER
    assert [c.outcome for c in outcome.calls] == ["invalid_output", "ok"]
    repair = fake_anthropic.message_requests[1].body["messages"]
    assert [m["role"] for m in repair] == ["user", "assistant", "user"]
    (tool_call,) = repair[1]["content"]
    assert tool_call["type"] == "tool_use"
    (result,) = repair[2]["content"]
    assert result["type"] == "tool_result"
    assert result["tool_use_id"] == tool_call["id"]
    assert result["is_error"] is True
    assert "decision" in result["content"]
    assert "rationale: Field required" in result["content"]


def test_no_tool_call_twice_is_a_failure(
    escalator: AnthropicEscalator, fake_anthropic: FakeAnthropic, passages: list[Passage]
) -> None:
    fake_anthropic.script("messages", text_reply("I think yes."), text_reply("Still yes."))

    outcome = escalator.escalate(make_request(passages))

    assert outcome.result is None
    assert "invalid output after 2 attempts" in (outcome.error or "")
    assert f"did not call {TOOL_NAME}" in (outcome.error or "")
    assert [c.outcome for c in outcome.calls] == ["invalid_output", "invalid_output"]


QUESTION_WITH_PII = (
    "I'm jane.doe@example.com, call me on +44 20 7946 0958. My card 4111 1111 1111 1111 was "
    "charged twice; refund to IBAN GB82 WEST 1234 5698 7654 32 please. Order 12345."
)


def test_pii_is_masked_in_what_leaves_and_restored_in_the_answer(
    escalator: AnthropicEscalator, fake_anthropic: FakeAnthropic, passages: list[Passage]
) -> None:
    reply = FrontierAnswer(
        final_answer="We will write to [EMAIL_1] about card [CARD_1].",
        decision="needs_human",
        rationale="Refund request for [EMAIL_1].",
    )
    fake_anthropic.script("messages", tool_use(reply))

    outcome = escalator.escalate(make_request(passages, QUESTION_WITH_PII))

    sent = fake_anthropic.message_requests[0].raw_body.decode()
    for secret in ("jane.doe@example.com", "7946 0958", "4111 1111 1111 1111", "GB82 WEST"):
        assert secret not in sent
    text = user_text(fake_anthropic.message_requests[0].body)
    for placeholder in ("[EMAIL_1]", "[PHONE_1]", "[CARD_1]", "[IBAN_1]"):
        assert placeholder in text
    assert "Order 12345." in text  # not personal data
    assert outcome.result is not None
    # E-mail and phone go back into the answer; card numbers never do.
    assert (
        outcome.result.final_answer == "We will write to jane.doe@example.com about card [CARD_1]."
    )
    assert outcome.result.rationale == "Refund request for jane.doe@example.com."


def test_pii_is_sent_as_is_when_masking_is_off(
    isolated_env: Path, fake_anthropic: FakeAnthropic, passages: list[Passage]
) -> None:
    settings = Settings(
        anthropic_api_key="test-key",
        anthropic_base_url=fake_anthropic.url,
        anthropic_model=FRONTIER_MODEL,
        mask_pii=False,
        policies_dir=REPO_POLICIES,
    )
    fake_anthropic.script("messages", tool_use(ANSWER))

    with AnthropicEscalator.from_settings(settings) as escalator:
        escalator.escalate(make_request(passages, QUESTION_WITH_PII))

    text = user_text(fake_anthropic.message_requests[0].body)
    assert QUESTION_WITH_PII in text
    assert "[EMAIL_1]" not in text


def test_build_escalator_is_none_without_an_api_key(isolated_env: Path) -> None:
    assert build_escalator(Settings(policies_dir=REPO_POLICIES)) is None


def test_build_escalator_uses_settings(
    anthropic_settings: Settings, fake_anthropic: FakeAnthropic, passages: list[Passage]
) -> None:
    escalator = build_escalator(anthropic_settings)
    assert escalator is not None
    fake_anthropic.script("messages", tool_use(ANSWER))

    with escalator:
        assert escalator.escalate(make_request(passages)).result == ANSWER

    assert escalator.name == f"anthropic/{FRONTIER_MODEL}"
    assert json.loads(fake_anthropic.message_requests[0].raw_body)["max_tokens"] == 1024


def test_server_error_without_retry_after_still_retries(
    escalator: AnthropicEscalator, fake_anthropic: FakeAnthropic, passages: list[Passage]
) -> None:
    fake_anthropic.script("messages", server_error(503), tool_use(ANSWER))

    outcome = escalator.escalate(make_request(passages))

    assert outcome.result == ANSWER
    assert len(fake_anthropic.message_requests) == 2


def test_stand_in_decision_answers_routine_and_hands_risky_questions_to_people(
    escalator: AnthropicEscalator, fake_anthropic: FakeAnthropic, passages: list[Passage]
) -> None:
    from supportbot.fakes.anthropic import stand_in_decision

    fake_anthropic.set_default("messages", stand_in_decision())
    routine = make_request(passages).model_copy(update={"category": None})

    answered = escalator.escalate(routine).result
    risky = escalator.escalate(make_request(passages)).result

    assert answered is not None
    assert answered.decision == "answer"
    assert answered.final_answer == "You can get a refund within 30 days."
    assert "billing/refunds.md" in answered.rationale
    assert risky is not None
    assert risky.decision == "needs_human"
    assert "refund_exception" in risky.rationale
