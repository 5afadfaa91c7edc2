"""Feedback votes, audit events and Slack event claims (de-duplication)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from pydantic import JsonValue
from sqlalchemy import delete, select

from supportbot.store.records import (
    AuditEvent,
    Feedback,
    FeedbackValue,
)
from supportbot.store.sql.base import (
    SqlBase,
)
from supportbot.store.tables import (
    AuditEventRow,
    FeedbackRow,
    ProcessedEventRow,
)


class ActivityMethods(SqlBase):
    """Feedback votes, the audit log, and claims that de-duplicate Slack events."""

    def record_feedback(self, question_id: str, *, user: str, value: FeedbackValue) -> None:
        now = self._now()
        stmt = self._insert()(FeedbackRow).values(
            question_id=question_id, user=user, value=value, at=now
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[FeedbackRow.question_id, FeedbackRow.user],
            set_={"value": stmt.excluded.value, "at": stmt.excluded.at},
        )
        with self._write() as session:
            self._require_question(session, question_id)
            session.execute(stmt)
            self._audit(
                session,
                f"feedback.{value}",
                at=now,
                actor=user,
                question_id=question_id,
            )

    def feedback_for(self, question_id: str) -> list[Feedback]:
        return self._feedback(
            select(FeedbackRow)
            .where(FeedbackRow.question_id == question_id)
            .order_by(FeedbackRow.at, FeedbackRow.id)
        )

    def record_audit(
        self,
        kind: str,
        *,
        actor: str | None = None,
        question_id: str | None = None,
        escalation_id: str | None = None,
        details: Mapping[str, JsonValue] | None = None,
    ) -> None:
        with self._write() as session:
            self._audit(
                session,
                kind,
                at=self._now(),
                actor=actor,
                question_id=question_id,
                escalation_id=escalation_id,
                details=details,
            )

    def audit_events(
        self, *, question_id: str | None = None, escalation_id: str | None = None
    ) -> list[AuditEvent]:
        stmt = select(AuditEventRow).order_by(AuditEventRow.id)
        if question_id is not None:
            stmt = stmt.where(AuditEventRow.question_id == question_id)
        if escalation_id is not None:
            stmt = stmt.where(AuditEventRow.escalation_id == escalation_id)
        with self._read() as session:
            return [
                AuditEvent.model_validate(row, from_attributes=True)
                for row in session.scalars(stmt)
            ]

    def claim_event(self, event_id: str, *, ttl: timedelta) -> bool:
        with self._write() as session:
            return self._take_claim(session, event_id, ttl=ttl, now=self._now())

    def purge_event_claims(self) -> int:
        stmt = delete(ProcessedEventRow).where(ProcessedEventRow.expires_at <= self._now())
        with self._write() as session:
            return session.connection().execute(stmt).rowcount
