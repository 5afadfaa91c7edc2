"""Human review in Slack: the review thread, the reviewers' buttons and modals, and what
each decision posts.

Decisions go through :class:`~supportbot.pipeline.reviews.ReviewDesk` (compare-and-set in
the store), so a double click or two reviewers at once decide exactly once; the loser is
told, privately, who decided first. Each Slack side effect of a decision — the answer in the
asker's thread, the notice of a rejection, the review message's new state — runs through the
:class:`~supportbot.slack.delivery.Outbox`, so the recovery sweep can finish what a crash
interrupted without posting anything twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from supportbot.pipeline.answer import citations
from supportbot.pipeline.reviews import ReviewDesk, ReviewResult
from supportbot.slack import blocks
from supportbot.slack.blocks import AnswerView, ReviewView, SlackMessage
from supportbot.slack.delivery import AskerReplies, Outbox
from supportbot.slack.gateway import SlackDeliveryError, SlackGateway
from supportbot.slack.reviewers import ReviewerDirectory
from supportbot.store.protocol import Store
from supportbot.store.records import Escalation, Question

log = logging.getLogger(__name__)

Ephemeral = Callable[[SlackMessage], None]
"""Tells the person who clicked something, and only them."""

REVIEW_STEP = "review-post"


class ReviewFlow:
    def __init__(
        self,
        *,
        store: Store,
        desk: ReviewDesk,
        gateway: SlackGateway,
        replies: AskerReplies,
        outbox: Outbox,
        reviewers: ReviewerDirectory,
        review_channel: str,
        source_url_template: str | None = None,
    ) -> None:
        self.store = store
        self.desk = desk
        self.gateway = gateway
        self.replies = replies
        self.outbox = outbox
        self.reviewers = reviewers
        self.review_channel = review_channel
        self.source_url_template = source_url_template

    # -- opening a review ---------------------------------------------------------------------
    def escalated(self, escalation: Escalation, question: Question) -> bool:
        """Post the review request (one thread per escalation) and tell the asker a
        specialist is on it. Idempotent; a failed post is recorded and left to the recovery
        sweep. True when something was posted."""
        posted = self._step(
            f"{REVIEW_STEP}:{escalation.id}",
            "post the review request",
            lambda: self._post_review(escalation, question),
            escalation,
            question,
            when=escalation.review_ts is None,
        )
        notice = blocks.notice(blocks.ESCALATED_TEXT)
        told = self._step(
            f"notify-escalated:{escalation.id}",
            "tell the asker a specialist is reviewing",
            lambda: self.replies.send(question, [notice]),
            escalation,
            question,
        )
        return posted or told

    def _post_review(self, escalation: Escalation, question: Question) -> None:
        view = self._view(escalation, question)
        posted = self.gateway.post(self.review_channel, blocks.review_message(view))
        if not self.store.set_review_message(
            escalation.id, channel=posted.channel, message_ts=posted.ts
        ):  # an earlier review message exists after all: keep that one
            log.warning("duplicate review message for %s removed", escalation.id)
            self.gateway.delete(posted.channel, posted.ts)
            return
        for extra in blocks.review_overflow_messages(view):
            self.gateway.post(posted.channel, extra, thread_ts=posted.ts)

    def _view(self, escalation: Escalation, question: Question) -> ReviewView:
        permalink = None
        if question.channel and question.message_ts:
            permalink = self.gateway.permalink(question.channel, question.message_ts)
        return ReviewView(
            escalation=escalation,
            question=question,
            permalink=permalink,
            passages=self.store.retrieval(question.id),
        )

    # -- reviewers' actions ---------------------------------------------------------------------
    def authorised(
        self, user: str, ephemeral: Ephemeral, *, escalation_id: str, action: str
    ) -> bool:
        if self.reviewers.allows(user):
            return True
        self.store.record_audit(
            "slack.review_refused",
            actor=user,
            escalation_id=escalation_id,
            details={"action": action},
        )
        text = blocks.REFUSAL_TEXT if self.reviewers.configured else blocks.NO_REVIEWERS_TEXT
        ephemeral(blocks.notice(text))
        return False

    def _pending(
        self, escalation_id: str, ephemeral: Ephemeral
    ) -> tuple[Escalation, Question] | None:
        escalation = self.store.get_escalation(escalation_id)
        question = self.store.get_question(escalation.question_id) if escalation else None
        if escalation is None or question is None:
            ephemeral(blocks.notice("That review no longer exists; nothing changed."))
            return None
        if escalation.status != "pending":
            ephemeral(blocks.already_decided(escalation))
            return None
        return escalation, question

    def approve(self, escalation_id: str, *, reviewer: str, ephemeral: Ephemeral) -> None:
        if not self.authorised(reviewer, ephemeral, escalation_id=escalation_id, action="approve"):
            return
        found = self._pending(escalation_id, ephemeral)
        if found is None:
            return
        if not (found[0].proposed_answer or "").strip():
            ephemeral(blocks.notice("There is no proposed answer to approve: use Edit & send."))
            return
        self._decided(self.desk.approve(escalation_id, reviewer=reviewer), reviewer, ephemeral)

    def open_edit(
        self, escalation_id: str, *, user: str, trigger_id: str, ephemeral: Ephemeral
    ) -> None:
        if not self.authorised(user, ephemeral, escalation_id=escalation_id, action="edit"):
            return
        found = self._pending(escalation_id, ephemeral)
        if found is not None:
            self.gateway.open_view(trigger_id, blocks.edit_modal(*found))

    def open_reject(
        self, escalation_id: str, *, user: str, trigger_id: str, ephemeral: Ephemeral
    ) -> None:
        if not self.authorised(user, ephemeral, escalation_id=escalation_id, action="reject"):
            return
        found = self._pending(escalation_id, ephemeral)
        if found is not None:
            self.gateway.open_view(trigger_id, blocks.reject_modal(*found))

    def edit(self, escalation_id: str, *, reviewer: str, answer: str, ephemeral: Ephemeral) -> None:
        if not self.authorised(reviewer, ephemeral, escalation_id=escalation_id, action="edit"):
            return
        result = self.desk.edit(escalation_id, reviewer=reviewer, answer=answer)
        self._decided(result, reviewer, ephemeral)

    def reject(
        self, escalation_id: str, *, reviewer: str, reason: str, ephemeral: Ephemeral
    ) -> None:
        if not self.authorised(reviewer, ephemeral, escalation_id=escalation_id, action="reject"):
            return
        result = self.desk.reject(escalation_id, reviewer=reviewer, reason=reason)
        self._decided(result, reviewer, ephemeral)

    def _decided(self, result: ReviewResult, reviewer: str, ephemeral: Ephemeral) -> None:
        if not result.applied:
            ephemeral(blocks.already_decided(result.escalation))
            return
        log.info("escalation %s %s by %s", result.escalation.id, result.escalation.status, reviewer)
        self.after_decision(result.escalation, result.question)

    # -- what a decision posts (also run by the recovery sweep) ----------------------------
    def after_decision(self, escalation: Escalation, question: Question) -> bool:
        """Deliver the reviewed answer or the rejection notice, then close the review
        message. Each step runs once; a failed step is recorded, the reviewers are told in
        the review thread, and the recovery sweep retries it. True when something ran."""
        eid = escalation.id
        ran = False
        if escalation.status in ("approved", "edited"):
            ran |= self._step(
                f"deliver-reviewed:{eid}",
                "post the reviewed answer to the asker",
                lambda: self._deliver_reviewed(escalation, question),
                escalation,
                question,
            )
        elif escalation.status == "rejected":
            notice = blocks.notice(blocks.REJECTED_TEXT)
            ran |= self._step(
                f"notify-rejected:{eid}",
                "tell the asker a teammate will follow up",
                lambda: self.replies.send(question, [notice]),
                escalation,
                question,
            )
        ran |= self._step(
            f"close-review:{eid}",
            "update the review message",
            lambda: self._close(escalation, question),
            escalation,
            question,
            when=escalation.review_ts is not None,
        )
        return ran

    def _step(
        self,
        step: str,
        description: str,
        action: Callable[[], object],
        escalation: Escalation,
        question: Question,
        *,
        when: bool = True,
    ) -> bool:
        if not when:
            return False
        try:
            return self.outbox.once(step, action, escalation_id=escalation.id)
        except SlackDeliveryError as exc:
            log.error("could not %s (%s): %s", description, step, exc)
            self.store.record_audit(
                "slack.delivery_failed",
                escalation_id=escalation.id,
                question_id=question.id,
                details={"step": step, "error": exc.error},
            )
            self._warn_reviewers(
                escalation, f":warning: Could not {description}: `{exc.error}`. It will be retried."
            )
            return False

    def _warn_reviewers(self, escalation: Escalation, text: str) -> None:
        current = self.store.get_escalation(escalation.id) or escalation
        if current.review_ts is None or current.review_channel is None:
            return
        try:
            self.gateway.post(
                current.review_channel, blocks.notice(text), thread_ts=current.review_ts
            )
        except SlackDeliveryError as exc:
            log.error("could not warn the reviewers of %s either: %s", escalation.id, exc)

    def _deliver_reviewed(self, escalation: Escalation, question: Question) -> None:
        text = escalation.final_answer or escalation.proposed_answer or ""
        view = AnswerView(
            question_id=question.id,
            text=text,
            citations=citations(escalation.draft, self.store.retrieval(question.id)),
            answered_by="reviewer",
            reviewed_by=escalation.reviewer,
            ask_human=False,
        )
        messages = blocks.answer_messages(view, source_url_template=self.source_url_template)
        ts = self.replies.send(question, messages)
        if ts is not None:
            self.store.record_answer_message(question.id, ts)

    def _close(self, escalation: Escalation, question: Question) -> None:
        if escalation.review_channel is None or escalation.review_ts is None:
            return
        message = blocks.review_message(self._view(escalation, question))
        self.gateway.update(escalation.review_channel, escalation.review_ts, message)
