"""Seed a store with questions, decisions, model calls, escalations, reviews and feedback.

Everything goes through the store's public API (and the pipeline's ``ReviewDesk`` for
review decisions), with a :class:`FakeClock` set to the chosen moment before each write, so
the records carry exactly the timestamps a test asks for::

    seed = StoreSeeder(store, clock)
    q = seed.question("How do I export invoices?", at=local("2026-03-10 10:00"),
                      route="human", reasons=["weak_retrieval"], top_score=0.21)
    seed.review(q.escalation, "approve", at=local("2026-03-10 10:20"))
    seed.feedback(q.question, "up", at=local("2026-03-10 11:00"))

Reusable by any test that needs a store with history (the digest, the SLA sweep, the demo).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from supportbot.clock import FakeClock
from supportbot.llm.types import ModelCall
from supportbot.pipeline.reviews import ReviewDesk
from supportbot.retrieval.types import Passage
from supportbot.routing.types import Decision, Reason, Route
from supportbot.store import SqlStore
from supportbot.store.records import (
    Escalation,
    FeedbackValue,
    NewEscalation,
    NewQuestion,
    Question,
    QuestionSource,
)

Outcome = Literal["answered", "declined", "failed", "escalated", "in_progress"]
ReviewAction = Literal["approve", "edit", "reject", "expire"]


def local_time(zone: str, text: str) -> datetime:
    """``"2026-03-10 23:30"`` in ``zone``, as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


@dataclass(frozen=True)
class Tokens:
    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0


@dataclass(frozen=True)
class Seeded:
    question: Question
    escalation: Escalation | None


class StoreSeeder:
    def __init__(self, store: SqlStore, clock: FakeClock) -> None:
        self.store = store
        self.clock = clock
        self.reviews = ReviewDesk(store)

    def question(
        self,
        text: str,
        *,
        at: datetime,
        route: Route = "answer",
        outcome: Outcome | None = None,
        category: str | None = None,
        reasons: Sequence[str] = (),
        top_score: float | None = 0.8,
        channel: str | None = "C0SUPPORT",
        user: str = "U0ALICE",
        executor: Tokens | None = Tokens(800, 150),
        frontier: Tokens | None = None,
        source: QuestionSource = "slack",
    ) -> Seeded:
        """One question as the pipeline would leave it.

        ``outcome`` defaults by route: ``answer``/``frontier`` -> ``answered``, ``human`` ->
        ``escalated`` (with a pending escalation to people). ``declined`` records the
        off-topic decline. ``executor``/``frontier`` are the tokens of the calls made.
        """
        outcome = outcome or ("escalated" if route == "human" else "answered")
        self.clock.set(at)
        store = self.store
        new = NewQuestion(source=source, text=text, channel=channel, user=user)
        question = store.create_question(new)
        qid = question.id
        assert store.transition_question(qid, expected="received", to="in_progress")
        if top_score is not None:
            store.record_retrieval(qid, [_passage(top_score)])
        decision = Decision(
            route=route,
            category=category,
            reasons=[Reason(signal=s, detail=f"seeded {s}") for s in reasons],
            declined=outcome == "declined",
        )
        store.record_decision(qid, decision, stage="post_model")
        calls: list[ModelCall] = []
        if executor is not None and outcome != "declined":
            calls.append(_call("executor", "ollama", "qwen3:8b", executor))
        if frontier is not None:
            calls.append(_call("escalator", "anthropic", "claude-sonnet-5-5", frontier))
        store.record_model_calls(qid, calls)
        escalation = None
        if outcome == "escalated":
            escalation = store.escalate_question(
                NewEscalation(
                    question_id=qid,
                    route="human",
                    category=category,
                    reasons=decision.reasons,
                    proposed_answer="A drafted answer.",
                ),
                expected="in_progress",
            )
            assert escalation is not None
        elif outcome in ("answered", "declined", "failed"):
            assert store.transition_question(
                qid,
                expected="in_progress",
                to=outcome,
                answer_text="An answer." if outcome != "failed" else None,
                error="ModelUnavailable: seeded" if outcome == "failed" else None,
            )
        found = store.get_question(qid)
        assert found is not None
        return Seeded(question=found, escalation=escalation)

    def review(
        self,
        escalation: Escalation | None,
        action: ReviewAction,
        *,
        at: datetime,
        reviewer: str = "U0BOB",
    ) -> None:
        """A reviewer's decision (or the expiry) at ``at``."""
        assert escalation is not None
        self.clock.set(at)
        if action == "approve":
            assert self.reviews.approve(escalation.id, reviewer=reviewer).applied
        elif action == "edit":
            assert self.reviews.edit(escalation.id, reviewer=reviewer, answer="Edited.").applied
        elif action == "reject":
            assert self.reviews.reject(escalation.id, reviewer=reviewer, reason="wrong").applied
        else:
            assert self.store.expire_escalation(escalation.id)

    def feedback(
        self, question: Question, value: FeedbackValue, *, at: datetime, user: str = "U0ALICE"
    ) -> None:
        self.clock.set(at)
        self.store.record_feedback(question.id, user=user, value=value)


def _passage(score: float) -> Passage:
    return Passage(
        chunk_id="seeded@0#0",
        doc_id="seeded",
        source="seeded.md",
        heading="Seeded",
        line_start=1,
        line_end=2,
        text="A seeded passage.",
        score=score,
    )


def _call(
    tier: Literal["executor", "escalator"], provider: str, model: str, t: Tokens
) -> ModelCall:
    return ModelCall(
        tier=tier,
        provider=provider,
        model=model,
        outcome="ok",
        latency_ms=100.0,
        input_tokens=t.input,
        output_tokens=t.output,
        cache_read_tokens=t.cache_read,
        cache_write_tokens=t.cache_write,
    )
