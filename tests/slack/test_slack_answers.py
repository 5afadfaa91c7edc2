"""Questions asked in Slack, end to end over HTTP: answered in the thread, once, never
silently dropped."""

from __future__ import annotations

import threading

from slack_harness import BOT, Harness, action_ids, block_texts

from supportbot.fakes.slack import ChannelRateLimit, SlackChannel
from supportbot.slack import blocks
from supportbot.slack.blocks import ASK_HUMAN, FEEDBACK_DOWN, FEEDBACK_UP


def audit_kinds(app: Harness) -> list[str]:
    return [e.kind for e in app.store.audit_events()]


def test_a_question_is_answered_in_its_thread_with_sources_and_buttons(app: Harness) -> None:
    ts = app.ask("U0ALICE", "C0GENERAL", "How long is the password reset link valid?")

    answer = app.bot_reply("C0GENERAL", ts, "Here is the answer")
    app.idle()

    text = block_texts(answer)
    assert "How long is the password reset link valid?" in text
    assert "<https://git.example.com/kb/blob/main/accounts/password-reset.md#L" in text
    assert action_ids(answer) == [FEEDBACK_UP, FEEDBACK_DOWN, ASK_HUMAN]
    question = app.store.questions_in_thread("C0GENERAL", ts)[0]
    assert (question.status, question.answer_ts, question.user) == (
        "answered",
        answer.ts,
        "U0ALICE",
    )
    assert [c.args["name"] for c in app.fake.calls("reactions.add")] == ["eyes"]
    assert "reactions" not in app.fake.message_json("C0GENERAL", ts)  # 👀 removed when done
    assert len(app.bot_replies("C0GENERAL", ts)) == 1
    app.fake.assert_no_rejections()


def test_direct_messages_and_support_channel_messages_are_questions(app: Harness) -> None:
    dm = app.fake.traffic.message("U0ALICE", "D0ALICE", "How do I export a project?")
    support = app.fake.traffic.message("U0ALICE", "C0SUPPORT", "How do I change my password?")
    elsewhere = app.fake.traffic.message("U0ALICE", "C0GENERAL", "How do I export a project?")
    for incoming in (dm, support, elsewhere):
        app.send(incoming)

    app.bot_reply("D0ALICE", dm.event["ts"], "export a project")
    app.bot_reply("C0SUPPORT", support.event["ts"], "change my password")
    app.idle()

    assert app.bot_replies("C0GENERAL", elsewhere.event["ts"]) == []
    assert [q.channel for q in app.store.questions_between(*_all_time())] == [
        "D0ALICE",
        "C0SUPPORT",
    ]
    app.fake.assert_no_rejections()


def _all_time() -> tuple[object, object]:
    from datetime import UTC, datetime

    return datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)


def test_bots_the_bot_itself_and_edits_are_ignored(app: Harness) -> None:
    traffic = app.fake.traffic
    original = app.fake.post_as_user("U0ALICE", "C0SUPPORT", "hello")
    own = app.fake.web_client().chat_postMessage(channel="C0SUPPORT", text="I am the bot")
    own_message = app.fake.message("C0SUPPORT", own["ts"])
    assert own_message is not None
    for incoming in (
        traffic.bot_message("C0SUPPORT", "How do I export a project?"),
        traffic.message_event(own_message),
        traffic.message_changed("C0SUPPORT", original.ts, "How do I export a project, please?"),
    ):
        app.send(incoming)
    app.idle()

    assert app.store.questions_between(*_all_time()) == []
    assert app.fake.calls("chat.postMessage") == [app.fake.calls("chat.postMessage")[0]]  # ours


def test_a_retried_event_is_answered_once(app: Harness) -> None:
    mention = app.fake.traffic.app_mention("U0ALICE", "C0GENERAL", "How do I export a project?")
    app.send(mention)
    app.send(mention.retried(1, "http_timeout"))
    app.send(mention.retried(2, "http_timeout"))

    app.bot_reply("C0GENERAL", mention.event["ts"], "export a project")
    app.idle()

    assert len(app.bot_replies("C0GENERAL", mention.event["ts"])) == 1
    assert len(app.executor.calls) == 1
    assert audit_kinds(app).count("slack.retry_ignored") == 2
    assert len(app.store.questions_between(*_all_time())) == 1


def test_one_mention_delivered_as_message_and_app_mention_is_answered_once(app: Harness) -> None:
    deliveries = [
        app.fake.traffic.mention_both("U0ALICE", "C0SUPPORT", "How do I export a project?"),
        app.fake.traffic.mention_both("U0ALICE", "D0ALICE", "How do I change my password?"),
    ]
    threads = [
        threading.Thread(target=app.send, args=(incoming,))
        for pair in deliveries
        for incoming in pair
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    for message, _ in deliveries:
        app.bot_reply(message.event["channel"], message.event["ts"], "Here is the answer")
    app.idle()

    for message, _ in deliveries:
        assert len(app.bot_replies(message.event["channel"], message.event["ts"])) == 1
    assert len(app.executor.calls) == 2
    assert audit_kinds(app).count("slack.duplicate_delivery") == 2


def test_a_follow_up_in_the_thread_is_answered_with_the_thread_as_history(app: Harness) -> None:
    ts = app.ask("U0ALICE", "C0GENERAL", "How do I reset my password?")
    first = app.bot_reply("C0GENERAL", ts, "reset my password")

    follow_up = app.fake.traffic.message(
        "U0ALICE", "C0GENERAL", "How long is the link valid?", thread_ts=ts
    )
    bystander = app.fake.traffic.message("U0DAVE", "C0GENERAL", "Thanks, me too", thread_ts=ts)
    app.send(follow_up)
    app.send(bystander)
    app.bot_reply("C0GENERAL", ts, "How long is the link valid?")
    app.idle()

    assert len(app.executor.calls) == 2  # the bystander's reply is not a question
    history = app.executor.calls[1].history
    assert [(t.role, t.text) for t in history] == [
        ("user", "How do I reset my password?"),
        ("assistant", "Here is the answer to: How do I reset my password?"),
    ]
    assert "reset my password" in block_texts(first)
    assert len(app.bot_replies("C0GENERAL", ts)) == 2


def test_a_failure_is_told_to_the_asker_and_recorded(app: Harness) -> None:
    app.executor.fail = True
    ts = app.ask("U0ALICE", "C0SUPPORT", "How do I export a project?")

    notice = app.bot_reply("C0SUPPORT", ts, "something went wrong")
    app.idle()

    assert action_ids(notice) == [ASK_HUMAN]
    question = app.store.questions_in_thread("C0SUPPORT", ts)[0]
    assert question.status == "failed"
    assert "exploded" in (question.error or "")
    assert "slack.answer_failed" in audit_kinds(app)
    assert "reactions" not in app.fake.message_json("C0SUPPORT", ts)
    app.fake.assert_no_rejections()


def test_a_rate_limited_post_is_retried_by_the_client(app: Harness) -> None:
    app.fake.fail_next("chat.postMessage", status=429, retry_after=0)
    ts = app.ask("U0ALICE", "C0GENERAL", "How do I export a project?")

    app.bot_reply("C0GENERAL", ts, "export a project")
    app.idle()

    posts = app.fake.calls("chat.postMessage")
    assert [(c.status, c.cause) for c in posts] == [(429, "scripted"), (200, None)]
    assert len(app.bot_replies("C0GENERAL", ts)) == 1
    app.fake.assert_no_rejections()


def test_an_answer_longer_than_slack_allows_is_split_within_the_limits(app: Harness) -> None:
    paragraph = "Exports arrive by email within an hour for large projects. " * 40
    app.executor.reply = lambda question: "\n\n".join([paragraph] * 200)  # ~480,000 characters
    ts = app.ask("U0ALICE", "C0GENERAL", "How do I export a project?")

    app.bot_reply("C0GENERAL", ts, FEEDBACK_UP)
    app.idle()

    replies = app.bot_replies("C0GENERAL", ts)
    assert len(replies) == blocks.MAX_ANSWER_MESSAGES
    assert all(len(m.blocks) <= blocks.MAX_BLOCKS for m in replies)
    sections = [b for m in replies for b in m.blocks if b["type"] == "section"]
    assert all(len(b["text"]["text"]) <= blocks.SECTION_TEXT_MAX for b in sections)
    assert action_ids(replies[-1]) == [FEEDBACK_UP, FEEDBACK_DOWN, ASK_HUMAN]
    assert all(action_ids(m) == [] for m in replies[:-1])
    assert "too long for Slack" in block_texts(replies[-1])
    app.fake.assert_no_rejections()


def test_feedback_buttons_store_one_vote_per_person(app: Harness) -> None:
    ts = app.ask("U0ALICE", "C0GENERAL", "How do I export a project?")
    answer = app.bot_reply("C0GENERAL", ts, FEEDBACK_UP)

    app.click("U0ALICE", "C0GENERAL", answer.ts, FEEDBACK_UP)
    app.click("U0DAVE", "C0GENERAL", answer.ts, FEEDBACK_UP)
    app.idle()
    app.click("U0ALICE", "C0GENERAL", answer.ts, FEEDBACK_DOWN)
    app.idle()

    question = app.store.questions_in_thread("C0GENERAL", ts)[0]
    votes = {f.user: f.value for f in app.store.feedback_for(question.id)}
    assert votes == {"U0ALICE": "down", "U0DAVE": "up"}
    thanks = [e.text for e in app.fake.ephemerals(user="U0ALICE")]
    assert thanks[0].startswith("Thanks for the feedback")
    assert "Ask a human" in thanks[1]
    app.fake.assert_no_rejections()


def test_ask_a_human_escalates_once_and_tells_the_asker(app: Harness) -> None:
    ts = app.ask("U0ALICE", "C0GENERAL", "How do I export a project?")
    answer = app.bot_reply("C0GENERAL", ts, ASK_HUMAN)

    app.click("U0ALICE", "C0GENERAL", answer.ts, ASK_HUMAN)
    review = app.review_message()
    app.bot_reply("C0GENERAL", ts, "specialist")
    app.idle()
    app.click("U0ALICE", "C0GENERAL", answer.ts, ASK_HUMAN)
    app.idle()

    question = app.store.questions_in_thread("C0GENERAL", ts)[0]
    assert question.status == "escalated"
    [escalation] = app.store.escalations_for_question(question.id)
    assert (escalation.review_channel, escalation.review_ts) == ("C0REVIEW", review.ts)
    assert any(r.signal == "user_requested" for r in escalation.reasons)
    assert "asked for a person" in block_texts(review)
    assert len(app.fake.messages_in("C0REVIEW")) == 1
    assert "already with the team" in app.fake.ephemerals(user="U0ALICE")[-1].text
    app.fake.assert_no_rejections()


def test_a_bare_mention_gets_a_hint_and_is_not_a_question(app: Harness) -> None:
    mention = app.fake.traffic.app_mention("U0ALICE", "C0GENERAL")
    app.send(mention)

    app.bot_reply("C0GENERAL", mention.event["ts"], "Ask me a question")
    app.idle()

    assert app.store.questions_between(*_all_time()) == []


def test_a_channel_rule_by_name_applies(app: Harness) -> None:
    app.fake.add_channel(SlackChannel(id="C0LEGAL", name="legal-requests"))
    ts = app.ask("U0ALICE", "C0LEGAL", "How do I export a project?")

    app.bot_reply("C0LEGAL", ts, "specialist")
    app.idle()

    question = app.store.questions_in_thread("C0LEGAL", ts)[0]
    assert question.status == "escalated"
    assert any(r.signal == "channel_rule" for r in question.reasons)
    assert BOT in {m.user for m in app.fake.messages_in("C0REVIEW")}


def test_an_answer_slack_refused_is_reported_then_delivered_by_the_recovery(
    app: Harness,
) -> None:
    app.fake.fail_next("chat.postMessage", error="internal_error")  # not retried: a 200
    ts = app.ask("U0ALICE", "C0GENERAL", "How do I export a project?")

    app.bot_reply("C0GENERAL", ts, "something went wrong")
    app.idle()
    question = app.store.questions_in_thread("C0GENERAL", ts)[0]
    assert (question.status, question.answer_ts) == ("answered", None)
    assert "slack.delivery_failed" in audit_kinds(app)

    report = app.bot.recover()
    answer = app.bot_reply("C0GENERAL", ts, "export a project")
    app.idle()

    assert report.redelivered == [question.id]
    assert blocks.DELAYED_INTRO in block_texts(answer)
    stored = app.store.get_question(question.id)
    assert stored is not None
    assert stored.answer_ts == answer.ts
    assert app.bot.recover().redelivered == []


def test_a_burst_in_one_channel_is_paced_to_slacks_limit(app: Harness) -> None:
    app.fake.set_channel_rate_limit(ChannelRateLimit(per_second=1.0, burst=3))
    messages = [
        app.fake.traffic.message("U0ALICE", "C0SUPPORT", f"How do I export project {n}?")
        for n in range(5)
    ]
    for message in messages:
        app.send(message)

    for message in messages:
        app.bot_reply("C0SUPPORT", message.event["ts"], "export project")
    app.idle()

    assert [c.status for c in app.fake.calls("chat.postMessage")] == [200] * 5
    app.fake.assert_no_rejections()
