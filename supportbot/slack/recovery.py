"""Start-up (and periodic) recovery: nothing a crash interrupted is silently lost.

One sweep looks at the store and finishes what Slack never saw:

- questions still ``received``/``in_progress`` (a crash mid-answer): answered again, with an
  apology for the delay — or, when older than ``max_age`` or tried ``max_attempts`` times,
  marked failed and the asker told so, with an "Ask a human" button;
- answers recorded but never posted (a crash between the pipeline and Slack): posted;
- pending escalations without a review message, or whose asker was never told: posted;
- decided escalations whose outcome never reached Slack (the reviewed answer, the rejection
  notice, the closed review message): finished.

Every step is idempotent (claims in the store, the outbox), so a sweep may run at every
start and on a timer, in several bot processes at once. Only questions asked in Slack are
touched: a CLI ``ask`` has nobody to answer to.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from supportbot.clock import Clock
from supportbot.slack.answering import AnswerFlow
from supportbot.slack.gateway import SlackDeliveryError
from supportbot.slack.reviewing import ReviewFlow
from supportbot.store.protocol import Store
from supportbot.store.records import Question

log = logging.getLogger(__name__)

MAX_AGE = timedelta(hours=6)
MAX_ATTEMPTS = 3
LOOKBACK = timedelta(days=2)
PERIODIC_IDLE = timedelta(minutes=15)
"""The timer's sweep leaves alone anything touched more recently than this (a live worker
in another process may hold it)."""


class RecoveryReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resumed: list[str] = Field(default_factory=list)
    reported: list[str] = Field(default_factory=list)
    redelivered: list[str] = Field(default_factory=list)
    reviews: list[str] = Field(default_factory=list)
    decisions: list[str] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (
            self.resumed or self.reported or self.redelivered or self.reviews or self.decisions
        )


class Recovery:
    def __init__(
        self,
        *,
        store: Store,
        answering: AnswerFlow,
        reviewing: ReviewFlow,
        clock: Clock,
        max_age: timedelta = MAX_AGE,
        max_attempts: int = MAX_ATTEMPTS,
        lookback: timedelta = LOOKBACK,
    ) -> None:
        self.store = store
        self.answering = answering
        self.reviewing = reviewing
        self.clock = clock
        self.max_age = max_age
        self.max_attempts = max_attempts
        self.lookback = lookback

    def run(self, *, idle_for: timedelta) -> RecoveryReport:
        report = RecoveryReport()
        for step in (self._unfinished, self._undelivered, self._pending, self._decided):
            try:
                step(report, idle_for)
            except Exception as exc:  # one broken step must not stop the others
                log.exception("recovery step %s failed", step.__name__)
                report.errors.append(f"{step.__name__}: {exc}")
        if not report.empty:
            log.info("recovery: %s", report.model_dump(exclude_defaults=True))
        return report

    def _ours(self, question: Question | None) -> bool:
        return (
            question is not None
            and question.source == "slack"
            and not self.answering.is_active(question.id)
        )

    def _unfinished(self, report: RecoveryReport, idle_for: timedelta) -> None:
        now = self.clock.now()
        for question in self.store.unfinished_questions(idle_for=idle_for):
            if not self._ours(question):
                continue
            too_old = now - question.received_at > self.max_age
            if too_old or question.attempts >= self.max_attempts:
                if self.answering.report_stale(question):
                    report.reported.append(question.id)
                    self._audit(question.id, "reported")
            elif self.answering.resume(question):
                report.resumed.append(question.id)
                self._audit(question.id, "resumed")

    def _undelivered(self, report: RecoveryReport, idle_for: timedelta) -> None:
        now = self.clock.now()
        for question in self.store.questions_between(now - self.lookback, now - idle_for):
            if (
                not self._ours(question)
                or question.status not in ("answered", "declined")
                or question.answer_ts is not None
                or question.thread_ts is None  # private answers were ephemeral
                or question.updated_at > now - idle_for
                or self.store.escalations_for_question(question.id)  # a reviewer's answer
            ):
                continue
            try:
                if self.answering.redeliver(question):
                    report.redelivered.append(question.id)
            except SlackDeliveryError as exc:
                report.errors.append(f"redeliver {question.id}: {exc}")

    def _pending(self, report: RecoveryReport, idle_for: timedelta) -> None:
        cutoff = self.clock.now() - idle_for
        for escalation in self.store.pending_escalations():
            if escalation.created_at > cutoff:
                continue
            question = self.store.get_question(escalation.question_id)
            if question is None or question.source != "slack":
                continue
            if self.reviewing.escalated(escalation, question):
                report.reviews.append(escalation.id)

    def _decided(self, report: RecoveryReport, idle_for: timedelta) -> None:
        now = self.clock.now()
        for escalation in self.store.escalations_between(
            now - self.lookback, now - idle_for, by="decided"
        ):
            question = self.store.get_question(escalation.question_id)
            if question is None or question.source != "slack":
                continue
            if self.reviewing.after_decision(escalation, question):
                report.decisions.append(escalation.id)

    def _audit(self, question_id: str, action: str) -> None:
        self.store.record_audit(
            "slack.recovered", question_id=question_id, details={"action": action}
        )
