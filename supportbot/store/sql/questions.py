"""Questions and what happened to them: retrieval, draft, decisions, model calls."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import JsonValue
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from supportbot.errors import RecordNotFound
from supportbot.llm.types import Draft, ModelCall
from supportbot.retrieval.types import Passage
from supportbot.routing.types import Decision, Reason
from supportbot.store.records import (
    UNFINISHED_STATUSES,
    DecisionStage,
    ModelCallRecord,
    NewQuestion,
    Question,
    QuestionStatus,
    StoredDecision,
)
from supportbot.store.sql.base import (
    SqlBase,
    check_question_transition,
    draft_json,
    new_id,
    reasons_json,
)
from supportbot.store.tables import (
    DecisionRow,
    ModelCallRow,
    QuestionRow,
    RetrievedPassageRow,
)


class QuestionMethods(SqlBase):
    """Questions and their trail: status, retrieval, draft, decisions, model calls."""

    def create_question(self, new: NewQuestion) -> Question:
        with self._write() as session:
            return self._create_question(session, new, now=self._now())

    def claim_and_create_question(
        self, key: str, new: NewQuestion, *, ttl: timedelta
    ) -> Question | None:
        now = self._now()
        with self._write() as session:
            if not self._take_claim(session, key, ttl=ttl, now=now):
                return None
            return self._create_question(session, new, now=now)

    def _create_question(self, session: Session, new: NewQuestion, *, now: datetime) -> Question:
        row = QuestionRow(
            id=new_id(),
            source=new.source,
            channel=new.channel,
            user=new.user,
            thread_ts=new.thread_ts,
            message_ts=new.message_ts,
            event_id=new.event_id,
            text=new.text,
            status="received",
            attempts=0,
            received_at=now,
            updated_at=now,
            reasons=[],
        )
        session.add(row)
        session.flush()
        self._audit(
            session,
            "question.received",
            at=now,
            actor=new.user,
            question_id=row.id,
            details={"source": new.source, "channel": new.channel, "event_id": new.event_id},
        )
        return Question.model_validate(row, from_attributes=True)

    def get_question(self, question_id: str) -> Question | None:
        with self._read() as session:
            row = session.get(QuestionRow, question_id)
            return None if row is None else Question.model_validate(row, from_attributes=True)

    def questions_in_thread(self, channel: str, thread_ts: str) -> list[Question]:
        stmt = (
            select(QuestionRow)
            .where(QuestionRow.channel == channel, QuestionRow.thread_ts == thread_ts)
            .order_by(QuestionRow.received_at, QuestionRow.id)
        )
        return self._questions(stmt)

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
        check_question_transition(expected, to, expected_attempts)
        now = self._now()
        with self._write() as session:
            applied = self._cas_question(
                session,
                question_id,
                expected=expected,
                to=to,
                now=now,
                expected_attempts=expected_attempts,
                answer_text=answer_text,
                answer_ts=answer_ts,
                error=error,
            )
            if applied:
                details: dict[str, JsonValue] = {"from": expected}
                if error is not None:
                    details["error"] = error
                self._audit(
                    session,
                    f"question.{to}",
                    at=now,
                    actor=actor,
                    question_id=question_id,
                    details=details,
                )
        return applied

    def record_answer_message(self, question_id: str, message_ts: str) -> None:
        self._update_question(question_id, answer_ts=message_ts)

    def unfinished_questions(self, *, idle_for: timedelta = timedelta(0)) -> list[Question]:
        cutoff = self._now() - idle_for
        stmt = (
            select(QuestionRow)
            .where(
                QuestionRow.status.in_(UNFINISHED_STATUSES),
                QuestionRow.updated_at <= cutoff,
            )
            .order_by(QuestionRow.received_at, QuestionRow.id)
        )
        return self._questions(stmt)

    def record_retrieval(self, question_id: str, passages: Sequence[Passage]) -> None:
        top_score = max((p.score for p in passages), default=0.0)
        with self._write() as session:
            self._require_question(session, question_id)
            session.execute(
                delete(RetrievedPassageRow).where(RetrievedPassageRow.question_id == question_id)
            )
            session.add_all(
                RetrievedPassageRow(
                    question_id=question_id,
                    rank=rank,
                    chunk_id=p.chunk_id,
                    doc_id=p.doc_id,
                    source=p.source,
                    heading=p.heading,
                    line_start=p.line_start,
                    line_end=p.line_end,
                    score=p.score,
                    text=p.text,
                )
                for rank, p in enumerate(passages)
            )
            session.execute(
                update(QuestionRow)
                .where(QuestionRow.id == question_id)
                .values(top_score=top_score, updated_at=self._now())
            )

    def retrieval(self, question_id: str) -> list[Passage]:
        stmt = (
            select(RetrievedPassageRow)
            .where(RetrievedPassageRow.question_id == question_id)
            .order_by(RetrievedPassageRow.rank)
        )
        with self._read() as session:
            return [
                Passage.model_validate(row, from_attributes=True) for row in session.scalars(stmt)
            ]

    def record_draft(self, question_id: str, draft: Draft) -> None:
        self._update_question(question_id, draft=draft_json(draft))

    def record_decision(
        self, question_id: str, decision: Decision, *, stage: DecisionStage
    ) -> None:
        now = self._now()
        reasons = reasons_json(decision.reasons)
        with self._write() as session:
            self._require_question(session, question_id)
            session.add(
                DecisionRow(
                    question_id=question_id,
                    stage=stage,
                    route=decision.route,
                    category=decision.category,
                    reasons=reasons,
                    declined=decision.declined,
                    at=now,
                )
            )
            session.execute(
                update(QuestionRow)
                .where(QuestionRow.id == question_id)
                .values(
                    route=decision.route,
                    category=decision.category,
                    reasons=reasons,
                    updated_at=now,
                )
            )

    def decisions(self, question_id: str) -> list[StoredDecision]:
        stmt = (
            select(DecisionRow)
            .where(DecisionRow.question_id == question_id)
            .order_by(DecisionRow.id)
        )
        with self._read() as session:
            return [
                StoredDecision(
                    question_id=row.question_id,
                    stage=row.stage,  # validated by pydantic
                    decision=Decision(
                        route=row.route,
                        category=row.category,
                        reasons=[Reason.model_validate(r) for r in row.reasons],
                        declined=row.declined,
                    ),
                    at=row.at,
                )
                for row in session.scalars(stmt)
            ]

    def record_model_calls(self, question_id: str | None, calls: Sequence[ModelCall]) -> None:
        if not calls:
            return
        now = self._now()
        with self._write() as session:
            if question_id is not None:
                self._require_question(session, question_id)
            session.add_all(
                ModelCallRow(
                    question_id=question_id,
                    tier=call.tier,
                    provider=call.provider,
                    model=call.model,
                    outcome=call.outcome,
                    latency_ms=call.latency_ms,
                    input_tokens=call.input_tokens,
                    output_tokens=call.output_tokens,
                    cache_read_tokens=call.cache_read_tokens,
                    cache_write_tokens=call.cache_write_tokens,
                    attempt=call.attempt,
                    retries=call.retries,
                    request_id=call.request_id,
                    error=call.error,
                    at=now,
                )
                for call in calls
            )

    def model_calls(self, question_id: str) -> list[ModelCallRecord]:
        stmt = (
            select(ModelCallRow)
            .where(ModelCallRow.question_id == question_id)
            .order_by(ModelCallRow.id)
        )
        with self._read() as session:
            return [
                ModelCallRecord.model_validate(row, from_attributes=True)
                for row in session.scalars(stmt)
            ]

    def _update_question(self, question_id: str, **values: Any) -> None:
        stmt = (
            update(QuestionRow)
            .where(QuestionRow.id == question_id)
            .values(updated_at=self._now(), **values)
        )
        with self._write() as session:
            if session.connection().execute(stmt).rowcount != 1:
                raise RecordNotFound("question", question_id)
