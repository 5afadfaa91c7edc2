"""The store's seam: what the pipeline, the Slack app, the jobs and the digest may call.

``Store`` is the union of small role protocols, so a part that needs only one role (say, the
Slack edge's event de-duplication) can ask for just that. ``SqlStore`` implements them all.

Conventions: every timestamp is timezone-aware UTC from the store's clock; time windows are
``[start, end)`` and must be timezone-aware; methods that change a state are compare-and-set
and return whether they applied (False: another caller got there first, or the record is in
another state or missing) — they never raise for a lost race.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Literal, Protocol

from pydantic import JsonValue

from supportbot.llm.types import Draft, ModelCall, ModelTier
from supportbot.retrieval.types import Passage
from supportbot.routing.types import Decision
from supportbot.store.records import (
    AuditEvent,
    ChannelCount,
    DecisionStage,
    Escalation,
    Feedback,
    FeedbackValue,
    ModelCallRecord,
    NewEscalation,
    NewQuestion,
    Question,
    QuestionStatus,
    StoredDecision,
    TokenUsage,
)


class QuestionStore(Protocol):
    def create_question(self, new: NewQuestion) -> Question:
        """Record a question as ``received`` (audit: ``question.received``)."""
        ...

    def claim_and_create_question(
        self, key: str, new: NewQuestion, *, ttl: timedelta
    ) -> Question | None:
        """In one transaction: take the claim ``key`` (as ``claim_event``) and record the
        question. None when the claim is held (a duplicate delivery), and then nothing was
        recorded; a crash can never leave a claim without its question."""
        ...

    def get_question(self, question_id: str) -> Question | None: ...

    def questions_in_thread(self, channel: str, thread_ts: str) -> list[Question]:
        """Earlier questions of a Slack thread, oldest first (for follow-ups)."""
        ...

    def transition_question(
        self,
        question_id: str,
        *,
        expected: QuestionStatus,
        to: QuestionStatus,
        expected_attempts: int | None = None,
        answer_text: str | None = None,
        answer_ts: str | None = None,
        error: str | None = None,
        actor: str | None = None,
    ) -> bool:
        """Compare-and-set the status from ``expected`` to ``to``; True when it applied.

        Legal moves are ``records.QUESTION_TRANSITIONS`` (others raise ValueError). Going to
        ``in_progress`` counts an attempt and stamps ``started_at``; ``answered`` stamps
        ``answered_at``. Re-claiming an ``in_progress`` question after a crash is
        ``expected="in_progress", to="in_progress", expected_attempts=q.attempts``: of
        several workers, one wins. Audit: ``question.<to>``.
        """
        ...

    def record_answer_message(self, question_id: str, message_ts: str) -> None:
        """Remember the ts of the bot's answer message (raises RecordNotFound)."""
        ...

    def unfinished_questions(self, *, idle_for: timedelta = ...) -> list[Question]:
        """Questions still ``received``/``in_progress`` whose last change is at least
        ``idle_for`` old: after a crash, at start-up, these were interrupted."""
        ...

    def record_retrieval(self, question_id: str, passages: Sequence[Passage]) -> None:
        """Store the retrieved passages (replacing earlier ones) and the top score."""
        ...

    def retrieval(self, question_id: str) -> list[Passage]: ...

    def record_draft(self, question_id: str, draft: Draft) -> None: ...

    def record_decision(
        self, question_id: str, decision: Decision, *, stage: DecisionStage
    ) -> None:
        """Append a router decision; the question's route/category/reasons become its."""
        ...

    def decisions(self, question_id: str) -> list[StoredDecision]: ...

    def record_model_calls(self, question_id: str | None, calls: Sequence[ModelCall]) -> None: ...

    def model_calls(self, question_id: str) -> list[ModelCallRecord]: ...


class EscalationStore(Protocol):
    def create_escalation(self, new: NewEscalation) -> Escalation:
        """A ``pending`` escalation (audit: ``escalation.created``)."""
        ...

    def escalate_question(
        self, new: NewEscalation, *, expected: QuestionStatus, actor: str | None = None
    ) -> Escalation | None:
        """In one transaction: move the question ``expected`` -> ``escalated`` and create the
        escalation. None when the question was not in ``expected`` (e.g. a second click on
        "Ask a human"), and then nothing was created."""
        ...

    def get_escalation(self, escalation_id: str) -> Escalation | None: ...

    def escalations_for_question(self, question_id: str) -> list[Escalation]: ...

    def set_review_message(self, escalation_id: str, *, channel: str, message_ts: str) -> bool:
        """Remember the review message; applies only once per escalation."""
        ...

    def approve_escalation(
        self, escalation_id: str, *, reviewer: str | None, final_answer: str | None = None
    ) -> bool:
        """``pending`` -> ``approved``; the final answer defaults to the proposed answer."""
        ...

    def edit_escalation(self, escalation_id: str, *, reviewer: str, final_answer: str) -> bool:
        """``pending`` -> ``edited`` with the reviewer's text."""
        ...

    def reject_escalation(
        self, escalation_id: str, *, reviewer: str, reason: str | None = None
    ) -> bool:
        """``pending`` -> ``rejected``."""
        ...

    def expire_escalation(self, escalation_id: str) -> bool:
        """``pending`` -> ``expired``."""
        ...

    def pending_escalations(self) -> list[Escalation]:
        """Everything still waiting for a reviewer, oldest first (survives restarts)."""
        ...

    def escalations_due_for_reminder(self, sla: timedelta) -> list[Escalation]:
        """Pending for longer than ``sla`` and not reminded within the last ``sla``."""
        ...

    def mark_sla_reminded(self, escalation_id: str, *, sla: timedelta) -> bool:
        """Claim this period's reminder; True for exactly one caller per period."""
        ...


class FeedbackStore(Protocol):
    def record_feedback(self, question_id: str, *, user: str, value: FeedbackValue) -> None:
        """One vote per user and question; the last one wins."""
        ...

    def feedback_for(self, question_id: str) -> list[Feedback]: ...


class AuditLog(Protocol):
    def record_audit(
        self,
        kind: str,
        *,
        actor: str | None = None,
        question_id: str | None = None,
        escalation_id: str | None = None,
        details: Mapping[str, JsonValue] | None = None,
    ) -> None: ...

    def audit_events(
        self, *, question_id: str | None = None, escalation_id: str | None = None
    ) -> list[AuditEvent]:
        """Events in the order they were recorded; all of them when no filter is given."""
        ...


class EventClaims(Protocol):
    def claim_event(self, event_id: str, *, ttl: timedelta) -> bool:
        """True for exactly one caller per ``event_id`` within ``ttl`` (insert-or-ignore on
        a unique key), however many workers try at once; an expired claim can be taken
        again. Any string key works, e.g. ``f"msg:{channel}:{ts}"`` or a job's run id."""
        ...

    def purge_event_claims(self) -> int:
        """Delete expired claims; returns how many."""
        ...


class ReportQueries(Protocol):
    def count_model_calls(
        self, *, tier: ModelTier, start: datetime, end: datetime | None = None
    ) -> int:
        """Recorded calls of ``tier`` (every attempt, whatever its outcome) since ``start``."""
        ...

    def frontier_calls_today(self, timezone: tzinfo | str = ...) -> int:
        """Escalator-tier calls since local midnight in ``timezone`` (the daily budget)."""
        ...

    def questions_between(self, start: datetime, end: datetime) -> list[Question]:
        """Questions received in ``[start, end)``, with route, category, reasons, top score."""
        ...

    def escalations_between(
        self, start: datetime, end: datetime, *, by: Literal["created", "decided"] = ...
    ) -> list[Escalation]: ...

    def feedback_between(self, start: datetime, end: datetime) -> list[Feedback]: ...

    def token_usage_between(self, start: datetime, end: datetime) -> list[TokenUsage]:
        """Calls and tokens per (tier, provider, model) in ``[start, end)``."""
        ...

    def busiest_channels(
        self, start: datetime, end: datetime, *, limit: int = ...
    ) -> list[ChannelCount]: ...


class Store(
    QuestionStore, EscalationStore, FeedbackStore, AuditLog, EventClaims, ReportQueries, Protocol
):
    """Everything the application persists. ``SqlStore`` is the implementation."""

    def close(self) -> None: ...
