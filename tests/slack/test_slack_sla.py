"""The review-SLA sweep with a fake clock: one reminder per SLA period in the review thread,
pinging the fallback reviewers; none once the escalation is decided."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from slack_harness import BOT, Harness
from test_slack_reviews import escalate

from supportbot.clock import FakeClock
from supportbot.jobs.sla import run_sla_sweep
from supportbot.slack.blocks import REVIEW_APPROVE


def test_a_review_waiting_past_the_sla_is_reminded_once_per_period(
    start: Callable[..., Harness],
) -> None:
    clock = FakeClock()
    app = start(clock=clock, review_sla_minutes=60)
    ts, review = escalate(app)

    def sweep() -> list[str]:
        return run_sla_sweep(app.store, app.bot.gateway, clock, app.settings).reminded

    def reminders() -> list[str]:
        return [
            m.text
            for m in app.fake.messages_in("C0REVIEW", review.ts)
            if m.user == BOT and m.ts != review.ts
        ]

    clock.advance(timedelta(minutes=59))
    assert sweep() == []
    clock.advance(timedelta(minutes=2))
    first = sweep()
    assert len(first) == 1
    assert sweep() == []  # the same period: no second reminder
    clock.advance(timedelta(minutes=30))
    assert sweep() == []
    clock.advance(timedelta(minutes=31))
    assert sweep() == first  # the next period: reminded again

    texts = reminders()
    assert len(texts) == 2
    assert "<!subteam^S0LEADS>" in texts[0]
    assert "1 h 1 min" in texts[0]
    assert "2 h 2 min" in texts[1]

    app.click("U0BOB", "C0REVIEW", review.ts, REVIEW_APPROVE)
    app.bot_reply("C0SUPPORT", ts, "Reviewed and sent")
    app.idle()
    clock.advance(timedelta(hours=3))
    assert sweep() == []
    assert len(reminders()) == 2
    app.fake.assert_no_rejections()


def test_without_fallback_reviewers_the_reviewers_are_pinged(
    start: Callable[..., Harness],
) -> None:
    clock = FakeClock()
    app = start(clock=clock, fallback_reviewers=[], reviewers=["U0BOB", "S0REVIEW"])
    _, review = escalate(app)
    clock.advance(timedelta(minutes=61))

    assert len(run_sla_sweep(app.store, app.bot.gateway, clock, app.settings).reminded) == 1

    reminder = app.fake.messages_in("C0REVIEW", review.ts)[-1]
    assert "<@U0BOB>, <!subteam^S0REVIEW>" in reminder.text
