"""Answering a question asked in Slack: receipt, progress, the answer or the escalation.

At receipt (inside the listener, before Slack gets its ack) the message is claimed in the
store by channel and ts — one claim covers Slack's retries (the same event, same message)
and the double delivery of a mention as ``message`` and ``app_mention`` (two event_ids, one
message) — and the question is recorded, with its event_id. Only then is the work handed to
the pools: a 👀 on the question (interactions pool), then the pipeline and the answer
(answers pool). A crash after the ack leaves the question in the store for the start-up
recovery; a crash before the claim makes Slack deliver the event again. (The one gap: a
crash between the claim and the record, one store write apart.)

Never silent: a pipeline failure, a full queue or a failed post each end with a clear
message to the asker (with an "Ask a human" button) and an audit event.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from supportbot.llm.types import ConversationTurn
from supportbot.pipeline.answer import AnswerPipeline, PipelineFailure, citations
from supportbot.pipeline.reviews import ReviewDesk
from supportbot.pipeline.types import PipelineResult
from supportbot.slack import blocks
from supportbot.slack.blocks import AnsweredBy, AnswerView, SlackMessage
from supportbot.slack.channels import ChannelDirectory
from supportbot.slack.delivery import AskerReplies, Outbox
from supportbot.slack.gateway import SlackDeliveryError, SlackGateway
from supportbot.slack.reviewing import Ephemeral, ReviewFlow
from supportbot.slack.triggers import Trigger
from supportbot.slack.workers import WorkerPool
from supportbot.store.protocol import Store
from supportbot.store.records import NewQuestion, Question

log = logging.getLogger(__name__)

PROGRESS_REACTION = "eyes"
MESSAGE_CLAIM_TTL = timedelta(days=1)  # Slack retries for a few minutes at most
HISTORY_QUESTIONS = 3  # earlier questions of a thread that inform a follow-up
HISTORY_TURN_CHARS = 1_500

Receipt = Literal["answering", "duplicate", "not_a_question", "hint", "busy"]


@dataclass(frozen=True)
class Delivery:
    """Where the answer to one question goes, beyond its thread."""

    response_url: str | None = None  # a private question: answer ephemerally through this
    intro: str | None = None  # shown above the answer (e.g. an apology after a restart)


class AnswerFlow:
    def __init__(
        self,
        *,
        store: Store,
        pipeline: AnswerPipeline,
        desk: ReviewDesk,
        gateway: SlackGateway,
        replies: AskerReplies,
        outbox: Outbox,
        reviews: ReviewFlow,
        channels: ChannelDirectory,
        answers: WorkerPool,
        interactions: WorkerPool,
        source_url_template: str | None = None,
    ) -> None:
        self.store = store
        self.pipeline = pipeline
        self.desk = desk
        self.gateway = gateway
        self.replies = replies
        self.outbox = outbox
        self.reviews = reviews
        self.channels = channels
        self.answers = answers
        self.interactions = interactions
        self.source_url_template = source_url_template
        self._active: set[str] = set()
        self._active_lock = threading.Lock()

    # -- receipt (in the listener, before the ack) ----------------------------------------------
    def receive(self, trigger: Trigger, *, retry_num: int = 0) -> Receipt:
        """Decide, claim and record; the work itself is queued. Returns what happened."""
        if trigger.kind == "thread_reply" and not self._asked_here_before(trigger):
            return "not_a_question"
        if not trigger.text:
            if not self.store.claim_event(trigger.message_key, ttl=MESSAGE_CLAIM_TTL):
                return self._duplicate(trigger, retry_num)
            self.interactions.submit(lambda: self._hint(trigger), what="mention hint")
            return "hint"
        # The claim and the record are one transaction: a crash between them cannot leave a
        # claimed message that no question records (Slack's retry would then be ignored).
        question = self.store.claim_and_create_question(
            trigger.message_key,
            NewQuestion(
                source="slack",
                text=trigger.text,
                channel=trigger.channel,
                user=trigger.user,
                thread_ts=trigger.thread_ts,
                message_ts=trigger.ts,
                event_id=trigger.event_id,
            ),
            ttl=MESSAGE_CLAIM_TTL,
        )
        if question is None:
            return self._duplicate(trigger, retry_num)
        if not self.interactions.submit(lambda: self._start(question), what="start"):
            return self._refuse(question, Delivery())
        return "answering"

    def receive_private(self, text: str, *, channel: str, user: str, response_url: str) -> Receipt:
        """``/supportbot ask``: answered ephemerally through ``response_url``."""
        question = self.pipeline.submit(
            NewQuestion(source="slack", text=text, channel=channel, user=user)
        )
        delivery = Delivery(response_url=response_url)
        if not self.answers.submit(lambda: self.answer(question, delivery), what="private ask"):
            return self._refuse(question, delivery)
        return "answering"

    def _asked_here_before(self, trigger: Trigger) -> bool:
        """A thread reply is a follow-up when its author asked the bot in this thread."""
        earlier = self.store.questions_in_thread(trigger.channel, trigger.thread_ts)
        return any(q.user == trigger.user for q in earlier)

    def _duplicate(self, trigger: Trigger, retry_num: int) -> Receipt:
        """A retry (same event_id) or the other delivery of one mention (``message`` and
        ``app_mention``): the same message, already being answered."""
        kind = "slack.retry_ignored" if retry_num else "slack.duplicate_delivery"
        log.info("%s: %s %s", kind, trigger.message_key, trigger.event_id)
        self.store.record_audit(
            kind,
            actor=trigger.user,
            details={"key": trigger.message_key, "event_id": trigger.event_id, "via": trigger.kind},
        )
        return "duplicate"

    def _hint(self, trigger: Trigger) -> None:
        self.gateway.post(
            trigger.channel, blocks.notice(blocks.EMPTY_MENTION_TEXT), thread_ts=trigger.thread_ts
        )

    # -- work (pools) --------------------------------------------------------------------------
    def _start(self, question: Question) -> None:
        """Interactions pool: show progress at once, then queue the answer."""
        self._react(question, add=True)
        if not self.answers.submit(lambda: self.answer(question, Delivery()), what="answer"):
            self._busy(question, Delivery())

    def resume(self, question: Question, *, intro: str | None = blocks.DELAYED_INTRO) -> bool:
        """Answer a question interrupted by a restart (the recovery sweep)."""
        delivery = Delivery(intro=intro)

        def resume() -> None:
            self._react(question, add=True)
            self.answer(question, delivery)

        return self.answers.submit(resume, what="resume")

    def is_active(self, question_id: str) -> bool:
        with self._active_lock:
            return question_id in self._active

    @contextmanager
    def _working_on(self, question_id: str) -> Iterator[None]:
        with self._active_lock:
            self._active.add(question_id)
        try:
            yield
        finally:
            with self._active_lock:
                self._active.discard(question_id)

    def answer(self, question: Question, delivery: Delivery) -> None:
        """Answers pool: run the pipeline and post what it decided."""
        with self._working_on(question.id):
            try:
                result = self.pipeline.process(
                    question,
                    history=self.history(question),
                    channel=self.channels.channel(question.channel),
                )
            except PipelineFailure as failure:  # recorded as failed by the pipeline
                self._failed(question, delivery, str(failure.cause))
                return
            except Exception as exc:  # before the pipeline's own handling (the store?)
                log.exception("question %s could not start", question.id)
                self._mark_failed(question, repr(exc))
                self._failed(question, delivery, repr(exc))
                return
            if result is None:  # another worker holds it
                return
            try:
                self._deliver(question, result, delivery)
            except SlackDeliveryError as exc:
                log.error("could not deliver the answer to %s: %s", question.id, exc)
                self.store.record_audit(
                    "slack.delivery_failed",
                    question_id=question.id,
                    details={"step": "answer", "error": exc.error},
                )
                self._notify(
                    question, delivery, blocks.notice(blocks.FAILED_TEXT, ask_human_for=question.id)
                )
            finally:
                self._react(question, add=False)

    def history(self, question: Question) -> list[ConversationTurn]:
        """Earlier questions and answers of the same thread, oldest first, bounded."""
        if question.channel is None or question.thread_ts is None:
            return []
        earlier = [
            q
            for q in self.store.questions_in_thread(question.channel, question.thread_ts)
            if q.id != question.id and q.received_at <= question.received_at
        ][-HISTORY_QUESTIONS:]
        turns: list[ConversationTurn] = []
        for q in earlier:
            turns.append(
                ConversationTurn(role="user", text=blocks.truncate(q.text, HISTORY_TURN_CHARS))
            )
            if q.answer_text:
                turns.append(
                    ConversationTurn(
                        role="assistant", text=blocks.truncate(q.answer_text, HISTORY_TURN_CHARS)
                    )
                )
        return turns

    def _deliver(self, question: Question, result: PipelineResult, delivery: Delivery) -> None:
        if result.answer is not None:
            by = result.answered_by
            view = AnswerView(
                question_id=question.id,
                text=result.answer,
                citations=result.citations,
                answered_by=_answered_by(by),
                intro=delivery.intro,
            )
            self._post_answer(question, view, delivery)
            return
        if result.escalation is not None:
            current = self.store.get_question(question.id) or question
            self.reviews.escalated(result.escalation, current)
            return
        raise SlackDeliveryError("pipeline", f"no answer and no escalation for {question.id}")

    def _post_answer(self, question: Question, view: AnswerView, delivery: Delivery) -> None:
        messages = blocks.answer_messages(view, source_url_template=self.source_url_template)
        ts = self.replies.send(question, messages, response_url=delivery.response_url)
        if ts is not None:
            self.store.record_answer_message(question.id, ts)
        self.store.record_audit(
            "slack.answer_posted",
            question_id=question.id,
            details={
                "messages": len(messages),
                "ts": ts,
                "private": delivery.response_url is not None,
            },
        )

    def redeliver(self, question: Question) -> bool:
        """Post a recorded answer that never reached Slack (the recovery sweep)."""
        answer = question.answer_text
        if answer is None:
            return False
        by: AnsweredBy = "decline" if question.status == "declined" else "executor"
        if question.route == "frontier":
            by = "frontier"
        view = AnswerView(
            question_id=question.id,
            text=answer,
            citations=[]
            if by == "decline"
            else citations(question.draft, self.store.retrieval(question.id)),
            answered_by=by,
            intro=blocks.DELAYED_INTRO,
        )
        return self.outbox.once(
            f"deliver:{question.id}",
            lambda: self._post_answer(question, view, Delivery()),
            question_id=question.id,
        )

    # -- when things go wrong ------------------------------------------------------------------
    def _failed(self, question: Question, delivery: Delivery, error: str) -> None:
        self.store.record_audit(
            "slack.answer_failed",
            question_id=question.id,
            details={"error": blocks.truncate(error, 500)},
        )
        self._notify(
            question, delivery, blocks.notice(blocks.FAILED_TEXT, ask_human_for=question.id)
        )
        self._react(question, add=False)

    def _mark_failed(self, question: Question, error: str) -> None:
        if question.status in ("received", "in_progress"):
            try:
                self.store.transition_question(
                    question.id, expected=question.status, to="failed", error=error
                )
            except Exception:
                log.exception("could not mark question %s failed", question.id)

    def _refuse(self, question: Question, delivery: Delivery) -> Receipt:
        """A pool is full: record it and tell the asker (on a spare thread if need be)."""
        if not self.interactions.submit(lambda: self._busy(question, delivery), what="busy"):
            threading.Thread(target=self._busy, args=(question, delivery), daemon=True).start()
        return "busy"

    def _busy(self, question: Question, delivery: Delivery) -> None:
        self.store.transition_question(
            question.id,
            expected="received",
            to="failed",
            error="overloaded: the answer queue was full",
        )
        self.store.record_audit("slack.busy", question_id=question.id)
        self._notify(question, delivery, blocks.notice(blocks.BUSY_TEXT, ask_human_for=question.id))
        self._react(question, add=False)

    def report_stale(self, question: Question) -> bool:
        """A question too old (or tried too often) to answer after a restart: say so."""
        if not self.store.transition_question(
            question.id, expected=question.status, to="failed", error="interrupted; not resumed"
        ):
            return False
        self._notify(
            question, Delivery(), blocks.notice(blocks.STALE_TEXT, ask_human_for=question.id)
        )
        return True

    def _notify(self, question: Question, delivery: Delivery, message: SlackMessage) -> None:
        try:
            self.replies.send(question, [message], response_url=delivery.response_url)
        except SlackDeliveryError as exc:
            log.error("could not tell the asker of %s either: %s", question.id, exc)

    def _react(self, question: Question, *, add: bool) -> None:
        if question.channel is None or question.message_ts is None:
            return
        try:
            if add:
                self.gateway.add_reaction(question.channel, question.message_ts, PROGRESS_REACTION)
            else:
                self.gateway.remove_reaction(
                    question.channel, question.message_ts, PROGRESS_REACTION
                )
        except SlackDeliveryError as exc:
            log.warning("reaction on %s: %s", question.id, exc)

    # -- the asker's buttons ---------------------------------------------------------------------
    def feedback(self, question_id: str, *, user: str, up: bool, ephemeral: Ephemeral) -> None:
        if self.store.get_question(question_id) is None:
            ephemeral(blocks.notice("That question no longer exists."))
            return
        self.store.record_feedback(question_id, user=user, value="up" if up else "down")
        text = (
            "Thanks for the feedback!"
            if up
            else "Thanks, noted. If the answer did not help, click *Ask a human* and a "
            "teammate will take it."
        )
        ephemeral(blocks.notice(text))

    def ask_human(self, question_id: str, *, user: str, ephemeral: Ephemeral) -> None:
        try:
            escalation = self.desk.request_human(question_id, user=user)
        except LookupError:
            ephemeral(blocks.notice("That question no longer exists."))
            return
        if escalation is None:
            ephemeral(
                blocks.notice("This question is already with the team; they will follow up here.")
            )
            return
        question = self.store.get_question(question_id)
        assert question is not None
        self.reviews.escalated(escalation, question)


def _answered_by(value: str | None) -> AnsweredBy | None:
    if value == "executor":
        return "executor"
    if value == "frontier":
        return "frontier"
    if value == "decline":
        return "decline"
    return None
