"""Persistence: questions, retrieval, decisions, model calls, escalations, feedback, audit
events and Slack event claims — SQLite under the data dir by default, PostgreSQL via
``DATABASE_URL``. Depend on the ``Store`` protocol; build one with ``open_store``.
"""

from __future__ import annotations

from supportbot.clock import Clock, SystemClock
from supportbot.settings import Settings
from supportbot.store.protocol import (
    AuditLog,
    EscalationStore,
    EventClaims,
    FeedbackStore,
    QuestionStore,
    ReportQueries,
    Store,
)
from supportbot.store.records import (
    QUESTION_TRANSITIONS,
    UNFINISHED_STATUSES,
    AuditEvent,
    ChannelCount,
    DecisionStage,
    Escalation,
    EscalationRoute,
    EscalationStatus,
    Feedback,
    FeedbackValue,
    ModelCallRecord,
    NewEscalation,
    NewQuestion,
    Question,
    QuestionSource,
    QuestionStatus,
    StoredDecision,
    TokenUsage,
)
from supportbot.store.sql import SqlStore


def open_store(settings: Settings, clock: Clock | None = None) -> SqlStore:
    """The configured store, migrated to the current schema (creates the data dir)."""
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqlStore.open(settings.resolved_database_url, clock=clock or SystemClock())


__all__ = [
    "QUESTION_TRANSITIONS",
    "UNFINISHED_STATUSES",
    "AuditEvent",
    "AuditLog",
    "ChannelCount",
    "DecisionStage",
    "Escalation",
    "EscalationRoute",
    "EscalationStatus",
    "EscalationStore",
    "EventClaims",
    "Feedback",
    "FeedbackStore",
    "FeedbackValue",
    "ModelCallRecord",
    "NewEscalation",
    "NewQuestion",
    "Question",
    "QuestionSource",
    "QuestionStatus",
    "QuestionStore",
    "ReportQueries",
    "SqlStore",
    "Store",
    "StoredDecision",
    "TokenUsage",
    "open_store",
]
