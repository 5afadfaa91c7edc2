"""Shared plumbing of the SQL store: sessions, audit rows, and mapping helpers."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime, timedelta
from typing import Any

from pydantic import JsonValue
from sqlalchemy import ColumnElement, Engine, Select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from supportbot.clock import Clock
from supportbot.errors import RecordNotFound, StoreError
from supportbot.llm.types import Draft, ModelTier
from supportbot.routing.types import Reason
from supportbot.store.engine import WRITE_OPTIONS
from supportbot.store.records import (
    QUESTION_TRANSITIONS,
    Escalation,
    Feedback,
    Question,
    QuestionStatus,
    require_aware,
)
from supportbot.store.tables import (
    AuditEventRow,
    EscalationRow,
    FeedbackRow,
    ProcessedEventRow,
    QuestionRow,
)

FRONTIER_TIER: ModelTier = "escalator"


def new_id() -> str:
    return uuid.uuid4().hex


def reasons_json(reasons: Sequence[Reason]) -> list[dict[str, str]]:
    return [reason.model_dump() for reason in reasons]


def draft_json(draft: Draft | None) -> dict[str, Any] | None:
    return None if draft is None else draft.model_dump(mode="json")


def window(column: Any, start: datetime, end: datetime) -> tuple[ColumnElement[bool], ...]:
    """``start <= column < end``; both ends must be timezone-aware."""
    require_aware(start, "start")
    require_aware(end, "end")
    if end < start:
        raise ValueError(f"window end {end.isoformat()} is before its start {start.isoformat()}")
    return (column >= start, column < end)


def check_question_transition(
    expected: QuestionStatus, to: QuestionStatus, expected_attempts: int | None
) -> None:
    if to not in QUESTION_TRANSITIONS[expected]:
        allowed = ", ".join(sorted(QUESTION_TRANSITIONS[expected])) or "nothing"
        raise ValueError(f"a question cannot go from {expected} to {to} (allowed: {allowed})")
    if expected == to and expected_attempts is None:
        raise ValueError(
            f"re-claiming an {expected} question needs expected_attempts, so that only one "
            "worker wins the claim"
        )


class SqlBase:
    """Sessions and helpers the method groups of ``SqlStore`` share."""

    def __init__(self, engine: Engine, *, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock
        self._reads = sessionmaker(engine, expire_on_commit=False)
        self._writes = sessionmaker(
            engine.execution_options(**WRITE_OPTIONS), expire_on_commit=False
        )
        # SQLite has one writer at a time. Threads of this process queue here for it: left
        # to SQLite's busy handler, a waiting writer sleeps up to 100 ms between retries, and
        # under a steady write load (many Slack workers) some writes wait for hundreds of ms.
        self._write_lock: AbstractContextManager[object] = (
            threading.RLock() if engine.dialect.name == "sqlite" else nullcontext()
        )

    def _now(self) -> datetime:
        return require_aware(self._clock.now(), "the clock's time")

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with self._reads.begin() as session:
            yield session

    @contextmanager
    def _write(self) -> Iterator[Session]:
        try:
            with self._write_lock, self._writes.begin() as session:
                yield session
        except IntegrityError as exc:
            raise StoreError(f"the store refused a write: {exc.orig}") from exc

    def _audit(
        self,
        session: Session,
        kind: str,
        *,
        at: datetime,
        actor: str | None = None,
        question_id: str | None = None,
        escalation_id: str | None = None,
        details: Mapping[str, JsonValue] | None = None,
    ) -> None:
        session.add(
            AuditEventRow(
                kind=kind,
                actor=actor,
                question_id=question_id,
                escalation_id=escalation_id,
                details=dict(details or {}),
                at=at,
            )
        )

    def _insert(self) -> Any:
        """The dialect's INSERT, which knows ON CONFLICT (both backends support it)."""
        return sqlite.insert if self._engine.dialect.name == "sqlite" else postgresql.insert

    def _take_claim(self, session: Session, key: str, *, ttl: timedelta, now: datetime) -> bool:
        """Insert-or-ignore the claim ``key`` (or retake an expired one) inside ``session``."""
        if ttl <= timedelta(0):
            raise ValueError(f"a claim's ttl must be positive, got {ttl}")
        expires_at = now + ttl
        claim = (
            self._insert()(ProcessedEventRow)
            .values(event_id=key, claimed_at=now, expires_at=expires_at)
            .on_conflict_do_nothing(index_elements=[ProcessedEventRow.event_id])
            .returning(ProcessedEventRow.event_id)  # a row back only when the insert happened
        )
        reclaim = (
            update(ProcessedEventRow)
            .where(ProcessedEventRow.event_id == key, ProcessedEventRow.expires_at <= now)
            .values(claimed_at=now, expires_at=expires_at)
        )
        connection = session.connection()
        if connection.execute(claim).scalar_one_or_none() is not None:
            return True
        return bool(connection.execute(reclaim).rowcount == 1)

    def _cas_question(
        self,
        session: Session,
        question_id: str,
        *,
        expected: QuestionStatus,
        to: QuestionStatus,
        now: datetime,
        expected_attempts: int | None = None,
        answer_text: str | None = None,
        answer_ts: str | None = None,
        error: str | None = None,
    ) -> bool:
        values: dict[str, Any] = {"status": to, "updated_at": now}
        if to == "in_progress":
            values["attempts"] = QuestionRow.attempts + 1
            values["started_at"] = now
        if to == "answered":
            values["answered_at"] = now
        optional = {"answer_text": answer_text, "answer_ts": answer_ts, "error": error}
        values.update({name: value for name, value in optional.items() if value is not None})
        stmt = (
            update(QuestionRow)
            .where(QuestionRow.id == question_id, QuestionRow.status == expected)
            .values(values)
        )
        if expected_attempts is not None:
            stmt = stmt.where(QuestionRow.attempts == expected_attempts)
        return session.connection().execute(stmt).rowcount == 1

    def _require_question(self, session: Session, question_id: str) -> None:
        if session.get(QuestionRow, question_id) is None:
            raise RecordNotFound("question", question_id)

    def _questions(self, stmt: Select[QuestionRow]) -> list[Question]:
        with self._read() as session:
            return [
                Question.model_validate(row, from_attributes=True) for row in session.scalars(stmt)
            ]

    def _escalations(self, stmt: Select[EscalationRow]) -> list[Escalation]:
        with self._read() as session:
            return [
                Escalation.model_validate(row, from_attributes=True)
                for row in session.scalars(stmt)
            ]

    def _feedback(self, stmt: Select[FeedbackRow]) -> list[Feedback]:
        with self._read() as session:
            return [
                Feedback.model_validate(row, from_attributes=True) for row in session.scalars(stmt)
            ]
