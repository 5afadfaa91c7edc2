"""Human review in Slack: the review thread, Approve / Edit & send / Reject, authorisation,
double clicks — each a full flow over HTTP against the fake Slack."""

from __future__ import annotations

import threading

from slack_harness import Harness, action_ids, block_texts

from supportbot.fakes.slack import RESPONSE_URL, Message
from supportbot.slack.blocks import (
    ANSWER_BLOCK,
    ASK_HUMAN,
    FEEDBACK_DOWN,
    FEEDBACK_UP,
    REASON_BLOCK,
    REVIEW_APPROVE,
    REVIEW_EDIT,
    REVIEW_REJECT,
)
from supportbot.store.records import Escalation

CHARGEBACK = "I filed a chargeback with my bank for last month's charge, what now?"


def escalate(
    app: Harness, user: str = "U0ALICE", channel: str = "C0SUPPORT"
) -> tuple[str, Message]:
    """Ask a question the policy sends to people; returns (the question's ts, review msg)."""
    ts = app.ask(user, channel, CHARGEBACK)
    review = app.review_message()
    app.bot_reply(channel, ts, "specialist")
    app.idle()
    return ts, review


def escalation_of(app: Harness, channel: str, ts: str) -> Escalation:
    question = app.store.questions_in_thread(channel, ts)[0]
    [escalation] = app.store.escalations_for_question(question.id)
    return escalation


def test_an_escalation_is_reviewed_in_its_own_thread_and_approved(app: Harness) -> None:
    ts, review = escalate(app)

    text = block_texts(review)
    assert "Review needed: refund_exception" in text
    assert "<@U0ALICE>" in text
    assert "<#C0SUPPORT>" in text
    assert f"https://acme.slack.com/archives/C0SUPPORT/p{ts.replace('.', '')}" in text
    assert "chargeback" in text  # the question and the keyword reason
    assert "*Evidence*" in text
    assert "billing/refund-policy.md" in text
    assert "Here is the answer to:" in text  # the proposed answer
    assert action_ids(review) == [REVIEW_APPROVE, REVIEW_EDIT, REVIEW_REJECT]
    assert len(app.bot_replies("C0SUPPORT", ts)) == 1  # only the "specialist" notice

    app.click("U0BOB", "C0REVIEW", review.ts, REVIEW_APPROVE)
    answer = app.bot_reply("C0SUPPORT", ts, "Reviewed and sent by <@U0BOB>")
    app.idle()

    assert "Here is the answer to:" in block_texts(answer)
    assert action_ids(answer) == [FEEDBACK_UP, FEEDBACK_DOWN]  # no "Ask a human" any more
    updated = app.fake.message("C0REVIEW", review.ts)
    assert updated is not None
    assert action_ids(updated) == []
    assert "Approved and sent" in block_texts(updated)
    assert "<@U0BOB>" in block_texts(updated)
    assert "<!date^" in block_texts(updated)
    escalation = escalation_of(app, "C0SUPPORT", ts)
    assert (escalation.status, escalation.reviewer) == ("approved", "U0BOB")
    question = app.store.get_question(escalation.question_id)
    assert question is not None
    assert (question.status, question.answer_ts) == ("answered", answer.ts)
    app.fake.assert_no_rejections()


def test_edit_opens_a_prefilled_modal_refuses_an_empty_answer_and_sends_the_edit(
    app: Harness,
) -> None:
    ts, review = escalate(app)

    app.click("U0CAROL", "C0REVIEW", review.ts, REVIEW_EDIT)
    opened = app.fake.wait_for_call("views.open", timeout=10)
    assert opened.ok, opened.response
    view_id = opened.response["view"]["id"]
    element = opened.args["view"]["blocks"][1]["element"]
    assert element["initial_value"].startswith("Here is the answer to:")

    empty = app.send(app.fake.traffic.view_submission("U0CAROL", view_id, {ANSWER_BLOCK: "  "}))
    assert empty.json()["response_action"] == "errors"
    assert ANSWER_BLOCK in empty.json()["errors"]
    app.idle()
    assert escalation_of(app, "C0SUPPORT", ts).status == "pending"

    edited = "You can keep using the workspace; our billing team contacts you within a day."
    done = app.send(app.fake.traffic.view_submission("U0CAROL", view_id, {ANSWER_BLOCK: edited}))
    assert done.body == b""
    answer = app.bot_reply("C0SUPPORT", ts, "billing team contacts you")
    app.idle()

    assert "Reviewed and sent by <@U0CAROL>" in block_texts(answer)
    escalation = escalation_of(app, "C0SUPPORT", ts)
    assert (escalation.status, escalation.final_answer) == ("edited", edited)
    updated = app.fake.message("C0REVIEW", review.ts)
    assert updated is not None
    assert "Edited and sent" in block_texts(updated)
    assert action_ids(updated) == []
    app.fake.assert_no_rejections()


def test_reject_asks_for_a_reason_and_tells_the_asker_a_teammate_follows_up(
    app: Harness,
) -> None:
    ts, review = escalate(app)

    app.click("U0BOB", "C0REVIEW", review.ts, REVIEW_REJECT)
    opened = app.fake.wait_for_call("views.open", timeout=10)
    view_id = opened.response["view"]["id"]
    empty = app.send(app.fake.traffic.view_submission("U0BOB", view_id, {REASON_BLOCK: ""}))
    assert REASON_BLOCK in empty.json()["errors"]

    app.send(app.fake.traffic.view_submission("U0BOB", view_id, {REASON_BLOCK: "Needs finance"}))
    notice = app.bot_reply("C0SUPPORT", ts, "teammate will follow up")
    app.idle()

    assert action_ids(notice) == []
    escalation = escalation_of(app, "C0SUPPORT", ts)
    assert (escalation.status, escalation.reject_reason) == ("rejected", "Needs finance")
    updated = app.fake.message("C0REVIEW", review.ts)
    assert updated is not None
    assert "Rejected" in block_texts(updated)
    assert "Needs finance" in block_texts(updated)
    assert "Needs finance" not in block_texts(notice)
    app.fake.assert_no_rejections()


def test_someone_who_is_not_a_reviewer_is_refused_and_nothing_changes(app: Harness) -> None:
    ts, review = escalate(app)
    before = app.fake.message("C0REVIEW", review.ts)

    for action in (REVIEW_APPROVE, REVIEW_EDIT, REVIEW_REJECT):
        app.click("U0DAVE", "C0REVIEW", review.ts, action)
    app.idle()

    refusals = list(app.fake.calls(RESPONSE_URL))
    assert len(refusals) == 3
    assert all("Only reviewers" in c.args["text"] for c in refusals)
    assert all(c.args["response_type"] == "ephemeral" for c in refusals)
    assert app.fake.calls("views.open") == []
    assert escalation_of(app, "C0SUPPORT", ts).status == "pending"
    assert app.fake.message("C0REVIEW", review.ts) == before
    assert len(app.bot_replies("C0SUPPORT", ts)) == 1
    refused = [e for e in app.store.audit_events() if e.kind == "slack.review_refused"]
    assert [e.actor for e in refused] == ["U0DAVE"] * 3
    app.fake.assert_no_rejections()


def test_a_double_clicked_approve_posts_once(app: Harness) -> None:
    ts, review = escalate(app)
    clicks = [
        app.fake.traffic.block_action(user, "C0REVIEW", review.ts, REVIEW_APPROVE)
        for user in ("U0BOB", "U0BOB", "U0CAROL")
    ]
    threads = [threading.Thread(target=app.send, args=(click,)) for click in clicks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    app.bot_reply("C0SUPPORT", ts, "Reviewed and sent")
    app.idle()

    answers = [m for m in app.bot_replies("C0SUPPORT", ts) if "Reviewed and sent" in block_texts(m)]
    assert len(answers) == 1
    told = [c.args["text"] for c in app.fake.calls(RESPONSE_URL)]
    assert len(told) == 2
    assert all("already approved" in t for t in told)
    assert len(app.fake.calls("chat.update")) == 1
    app.fake.assert_no_rejections()


def test_the_asker_can_ask_for_a_human_after_a_failure(app: Harness) -> None:
    app.executor.fail = True
    ts = app.ask("U0ALICE", "C0SUPPORT", "How do I export a project?")
    notice = app.bot_reply("C0SUPPORT", ts, "something went wrong")

    app.click("U0ALICE", "C0SUPPORT", notice.ts, ASK_HUMAN)
    review = app.review_message()
    app.idle()

    assert "No draft" in block_texts(review)
    assert action_ids(review) == [REVIEW_EDIT, REVIEW_REJECT]  # nothing to approve as is
    app.fake.assert_no_rejections()
