"""Read-only queries for the frontier budget and the daily digest."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from supportbot.llm.types import ModelTier
from supportbot.store.records import (
    ChannelCount,
    Escalation,
    Feedback,
    Question,
    TokenUsage,
    require_aware,
)
from supportbot.store.sql.base import (
    FRONTIER_TIER,
    SqlBase,
    window,
)
from supportbot.store.tables import (
    EscalationRow,
    FeedbackRow,
    ModelCallRow,
    QuestionRow,
)


class ReportMethods(SqlBase):
    """Counts and windows for the frontier budget and the daily digest (read-only)."""

    def count_model_calls(
        self, *, tier: ModelTier, start: datetime, end: datetime | None = None
    ) -> int:
        stmt = (
            select(func.count())
            .select_from(ModelCallRow)
            .where(ModelCallRow.tier == tier, ModelCallRow.at >= require_aware(start, "start"))
        )
        if end is not None:
            stmt = stmt.where(ModelCallRow.at < require_aware(end, "end"))
        with self._read() as session:
            return session.scalar(stmt) or 0

    def frontier_calls_today(self, timezone: tzinfo | str = "UTC") -> int:
        zone = ZoneInfo(timezone) if isinstance(timezone, str) else timezone
        local_now = self._now().astimezone(zone)
        midnight = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
        return self.count_model_calls(tier=FRONTIER_TIER, start=midnight)

    def questions_between(self, start: datetime, end: datetime) -> list[Question]:
        return self._questions(
            select(QuestionRow)
            .where(*window(QuestionRow.received_at, start, end))
            .order_by(QuestionRow.received_at, QuestionRow.id)
        )

    def escalations_between(
        self, start: datetime, end: datetime, *, by: Literal["created", "decided"] = "created"
    ) -> list[Escalation]:
        column = EscalationRow.created_at if by == "created" else EscalationRow.decided_at
        return self._escalations(
            select(EscalationRow)
            .where(*window(column, start, end))
            .order_by(column, EscalationRow.id)
        )

    def feedback_between(self, start: datetime, end: datetime) -> list[Feedback]:
        return self._feedback(
            select(FeedbackRow)
            .where(*window(FeedbackRow.at, start, end))
            .order_by(FeedbackRow.at, FeedbackRow.id)
        )

    def token_usage_between(self, start: datetime, end: datetime) -> list[TokenUsage]:
        def total(column: Any) -> Any:
            return func.coalesce(func.sum(column), 0).label(column.key)

        stmt = (
            select(
                ModelCallRow.tier,
                ModelCallRow.provider,
                ModelCallRow.model,
                func.count().label("calls"),
                total(ModelCallRow.input_tokens),
                total(ModelCallRow.output_tokens),
                total(ModelCallRow.cache_read_tokens),
                total(ModelCallRow.cache_write_tokens),
            )
            .where(*window(ModelCallRow.at, start, end))
            .group_by(ModelCallRow.tier, ModelCallRow.provider, ModelCallRow.model)
            .order_by(ModelCallRow.tier, ModelCallRow.provider, ModelCallRow.model)
        )
        with self._read() as session:
            return [TokenUsage.model_validate(row._asdict()) for row in session.execute(stmt)]

    def busiest_channels(
        self, start: datetime, end: datetime, *, limit: int = 5
    ) -> list[ChannelCount]:
        count = func.count().label("questions")
        stmt = (
            select(QuestionRow.channel, count)
            .where(QuestionRow.channel.is_not(None), *window(QuestionRow.received_at, start, end))
            .group_by(QuestionRow.channel)
            .order_by(count.desc(), QuestionRow.channel)
            .limit(limit)
        )
        with self._read() as session:
            return [
                ChannelCount(channel=channel, questions=questions)
                for channel, questions in session.execute(stmt)
                if channel is not None
            ]
