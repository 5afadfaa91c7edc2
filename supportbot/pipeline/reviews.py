"""What a reviewer's decision, or an asker's "Ask a human", does to the records.

Slack-free on purpose: the Slack edge (and the demo, and tests) call these, then post what
the result says. Every change is compare-and-set in the store, so a double click, a Slack
retry or two reviewers clicking at once apply exactly once; the loser gets ``applied=False``
and the escalation as the winner left it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from supportbot.routing.types import Decision, Reason
from supportbot.store.protocol import Store
from supportbot.store.records import Escalation, NewEscalation, Question

ReviewAction = Literal["approve", "edit", "reject"]


class ReviewResult(BaseModel):
    """``applied`` is False when someone else decided first (nothing changed)."""

    model_config = ConfigDict(extra="forbid")

    applied: bool
    escalation: Escalation
    question: Question


class ReviewDesk:
    def __init__(self, store: Store) -> None:
        self.store = store

    def _load(self, escalation_id: str) -> tuple[Escalation, Question]:
        escalation = self.store.get_escalation(escalation_id)
        if escalation is None:
            raise LookupError(f"no escalation {escalation_id}")
        question = self.store.get_question(escalation.question_id)
        if question is None:  # pragma: no cover - foreign key
            raise LookupError(f"no question {escalation.question_id}")
        return escalation, question

    def _after(self, escalation_id: str, applied: bool) -> ReviewResult:
        escalation, question = self._load(escalation_id)
        return ReviewResult(applied=applied, escalation=escalation, question=question)

    def approve(self, escalation_id: str, *, reviewer: str) -> ReviewResult:
        """Send the proposed answer as it is."""
        escalation, _ = self._load(escalation_id)
        applied = self.store.approve_escalation(escalation_id, reviewer=reviewer)
        if applied:
            self._answered(escalation, escalation.proposed_answer or "", reviewer)
        return self._after(escalation_id, applied)

    def edit(self, escalation_id: str, *, reviewer: str, answer: str) -> ReviewResult:
        """Send the reviewer's own text."""
        if not answer.strip():
            raise ValueError("an edited answer cannot be empty")
        escalation, _ = self._load(escalation_id)
        applied = self.store.edit_escalation(
            escalation_id, reviewer=reviewer, final_answer=answer.strip()
        )
        if applied:
            self._answered(escalation, answer.strip(), reviewer)
        return self._after(escalation_id, applied)

    def reject(self, escalation_id: str, *, reviewer: str, reason: str | None) -> ReviewResult:
        """Send nothing; the asker is told a teammate will follow up."""
        applied = self.store.reject_escalation(
            escalation_id, reviewer=reviewer, reason=(reason or "").strip() or None
        )
        return self._after(escalation_id, applied)

    def _answered(self, escalation: Escalation, answer: str, reviewer: str) -> None:
        self.store.transition_question(
            escalation.question_id,
            expected="escalated",
            to="answered",
            answer_text=answer,
            actor=reviewer,
        )

    def request_human(self, question_id: str, *, user: str, note: str = "") -> Escalation | None:
        """The asker clicked "Ask a human" after an answer; None when already escalated."""
        question = self.store.get_question(question_id)
        if question is None:
            raise LookupError(f"no question {question_id}")
        if question.status not in ("answered", "declined", "failed"):
            return None
        reason = Reason(
            signal="user_requested",
            detail=f"<@{user}> asked for a person after the bot's answer{note}",
        )
        reasons = [*question.reasons, reason]
        escalation = self.store.escalate_question(
            NewEscalation(
                question_id=question_id,
                route="human",
                category=question.category,
                reasons=reasons,
                draft=question.draft,
                proposed_answer=question.answer_text
                or (question.draft.draft_response if question.draft else None),
            ),
            expected=question.status,
            actor=user,
        )
        if escalation is not None:  # only the click that won records the decision
            self.store.record_decision(
                question_id,
                Decision(route="human", category=question.category, reasons=reasons),
                stage="user_request",
            )
        return escalation
