"""Each route of the answer pipeline, through the official clients against the fake servers."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from supportbot.fakes.anthropic import FakeAnthropic, overloaded, tool_use
from supportbot.fakes.ollama import FakeOllama, chat_json, ollama_error
from supportbot.llm.types import ConversationTurn, Draft, Evidence
from supportbot.pipeline.answer import DECLINE_MESSAGE, PipelineFailure
from supportbot.retrieval.types import RetrievalResult
from supportbot.routing.types import Reason
from supportbot.services import Services
from supportbot.store import NewQuestion

PASSWORD_QUOTE = "We email a reset link to the address on your account."


def password_draft(**changes: object) -> Draft:
    draft = Draft(
        classification="password reset",
        evidence=[Evidence(source="accounts/password-reset.md", quote=PASSWORD_QUOTE)],
        draft_response="Click *Forgot password?* on the sign-in page; the link lasts 60 minutes.",
        confidence=0.9,
        escalate=False,
        escalate_reason=None,
    )
    return draft.model_copy(update=changes)


def frontier_answer(decision: str = "answer") -> dict[str, str]:
    return {
        "final_answer": "Use *Forgot password?*; the emailed link is valid for 60 minutes.",
        "decision": decision,
        "rationale": "grounded in accounts/password-reset.md",
    }


def signals(reasons: list[Reason]) -> list[str]:
    return [r.signal for r in reasons]


def test_routine_question_is_answered_by_the_open_model_with_citations(
    make_services: Callable[..., Services], ollama: FakeOllama, anthropic_fake: FakeAnthropic
) -> None:
    services = make_services()
    ollama.script("chat", chat_json(password_draft()))

    result = services.pipeline.ask(NewQuestion(source="cli", text="how do I reset my password?"))

    assert result.route == "answer"
    assert result.answered_by == "executor"
    assert result.answer == password_draft().draft_response
    assert [c.source for c in result.citations] == ["accounts/password-reset.md"]
    assert result.escalation is None
    assert anthropic_fake.message_requests == []
    stored = services.store.get_question(result.question_id)
    assert stored is not None
    assert stored.status == "answered"
    assert stored.answer_text == result.answer
    assert [d.stage for d in services.store.decisions(result.question_id)] == [
        "pre_model",
        "post_model",
    ]
    calls = services.store.model_calls(result.question_id)
    assert [(c.tier, c.outcome) for c in calls] == [("executor", "ok")]
    assert services.store.retrieval(result.question_id)[0].source == "accounts/password-reset.md"


def test_executor_flag_goes_to_the_frontier_model_which_answers(
    make_services: Callable[..., Services], ollama: FakeOllama, anthropic_fake: FakeAnthropic
) -> None:
    services = make_services()
    ollama.script("chat", chat_json(password_draft(escalate=True, escalate_reason="unsure")))
    anthropic_fake.script("messages", tool_use(frontier_answer()))

    result = services.pipeline.ask(
        NewQuestion(source="cli", text="my colleague jane@example.com forgot her password")
    )

    assert result.route == "frontier"
    assert result.answered_by == "frontier"
    assert result.answer == frontier_answer()["final_answer"]
    assert "executor_flag" in signals(result.reasons)
    (request,) = anthropic_fake.message_requests
    sent = str(request.body)
    assert "jane@example.com" not in sent  # PII masked before it leaves
    assert "[EMAIL_1]" in sent
    assert "Click *Forgot password?*" in sent  # the executor's draft goes along
    tiers = [c.tier for c in services.store.model_calls(result.question_id)]
    assert tiers == ["executor", "escalator"]
    stored = services.store.get_question(result.question_id)
    assert stored is not None
    assert stored.status == "answered"


def test_a_human_category_still_gets_a_draft_but_waits_for_a_reviewer(
    make_services: Callable[..., Services], ollama: FakeOllama, anthropic_fake: FakeAnthropic
) -> None:
    services = make_services()
    ollama.script("chat", chat_json(password_draft(classification="refund")))

    result = services.pipeline.ask(
        NewQuestion(source="cli", text="I filed a chargeback, will you refund me anyway?")
    )

    assert result.route == "human"
    assert result.category == "refund_exception"
    assert result.answer is None
    assert "keyword" in signals(result.reasons)
    assert len(ollama.chat_requests) == 1  # the reviewer gets a draft
    assert anthropic_fake.message_requests == []  # human-only: no frontier call
    assert result.escalation is not None
    assert result.escalation.status == "pending"
    assert result.escalation.proposed_answer == password_draft().draft_response
    assert [e.id for e in services.store.pending_escalations()] == [result.escalation.id]
    stored = services.store.get_question(result.question_id)
    assert stored is not None
    assert stored.status == "escalated"


def test_frontier_needs_human_and_frontier_failure_both_end_with_a_person(
    make_services: Callable[..., Services], ollama: FakeOllama, anthropic_fake: FakeAnthropic
) -> None:
    services = make_services()
    ollama.script(
        "chat",
        chat_json(password_draft(confidence=0.2)),
        chat_json(password_draft(confidence=0.2)),
    )
    anthropic_fake.script(
        "messages", tool_use(frontier_answer("needs_human")), overloaded(), overloaded()
    )

    first = services.pipeline.ask(NewQuestion(source="cli", text="how do I reset my password?"))
    second = services.pipeline.ask(NewQuestion(source="cli", text="password reset link?"))

    assert first.route == "human"
    assert "frontier_needs_human" in signals(first.reasons)
    assert first.escalation is not None
    assert first.escalation.proposed_answer == frontier_answer()["final_answer"]
    assert second.route == "human"
    assert "frontier_failure" in signals(second.reasons)
    assert second.escalation is not None
    assert second.escalation.proposed_answer == password_draft().draft_response
    stages = [d.stage for d in services.store.decisions(second.question_id)]
    assert stages == ["pre_model", "post_model", "frontier"]


def test_two_failed_model_calls_escalate_with_model_failure(
    make_services: Callable[..., Services], ollama: FakeOllama, anthropic_fake: FakeAnthropic
) -> None:
    services = make_services()
    ollama.script("chat", ollama_error(500), ollama_error(500))
    anthropic_fake.script("messages", tool_use(frontier_answer()))

    result = services.pipeline.ask(NewQuestion(source="cli", text="how do I reset my password?"))

    assert "model_failure" in signals(result.reasons)
    assert result.route == "frontier"
    assert result.draft is None
    outcomes = [c.outcome for c in services.store.model_calls(result.question_id)]
    assert outcomes == ["error", "error", "ok"]


def test_an_off_topic_question_is_declined_without_any_model_call(
    make_services: Callable[..., Services], ollama: FakeOllama, anthropic_fake: FakeAnthropic
) -> None:
    services = make_services()

    result = services.pipeline.ask(
        NewQuestion(source="cli", text="what's a good recipe for banana bread?")
    )

    assert result.declined
    assert result.route == "answer"
    assert result.answer == DECLINE_MESSAGE
    assert result.citations == []
    assert signals(result.reasons) == ["off_topic"]
    assert ollama.chat_requests == []
    assert anthropic_fake.message_requests == []
    stored = services.store.get_question(result.question_id)
    assert stored is not None
    assert stored.status == "declined"


def test_exhausted_budget_and_missing_frontier_model_go_to_people(
    make_services: Callable[..., Services], ollama: FakeOllama, anthropic_fake: FakeAnthropic
) -> None:
    no_budget = make_services(budget=0)
    no_key = make_services(escalator=None)
    ollama.set_default("chat", chat_json(password_draft(escalate=True)))

    spent = no_budget.pipeline.ask(NewQuestion(source="cli", text="how do I reset my password?"))
    absent = no_key.pipeline.ask(NewQuestion(source="cli", text="how do I reset my password?"))

    assert spent.route == "human"
    assert "budget_exhausted" in signals(spent.reasons)
    assert absent.route == "human"
    assert "frontier_unavailable" in signals(absent.reasons)
    assert anthropic_fake.message_requests == []


def test_the_frontier_budget_counts_todays_calls(
    make_services: Callable[..., Services], ollama: FakeOllama, anthropic_fake: FakeAnthropic
) -> None:
    services = make_services(budget=1)
    ollama.set_default("chat", chat_json(password_draft(escalate=True)))
    anthropic_fake.set_default("messages", tool_use(frontier_answer()))

    first = services.pipeline.ask(NewQuestion(source="cli", text="how do I reset my password?"))
    second = services.pipeline.ask(NewQuestion(source="cli", text="how do I reset my password?"))

    assert first.route == "frontier"
    assert second.route == "human"
    assert "budget_exhausted" in signals(second.reasons)
    assert len(anthropic_fake.message_requests) == 1


def test_a_failure_marks_the_question_failed_and_raises(
    make_services: Callable[..., Services],
) -> None:
    services = make_services()

    class BrokenRetriever:
        def retrieve(self, query: str, k: int) -> RetrievalResult:
            raise RuntimeError("index on fire")

    services.pipeline.retriever = BrokenRetriever()
    with pytest.raises(PipelineFailure) as caught:
        services.pipeline.ask(NewQuestion(source="cli", text="how do I reset my password?"))

    stored = services.store.get_question(caught.value.question_id)
    assert stored is not None
    assert stored.status == "failed"
    assert stored.error == "RuntimeError: index on fire"


def test_a_question_is_processed_by_one_worker_only(
    make_services: Callable[..., Services], ollama: FakeOllama
) -> None:
    services = make_services()
    ollama.set_default("chat", chat_json(password_draft()))
    question = services.pipeline.submit(NewQuestion(source="slack", text="reset my password?"))

    first = services.pipeline.process(question)
    again = services.pipeline.process(question)  # stale copy: status was "received"

    assert first is not None
    assert first.route == "answer"
    assert again is None
    assert len(ollama.chat_requests) == 1


def test_a_question_left_in_progress_by_a_crash_is_reclaimed_once(
    make_services: Callable[..., Services], ollama: FakeOllama
) -> None:
    services = make_services()
    ollama.set_default("chat", chat_json(password_draft()))
    question = services.pipeline.submit(NewQuestion(source="slack", text="reset my password?"))
    assert services.store.transition_question(question.id, expected="received", to="in_progress")
    crashed = services.store.get_question(question.id)
    assert crashed is not None

    recovered = services.pipeline.process(crashed)
    twice = services.pipeline.process(crashed)

    assert recovered is not None
    assert recovered.route == "answer"
    assert twice is None


def test_a_follow_up_also_searches_with_the_previous_question(
    make_services: Callable[..., Services], ollama: FakeOllama
) -> None:
    services = make_services()
    ollama.set_default("chat", chat_json(password_draft()))
    history = [
        ConversationTurn(role="user", text="how do I export my projects?"),
        ConversationTurn(role="assistant", text="Settings, then Export."),
    ]

    alone = services.pipeline.retrieve("can I do it for just one?")
    follow_up = services.pipeline.retrieve("can I do it for just one?", history)

    assert follow_up.passages[0].source == "product/exporting-data.md"
    assert alone.passages[0].source != "product/exporting-data.md"
    result = services.pipeline.ask(
        NewQuestion(source="slack", text="can I do it for just one?"), history=history
    )
    assert "how do I export my projects?" in str(ollama.chat_requests[-1].body)
    assert result.route == "answer"
