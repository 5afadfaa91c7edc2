"""The store's domain records: what callers put in and get back (pydantic, ``extra="forbid"``).

Storage (SQLAlchemy rows) lives in ``tables.py``; ``sql.py`` maps between the two. Every
timestamp here is timezone-aware UTC and comes from the store's injected clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue

from supportbot.llm.types import Draft, ModelCall, ModelTier
from supportbot.routing.types import Decision, Reason, Route

QuestionSource = Literal["slack", "cli", "eval", "demo"]
QuestionStatus = Literal["received", "in_progress", "answered", "escalated", "declined", "failed"]
EscalationRoute = Literal["frontier", "human"]
EscalationStatus = Literal["pending", "approved", "edited", "rejected", "expired"]
DecisionStage = Literal["pre_model", "post_model", "frontier", "user_request"]
"""Who decided: the router before / after the executor, the frontier model's own verdict
(e.g. ``needs_human``), or the asker ("Ask a human")."""
FeedbackValue = Literal["up", "down"]

UNFINISHED_STATUSES: tuple[QuestionStatus, ...] = ("received", "in_progress")
"""A question in one of these states is still being worked on (or was, before a crash)."""

QUESTION_TRANSITIONS: Mapping[QuestionStatus, frozenset[QuestionStatus]] = {
    "received": frozenset({"in_progress", "failed"}),
    # in_progress -> in_progress is a re-claim after a crash (guarded by the attempts count)
    "in_progress": frozenset({"in_progress", "answered", "escalated", "declined", "failed"}),
    # a reviewer approved or edited the answer, or nobody will
    "escalated": frozenset({"answered", "declined", "failed"}),
    # the asker clicked "Ask a human"
    "answered": frozenset({"escalated"}),
    "declined": frozenset({"escalated"}),
    # retried, or handed to people after the bot failed
    "failed": frozenset({"in_progress", "escalated"}),
}
"""Which question state changes are legal; anything else is a programming error."""

ESCALATION_DECISIONS: tuple[EscalationStatus, ...] = ("approved", "edited", "rejected", "expired")


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewQuestion(_Record):
    """A question as it arrives, before the store gives it an id and a status."""

    source: QuestionSource
    text: str
    channel: str | None = None
    user: str | None = None
    thread_ts: str | None = None  # the thread to answer in (the message's own ts if top-level)
    message_ts: str | None = None
    event_id: str | None = None  # Slack's event_id, for the audit trail


class Question(_Record):
    """One question and where it stands."""

    id: str
    source: QuestionSource
    text: str
    channel: str | None
    user: str | None
    thread_ts: str | None
    message_ts: str | None
    event_id: str | None
    status: QuestionStatus
    attempts: int = Field(ge=0, description="How often work on it started (re-claims count).")
    received_at: AwareDatetime
    started_at: AwareDatetime | None
    answered_at: AwareDatetime | None
    updated_at: AwareDatetime
    route: Route | None = Field(description="The route of the latest recorded decision.")
    category: str | None
    reasons: list[Reason]
    top_score: float | None = Field(description="Best retrieval score; None before retrieval.")
    draft: Draft | None
    answer_text: str | None
    answer_ts: str | None = Field(description="ts of the bot's answer message in Slack.")
    error: str | None

    @property
    def finished(self) -> bool:
        return self.status not in UNFINISHED_STATUSES


class StoredDecision(_Record):
    """A router decision as recorded, with the stage that made it."""

    question_id: str
    stage: DecisionStage
    decision: Decision
    at: AwareDatetime


class ModelCallRecord(ModelCall):
    """A recorded model call: the call plus when and for which question."""

    id: int
    question_id: str | None
    at: AwareDatetime


class NewEscalation(_Record):
    question_id: str
    route: EscalationRoute
    category: str | None = None
    reasons: list[Reason] = Field(default_factory=list)
    draft: Draft | None = None  # the executor's draft, when there is one
    proposed_answer: str | None = None  # what "Approve" sends (frontier answer or draft text)


class Escalation(_Record):
    id: str
    question_id: str
    route: EscalationRoute
    category: str | None
    reasons: list[Reason]
    draft: Draft | None
    proposed_answer: str | None
    status: EscalationStatus
    review_channel: str | None
    review_ts: str | None
    reviewer: str | None
    final_answer: str | None
    reject_reason: str | None
    created_at: AwareDatetime
    decided_at: AwareDatetime | None
    sla_reminded_at: AwareDatetime | None

    @property
    def review_time(self) -> timedelta | None:
        """How long the decision took; None while pending."""
        return None if self.decided_at is None else self.decided_at - self.created_at


class Feedback(_Record):
    question_id: str
    user: str
    value: FeedbackValue
    at: AwareDatetime


class AuditEvent(_Record):
    id: int
    kind: str  # e.g. "question.answered", "escalation.approved", "slack.retry_ignored"
    actor: str | None
    question_id: str | None
    escalation_id: str | None
    details: dict[str, JsonValue]
    at: AwareDatetime


class TokenUsage(_Record):
    """Model calls and tokens of one (tier, provider, model) within a time window."""

    tier: ModelTier
    provider: str
    model: str
    calls: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int


class ChannelCount(_Record):
    channel: str
    questions: int


def require_aware(value: datetime, name: str) -> datetime:
    """Reject naive datetimes at the store's edge: a window without a zone is ambiguous."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value
