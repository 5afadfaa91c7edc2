"""Reviewer decisions and "Ask a human": compare-and-set, so each applies exactly once."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from supportbot.fakes.ollama import FakeOllama, chat_json
from supportbot.llm.types import Draft, Evidence
from supportbot.pipeline.types import PipelineResult
from supportbot.services import Services
from supportbot.store import NewQuestion

DRAFT = Draft(
    classification="refund",
    evidence=[
        Evidence(
            source="billing/refund-policy.md",
            quote="Refunds outside the 30-day window need approval from the billing team.",
        )
    ],
    draft_response="Late refunds need the billing team's approval; we'll check for you.",
    confidence=0.8,
    escalate=True,
    escalate_reason="refund exception",
)


def escalated(services: Services, ollama: FakeOllama) -> PipelineResult:
    ollama.script("chat", chat_json(DRAFT))
    result = services.pipeline.ask(
        NewQuestion(source="slack", text="I filed a chargeback, can I still get a refund?")
    )
    assert result.route == "human"
    assert result.escalation is not None
    return result


def test_approve_sends_the_proposed_answer_once(
    make_services: Callable[..., Services], ollama: FakeOllama
) -> None:
    services = make_services()
    result = escalated(services, ollama)
    assert result.escalation is not None

    first = services.reviews.approve(result.escalation.id, reviewer="U0BOB")
    second = services.reviews.approve(result.escalation.id, reviewer="U0CAROL")

    assert first.applied
    assert not second.applied
    assert second.escalation.reviewer == "U0BOB"
    assert first.escalation.status == "approved"
    assert first.escalation.final_answer == DRAFT.draft_response
    assert first.question.status == "answered"
    assert first.question.answer_text == DRAFT.draft_response


def test_concurrent_decisions_apply_exactly_once(
    make_services: Callable[..., Services], ollama: FakeOllama
) -> None:
    services = make_services()
    result = escalated(services, ollama)
    assert result.escalation is not None
    escalation_id = result.escalation.id
    barrier = threading.Barrier(6)
    outcomes: list[bool] = []

    def act(i: int) -> None:
        barrier.wait()
        if i % 3 == 0:
            r = services.reviews.approve(escalation_id, reviewer=f"U{i}")
        elif i % 3 == 1:
            r = services.reviews.edit(escalation_id, reviewer=f"U{i}", answer=f"text {i}")
        else:
            r = services.reviews.reject(escalation_id, reviewer=f"U{i}", reason="no")
        outcomes.append(r.applied)

    threads = [threading.Thread(target=act, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes) == [False] * 5 + [True]
    final = services.store.get_escalation(escalation_id)
    assert final is not None
    assert final.status in ("approved", "edited", "rejected")
    events = services.store.audit_events(escalation_id=escalation_id)
    decided = [e.kind for e in events if e.kind != "escalation.created"]
    assert decided == [f"escalation.{final.status}"]


def test_edit_sends_the_reviewers_text_and_rejects_empty_text(
    make_services: Callable[..., Services], ollama: FakeOllama
) -> None:
    services = make_services()
    result = escalated(services, ollama)
    assert result.escalation is not None

    with pytest.raises(ValueError, match="empty"):
        services.reviews.edit(result.escalation.id, reviewer="U0BOB", answer="   ")
    edited = services.reviews.edit(
        result.escalation.id, reviewer="U0BOB", answer="  We refunded you today.  "
    )

    assert edited.applied
    assert edited.escalation.status == "edited"
    assert edited.question.answer_text == "We refunded you today."


def test_reject_keeps_the_question_with_the_team(
    make_services: Callable[..., Services], ollama: FakeOllama
) -> None:
    services = make_services()
    result = escalated(services, ollama)
    assert result.escalation is not None

    rejected = services.reviews.reject(result.escalation.id, reviewer="U0BOB", reason=" wrong ")

    assert rejected.applied
    assert rejected.escalation.status == "rejected"
    assert rejected.escalation.reject_reason == "wrong"
    assert rejected.question.status == "escalated"
    assert rejected.question.answer_text is None


def test_ask_a_human_after_an_answer_escalates_once(
    make_services: Callable[..., Services], ollama: FakeOllama
) -> None:
    services = make_services()
    ollama.script(
        "chat",
        chat_json(
            Draft(
                classification="password",
                evidence=[
                    Evidence(
                        source="accounts/password-reset.md",
                        quote="The link is valid for 60 minutes and can be used once.",
                    )
                ],
                draft_response="The reset link is valid for 60 minutes.",
                confidence=0.9,
                escalate=False,
            )
        ),
    )
    answered = services.pipeline.ask(
        NewQuestion(source="slack", text="how long is the password reset link valid?")
    )
    assert answered.route == "answer"

    first = services.reviews.request_human(answered.question_id, user="U0ALICE")
    second = services.reviews.request_human(answered.question_id, user="U0ALICE")

    assert first is not None
    assert second is None
    assert first.proposed_answer == "The reset link is valid for 60 minutes."
    assert first.reasons[-1].signal == "user_requested"
    stages = [d.stage for d in services.store.decisions(answered.question_id)]
    assert stages == ["pre_model", "post_model", "user_request"]
