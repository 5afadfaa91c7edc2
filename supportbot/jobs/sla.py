"""The review-SLA sweep: remind the fallback reviewers about escalations waiting too long.

An escalation pending longer than ``SUPPORTBOT_REVIEW_SLA_MINUTES`` gets one reminder in
its review thread, pinging ``SUPPORTBOT_FALLBACK_REVIEWERS`` (user groups as
``<!subteam^…>``, users as ``<@…>``; the reviewers when no fallback is set). The store's
``mark_sla_reminded`` is compare-and-set, so each escalation is reminded at most once per
SLA period however many workers sweep at once; while it stays pending it is reminded again
one period later.

A plain function of (store, gateway, clock, settings): the scheduler runs it on a timer,
tests run it with a fake clock.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from supportbot.clock import Clock
from supportbot.settings import Settings
from supportbot.slack.blocks import sla_reminder
from supportbot.slack.gateway import SlackDeliveryError, SlackGateway
from supportbot.store.protocol import Store

log = logging.getLogger(__name__)


class SlaSweepReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reminded: list[str] = Field(default_factory=list)
    waiting_for_review_message: list[str] = Field(default_factory=list)
    failed: list[str] = Field(default_factory=list)


def run_sla_sweep(
    store: Store, gateway: SlackGateway, clock: Clock, settings: Settings
) -> SlaSweepReport:
    """Post the reminders that are due; returns which escalations were reminded."""
    sla = timedelta(minutes=settings.review_sla_minutes)
    mentions = settings.fallback_reviewers or settings.reviewers
    report = SlaSweepReport()
    for escalation in store.escalations_due_for_reminder(sla):
        if escalation.review_ts is None or escalation.review_channel is None:
            # no review thread yet: the recovery sweep posts the review message first
            report.waiting_for_review_message.append(escalation.id)
            continue
        if not store.mark_sla_reminded(escalation.id, sla=sla):
            continue  # another worker reminded it this period
        message = sla_reminder(
            clock.now() - escalation.created_at, settings.review_sla_minutes, mentions
        )
        try:
            gateway.post(escalation.review_channel, message, thread_ts=escalation.review_ts)
        except SlackDeliveryError as exc:
            log.error("SLA reminder for %s failed: %s", escalation.id, exc)
            store.record_audit(
                "slack.delivery_failed",
                escalation_id=escalation.id,
                question_id=escalation.question_id,
                details={"step": "sla_reminder", "error": exc.error},
            )
            report.failed.append(escalation.id)
            continue
        report.reminded.append(escalation.id)
    if report.reminded or report.failed:
        log.info("SLA sweep: %s", report.model_dump(exclude_defaults=True))
    return report
