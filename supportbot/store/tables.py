"""The store's tables, as typed SQLAlchemy ORM classes.

These describe the schema the migrations in ``migrations/versions/`` build; a test compares the
two, so a column added here without a migration fails the suite. Never call ``create_all``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ID_LENGTH = 32  # uuid4().hex
_Id = String(ID_LENGTH)
_Status = String(16)
_SlackId = String(64)  # channel, user and ts values
# BIGINT on PostgreSQL; SQLite only autoincrements a column declared exactly INTEGER.
_BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in, timezone-aware UTC out, on every backend.

    PostgreSQL stores ``timestamptz``. SQLite has no zones, so values are stored as UTC
    wall-clock text (fixed width, so comparisons order correctly) and read back as UTC.
    Naive datetimes are refused: they are a bug waiting for a server in another zone.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} given to the store; use UTC")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime from the database, got {value!r}")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class QuestionRow(Base):
    __tablename__ = "questions"

    id: Mapped[str] = mapped_column(_Id, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str | None] = mapped_column(_SlackId)
    user: Mapped[str | None] = mapped_column(_SlackId)
    thread_ts: Mapped[str | None] = mapped_column(_SlackId)
    message_ts: Mapped[str | None] = mapped_column(_SlackId)
    event_id: Mapped[str | None] = mapped_column(String(128), index=True)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(_Status)
    attempts: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    route: Mapped[str | None] = mapped_column(_Status)
    category: Mapped[str | None] = mapped_column(String(128))
    reasons: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    top_score: Mapped[float | None] = mapped_column(Float)
    draft: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    answer_text: Mapped[str | None] = mapped_column(Text)
    answer_ts: Mapped[str | None] = mapped_column(_SlackId)
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_questions_status_updated_at", "status", "updated_at"),
        Index("ix_questions_channel_thread_ts", "channel", "thread_ts"),
    )


class RetrievedPassageRow(Base):
    __tablename__ = "retrieved_passages"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    question_id: Mapped[str] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), index=True
    )
    rank: Mapped[int] = mapped_column(Integer)
    chunk_id: Mapped[str] = mapped_column(String(256))
    doc_id: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    heading: Mapped[str] = mapped_column(Text)
    line_start: Mapped[int] = mapped_column(Integer)
    line_end: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)


class DecisionRow(Base):
    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    question_id: Mapped[str] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), index=True
    )
    stage: Mapped[str] = mapped_column(String(32))
    route: Mapped[str] = mapped_column(_Status)
    category: Mapped[str | None] = mapped_column(String(128))
    reasons: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    declined: Mapped[bool] = mapped_column()
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class ModelCallRow(Base):
    __tablename__ = "model_calls"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    question_id: Mapped[str | None] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), index=True
    )
    tier: Mapped[str] = mapped_column(_Status)
    provider: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(128))
    outcome: Mapped[str] = mapped_column(String(32))
    latency_ms: Mapped[float] = mapped_column(Float)
    input_tokens: Mapped[int] = mapped_column(Integer)
    output_tokens: Mapped[int] = mapped_column(Integer)
    cache_read_tokens: Mapped[int] = mapped_column(Integer)
    cache_write_tokens: Mapped[int] = mapped_column(Integer)
    attempt: Mapped[int] = mapped_column(Integer)
    retries: Mapped[int] = mapped_column(Integer)
    request_id: Mapped[str | None] = mapped_column(String(128))
    error: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_model_calls_tier_at", "tier", "at"),)


class EscalationRow(Base):
    __tablename__ = "escalations"

    id: Mapped[str] = mapped_column(_Id, primary_key=True)
    question_id: Mapped[str] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), index=True
    )
    route: Mapped[str] = mapped_column(_Status)
    category: Mapped[str | None] = mapped_column(String(128))
    reasons: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    draft: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    proposed_answer: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(_Status)
    review_channel: Mapped[str | None] = mapped_column(_SlackId)
    review_ts: Mapped[str | None] = mapped_column(_SlackId)
    reviewer: Mapped[str | None] = mapped_column(_SlackId)
    final_answer: Mapped[str | None] = mapped_column(Text)
    reject_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sla_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_escalations_status_created_at", "status", "created_at"),)


class FeedbackRow(Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    question_id: Mapped[str] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    user: Mapped[str] = mapped_column(_SlackId)
    value: Mapped[str] = mapped_column(String(8))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    __table_args__ = (UniqueConstraint("question_id", "user", name="uq_feedback_question_user"),)


class AuditEventRow(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str | None] = mapped_column(_SlackId)
    question_id: Mapped[str | None] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), index=True
    )
    escalation_id: Mapped[str | None] = mapped_column(
        ForeignKey("escalations.id", ondelete="CASCADE"), index=True
    )
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class ProcessedEventRow(Base):
    """Claimed Slack event ids; the primary key makes a claim an insert-or-ignore."""

    __tablename__ = "processed_events"

    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
