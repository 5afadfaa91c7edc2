"""Getting messages to the asker, once.

:class:`AskerReplies` knows where a question's replies go: its thread; for a question asked
privately (``/supportbot ask``) the interaction's ``response_url`` while it lasts, then a DM.

:class:`Outbox` runs a Slack side effect (a notice, a review message, a reviewed answer) at
most once, across retries, crashes and several bot processes: a short claim in the store
keeps two workers from doing it at the same time, and an audit event marks it done. A step
that failed keeps its claim until it expires, after which the recovery sweep retries it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import timedelta

from supportbot.slack.blocks import SlackMessage
from supportbot.slack.gateway import SlackDeliveryError, SlackGateway
from supportbot.store.protocol import Store
from supportbot.store.records import Question

log = logging.getLogger(__name__)

DONE_KIND = "slack.delivered"
CLAIM_TTL = timedelta(minutes=10)


class Outbox:
    def __init__(self, store: Store, *, claim_ttl: timedelta = CLAIM_TTL) -> None:
        self.store = store
        self.claim_ttl = claim_ttl

    def done(
        self, step: str, *, question_id: str | None = None, escalation_id: str | None = None
    ) -> bool:
        events = self.store.audit_events(question_id=question_id, escalation_id=escalation_id)
        return any(e.kind == DONE_KIND and e.details.get("step") == step for e in events)

    def once(
        self,
        step: str,
        action: Callable[[], object],
        *,
        question_id: str | None = None,
        escalation_id: str | None = None,
    ) -> bool:
        """Run ``action`` unless ``step`` is done or in progress elsewhere; True if it ran."""
        if question_id is None and escalation_id is None:
            raise ValueError("an outbox step belongs to a question or an escalation")
        if self.done(step, question_id=question_id, escalation_id=escalation_id):
            return False
        if not self.store.claim_event(f"outbox:{step}", ttl=self.claim_ttl):
            return False
        action()
        self.store.record_audit(
            DONE_KIND,
            question_id=question_id,
            escalation_id=escalation_id,
            details={"step": step},
        )
        return True


class AskerReplies:
    """Posts to the person who asked a question, wherever they asked it."""

    def __init__(self, gateway: SlackGateway) -> None:
        self.gateway = gateway

    def send(
        self,
        question: Question,
        messages: Sequence[SlackMessage],
        *,
        response_url: str | None = None,
    ) -> str | None:
        """Post ``messages`` in order; returns the ts of the first (None when ephemeral)."""
        if response_url is not None:
            try:
                for message in messages:
                    self.gateway.respond(response_url, message)
            except SlackDeliveryError as exc:
                log.warning("response_url failed for %s (%s); sending a DM", question.id, exc)
            else:
                return None
        if question.thread_ts is not None and question.channel is not None:
            channel, thread_ts = question.channel, question.thread_ts
        elif question.user is not None:
            channel, thread_ts = question.user, None  # the app's DM with the asker
        else:
            raise SlackDeliveryError("chat.postMessage", f"question {question.id} has no asker")
        first: str | None = None
        for message in messages:
            posted = self.gateway.post(channel, message, thread_ts=thread_ts)
            first = first or posted.ts
        return first
