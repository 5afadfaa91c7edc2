"""Escalations: creation, compare-and-set review decisions, pending and SLA queries."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import JsonValue
from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from supportbot.store.records import (
    Escalation,
    EscalationStatus,
    NewEscalation,
    QuestionStatus,
)
from supportbot.store.sql.base import (
    SqlBase,
    check_question_transition,
    draft_json,
    new_id,
    reasons_json,
)
from supportbot.store.tables import (
    EscalationRow,
)


class EscalationMethods(SqlBase):
    """Escalations to the frontier tier or to human reviewers, and their review decisions."""

    def create_escalation(self, new: NewEscalation) -> Escalation:
        with self._write() as session:
            self._require_question(session, new.question_id)
            return self._insert_escalation(session, new, now=self._now())

    def escalate_question(
        self, new: NewEscalation, *, expected: QuestionStatus, actor: str | None = None
    ) -> Escalation | None:
        check_question_transition(expected, "escalated", None)
        now = self._now()
        with self._write() as session:
            if not self._cas_question(
                session, new.question_id, expected=expected, to="escalated", now=now
            ):
                return None
            self._audit(
                session,
                "question.escalated",
                at=now,
                actor=actor,
                question_id=new.question_id,
                details={"from": expected, "route": new.route},
            )
            return self._insert_escalation(session, new, now=now, actor=actor)

    def _insert_escalation(
        self, session: Session, new: NewEscalation, *, now: datetime, actor: str | None = None
    ) -> Escalation:
        row = EscalationRow(
            id=new_id(),
            question_id=new.question_id,
            route=new.route,
            category=new.category,
            reasons=reasons_json(new.reasons),
            draft=draft_json(new.draft),
            proposed_answer=new.proposed_answer,
            status="pending",
            created_at=now,
        )
        session.add(row)
        session.flush()
        self._audit(
            session,
            "escalation.created",
            at=now,
            actor=actor,
            question_id=new.question_id,
            escalation_id=row.id,
            details={"route": new.route, "category": new.category},
        )
        return Escalation.model_validate(row, from_attributes=True)

    def get_escalation(self, escalation_id: str) -> Escalation | None:
        with self._read() as session:
            row = session.get(EscalationRow, escalation_id)
            return None if row is None else Escalation.model_validate(row, from_attributes=True)

    def escalations_for_question(self, question_id: str) -> list[Escalation]:
        return self._escalations(
            select(EscalationRow)
            .where(EscalationRow.question_id == question_id)
            .order_by(EscalationRow.created_at, EscalationRow.id)
        )

    def set_review_message(self, escalation_id: str, *, channel: str, message_ts: str) -> bool:
        stmt = (
            update(EscalationRow)
            .where(EscalationRow.id == escalation_id, EscalationRow.review_ts.is_(None))
            .values(review_channel=channel, review_ts=message_ts)
        )
        with self._write() as session:
            return session.connection().execute(stmt).rowcount == 1

    def approve_escalation(
        self, escalation_id: str, *, reviewer: str | None, final_answer: str | None = None
    ) -> bool:
        answer: Any = EscalationRow.proposed_answer if final_answer is None else final_answer
        return self._decide(escalation_id, "approved", reviewer=reviewer, final_answer=answer)

    def edit_escalation(self, escalation_id: str, *, reviewer: str, final_answer: str) -> bool:
        return self._decide(escalation_id, "edited", reviewer=reviewer, final_answer=final_answer)

    def reject_escalation(
        self, escalation_id: str, *, reviewer: str, reason: str | None = None
    ) -> bool:
        return self._decide(escalation_id, "rejected", reviewer=reviewer, reject_reason=reason)

    def expire_escalation(self, escalation_id: str) -> bool:
        return self._decide(escalation_id, "expired", reviewer=None)

    def _decide(
        self,
        escalation_id: str,
        status: EscalationStatus,
        *,
        reviewer: str | None,
        final_answer: Any = None,
        reject_reason: str | None = None,
    ) -> bool:
        now = self._now()
        stmt = (
            update(EscalationRow)
            .where(EscalationRow.id == escalation_id, EscalationRow.status == "pending")
            .values(
                status=status,
                reviewer=reviewer,
                final_answer=final_answer,
                reject_reason=reject_reason,
                decided_at=now,
            )
            .returning(EscalationRow.question_id)
        )
        with self._write() as session:
            question_id = session.connection().execute(stmt).scalar_one_or_none()
            if question_id is None:
                return False
            details: dict[str, JsonValue] = {}
            if reject_reason is not None:
                details["reason"] = reject_reason
            self._audit(
                session,
                f"escalation.{status}",
                at=now,
                actor=reviewer,
                question_id=question_id,
                escalation_id=escalation_id,
                details=details,
            )
        return True

    def pending_escalations(self) -> list[Escalation]:
        return self._escalations(
            select(EscalationRow)
            .where(EscalationRow.status == "pending")
            .order_by(EscalationRow.created_at, EscalationRow.id)
        )

    def escalations_due_for_reminder(self, sla: timedelta) -> list[Escalation]:
        return self._escalations(
            select(EscalationRow)
            .where(*self._due_for_reminder(sla))
            .order_by(EscalationRow.created_at, EscalationRow.id)
        )

    def mark_sla_reminded(self, escalation_id: str, *, sla: timedelta) -> bool:
        now = self._now()
        stmt = (
            update(EscalationRow)
            .where(EscalationRow.id == escalation_id, *self._due_for_reminder(sla, now=now))
            .values(sla_reminded_at=now)
            .returning(EscalationRow.question_id)
        )
        with self._write() as session:
            question_id = session.connection().execute(stmt).scalar_one_or_none()
            if question_id is None:
                return False
            self._audit(
                session,
                "escalation.sla_reminded",
                at=now,
                question_id=question_id,
                escalation_id=escalation_id,
                details={"sla_minutes": sla.total_seconds() / 60},
            )
        return True

    def _due_for_reminder(
        self, sla: timedelta, *, now: datetime | None = None
    ) -> tuple[ColumnElement[bool], ...]:
        """Pending longer than ``sla``, and not reminded within the last ``sla`` either."""
        if sla <= timedelta(0):
            raise ValueError(f"the review SLA must be positive, got {sla}")
        cutoff = (now or self._now()) - sla
        return (
            EscalationRow.status == "pending",
            EscalationRow.created_at <= cutoff,
            or_(EscalationRow.sla_reminded_at.is_(None), EscalationRow.sla_reminded_at <= cutoff),
        )
