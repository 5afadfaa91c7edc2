"""Initial schema: questions, retrieval, decisions, model calls, escalations, feedback,
audit events and processed Slack events.

Revision ID: 0001
Revises:
Create Date: 2026-01-01
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id() -> sa.Column[int]:
    return sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True)


def _at(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _question_fk(*, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(
        "question_id",
        sa.String(32),
        sa.ForeignKey("questions.id", ondelete="CASCADE"),
        nullable=nullable,
    )


def upgrade() -> None:
    op.create_table(
        "questions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(64), nullable=True),
        sa.Column("user", sa.String(64), nullable=True),
        sa.Column("thread_ts", sa.String(64), nullable=True),
        sa.Column("message_ts", sa.String(64), nullable=True),
        sa.Column("event_id", sa.String(128), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _at("received_at"),
        _at("started_at", nullable=True),
        _at("answered_at", nullable=True),
        _at("updated_at"),
        sa.Column("route", sa.String(16), nullable=True),
        sa.Column("category", sa.String(128), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("top_score", sa.Float(), nullable=True),
        sa.Column("draft", sa.JSON(), nullable=True),
        sa.Column("answer_text", sa.Text(), nullable=True),
        sa.Column("answer_ts", sa.String(64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
    )
    op.create_index("ix_questions_event_id", "questions", ["event_id"])
    op.create_index("ix_questions_received_at", "questions", ["received_at"])
    op.create_index("ix_questions_status_updated_at", "questions", ["status", "updated_at"])
    op.create_index("ix_questions_channel_thread_ts", "questions", ["channel", "thread_ts"])

    op.create_table(
        "retrieved_passages",
        _id(),
        _question_fk(),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("chunk_id", sa.String(256), nullable=False),
        sa.Column("doc_id", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("heading", sa.Text(), nullable=False),
        sa.Column("line_start", sa.Integer(), nullable=False),
        sa.Column("line_end", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
    )
    op.create_index("ix_retrieved_passages_question_id", "retrieved_passages", ["question_id"])

    op.create_table(
        "decisions",
        _id(),
        _question_fk(),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("route", sa.String(16), nullable=False),
        sa.Column("category", sa.String(128), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("declined", sa.Boolean(), nullable=False),
        _at("at"),
    )
    op.create_index("ix_decisions_question_id", "decisions", ["question_id"])

    op.create_table(
        "model_calls",
        _id(),
        _question_fk(nullable=True),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("model", sa.String(128), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("cache_read_tokens", sa.Integer(), nullable=False),
        sa.Column("cache_write_tokens", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("retries", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        _at("at"),
    )
    op.create_index("ix_model_calls_question_id", "model_calls", ["question_id"])
    op.create_index("ix_model_calls_tier_at", "model_calls", ["tier", "at"])

    op.create_table(
        "escalations",
        sa.Column("id", sa.String(32), primary_key=True),
        _question_fk(),
        sa.Column("route", sa.String(16), nullable=False),
        sa.Column("category", sa.String(128), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("draft", sa.JSON(), nullable=True),
        sa.Column("proposed_answer", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("review_channel", sa.String(64), nullable=True),
        sa.Column("review_ts", sa.String(64), nullable=True),
        sa.Column("reviewer", sa.String(64), nullable=True),
        sa.Column("final_answer", sa.Text(), nullable=True),
        sa.Column("reject_reason", sa.Text(), nullable=True),
        _at("created_at"),
        _at("decided_at", nullable=True),
        _at("sla_reminded_at", nullable=True),
    )
    op.create_index("ix_escalations_question_id", "escalations", ["question_id"])
    op.create_index("ix_escalations_created_at", "escalations", ["created_at"])
    op.create_index("ix_escalations_status_created_at", "escalations", ["status", "created_at"])

    op.create_table(
        "feedback",
        _id(),
        _question_fk(),
        sa.Column("user", sa.String(64), nullable=False),
        sa.Column("value", sa.String(8), nullable=False),
        _at("at"),
        sa.UniqueConstraint("question_id", "user", name="uq_feedback_question_user"),
    )
    op.create_index("ix_feedback_at", "feedback", ["at"])

    op.create_table(
        "audit_events",
        _id(),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(64), nullable=True),
        _question_fk(nullable=True),
        sa.Column(
            "escalation_id",
            sa.String(32),
            sa.ForeignKey("escalations.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("details", sa.JSON(), nullable=False),
        _at("at"),
    )
    op.create_index("ix_audit_events_question_id", "audit_events", ["question_id"])
    op.create_index("ix_audit_events_escalation_id", "audit_events", ["escalation_id"])
    op.create_index("ix_audit_events_at", "audit_events", ["at"])

    op.create_table(
        "processed_events",
        sa.Column("event_id", sa.String(255), primary_key=True),
        _at("claimed_at"),
        _at("expires_at"),
    )
    op.create_index("ix_processed_events_expires_at", "processed_events", ["expires_at"])


def downgrade() -> None:
    for table in (
        "processed_events",
        "audit_events",
        "feedback",
        "escalations",
        "model_calls",
        "decisions",
        "retrieved_passages",
        "questions",
    ):
        op.drop_table(table)
