"""Restarts: pending escalations survive, interrupted work is finished or reported at
start-up, and nothing is posted twice."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from slack_harness import Harness, action_ids, block_texts
from test_slack_reviews import CHARGEBACK, escalate, escalation_of

from supportbot.clock import FakeClock
from supportbot.slack.blocks import ASK_HUMAN, DELAYED_INTRO, REVIEW_APPROVE
from supportbot.store.records import NewQuestion, Question


def record_only(app: Harness, user: str, channel: str, text: str) -> tuple[str, Question]:
    """A question Slack delivered and the store recorded, whose worker then died."""
    message = app.fake.post_as_user(user, channel, text)
    question = app.services.pipeline.submit(
        NewQuestion(
            source="slack",
            text=text,
            channel=channel,
            user=user,
            thread_ts=message.ts,
            message_ts=message.ts,
        )
    )
    return message.ts, question


def test_a_pending_escalation_survives_a_restart(start: Callable[..., Harness]) -> None:
    first = start()
    ts, review = escalate(first)
    first.close()

    second = start()
    report = second.bot.start()
    second.click("U0BOB", "C0REVIEW", review.ts, REVIEW_APPROVE)
    second.bot_reply("C0SUPPORT", ts, "Reviewed and sent by <@U0BOB>")
    second.idle()

    assert report.empty  # the review thread and the notice were there already
    assert len(second.fake.messages_in("C0REVIEW")) == 1
    assert escalation_of(second, "C0SUPPORT", ts).status == "approved"
    updated = second.fake.message("C0REVIEW", review.ts)
    assert updated is not None
    assert action_ids(updated) == []
    second.fake.assert_no_rejections()


def test_a_question_interrupted_mid_answer_is_answered_at_start_up(
    start: Callable[..., Harness],
) -> None:
    crashed = start()
    ts, question = record_only(crashed, "U0ALICE", "C0SUPPORT", "How do I export a project?")
    assert crashed.store.transition_question(question.id, expected="received", to="in_progress")
    crashed.close()

    restarted = start()
    report = restarted.bot.start()
    answer = restarted.bot_reply("C0SUPPORT", ts, "Here is the answer")
    restarted.idle()

    assert report.resumed == [question.id]
    assert DELAYED_INTRO in block_texts(answer)
    stored = restarted.store.get_question(question.id)
    assert stored is not None
    assert (stored.status, stored.attempts, stored.answer_ts) == ("answered", 2, answer.ts)
    assert restarted.bot.recover().empty  # a second sweep finds nothing to do
    restarted.fake.assert_no_rejections()


def test_a_question_too_old_to_answer_is_reported_not_dropped(
    start: Callable[..., Harness],
) -> None:
    clock = FakeClock()
    crashed = start(clock=clock)
    ts, question = record_only(crashed, "U0ALICE", "C0SUPPORT", "How do I export a project?")
    crashed.close()
    clock.advance(timedelta(hours=7))

    restarted = start(clock=clock)
    report = restarted.bot.start()
    notice = restarted.bot_reply("C0SUPPORT", ts, "interrupted")
    restarted.idle()

    assert report.reported == [question.id]
    assert action_ids(notice) == [ASK_HUMAN]
    stored = restarted.store.get_question(question.id)
    assert stored is not None
    assert stored.status == "failed"
    assert restarted.executor.calls == []


def test_work_a_crash_left_between_the_store_and_slack_is_finished_once(
    start: Callable[..., Harness],
) -> None:
    crashed = start()
    # 1. answered by the pipeline, never posted
    answered_ts, answered = record_only(
        crashed, "U0ALICE", "C0GENERAL", "How do I export a project?"
    )
    result = crashed.services.pipeline.process(answered)
    assert result is not None
    assert result.answer is not None
    # 2. escalated, the review message never posted
    pending_ts, pending = record_only(crashed, "U0ALICE", "C0SUPPORT", CHARGEBACK)
    assert crashed.services.pipeline.process(pending) is not None
    # 3. approved in the store, the crash before anything reached Slack
    approved_ts, review = escalate(crashed, channel="C0GENERAL")
    approved = escalation_of(crashed, "C0GENERAL", approved_ts)
    assert crashed.services.reviews.approve(approved.id, reviewer="U0CAROL").applied
    crashed.close()

    restarted = start()
    report = restarted.bot.start()
    restarted.bot_reply("C0GENERAL", answered_ts, "export a project")
    restarted.bot_reply("C0SUPPORT", pending_ts, "specialist")
    restarted.bot_reply("C0GENERAL", approved_ts, "Reviewed and sent by <@U0CAROL>")
    restarted.idle()

    assert report.redelivered == [answered.id]
    [pending_escalation] = restarted.store.escalations_for_question(pending.id)
    assert report.reviews == [pending_escalation.id]
    assert report.decisions == [approved.id]
    closed = restarted.fake.message("C0REVIEW", review.ts)
    assert closed is not None
    assert "Approved and sent" in block_texts(closed)
    assert len(restarted.fake.messages_in("C0REVIEW")) == 2
    stored = restarted.store.get_escalation(pending_escalation.id)
    assert stored is not None
    assert stored.review_ts is not None

    again = restarted.bot.recover()
    restarted.idle()
    assert again.empty
    assert len(restarted.bot_replies("C0GENERAL", answered_ts)) == 1
    assert len(restarted.bot_replies("C0GENERAL", approved_ts)) == 2  # notice + answer
    restarted.fake.assert_no_rejections()
