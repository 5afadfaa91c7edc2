"""``/supportbot``: help, a private question, status, and reindex (reviewers only)."""

from __future__ import annotations

import pytest
from slack_harness import Harness, block_texts
from test_slack_reviews import escalate

from supportbot.fakes.slack import RESPONSE_URL
from supportbot.slack.commands import parse


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ("help", "")),
        ("help", ("help", "")),
        ("  STATUS ", ("status", "")),
        ("reindex", ("reindex", "")),
        ("ask How do I export?", ("ask", "How do I export?")),
        ("ask", ("help", "")),
        ("How do I export?", ("ask", "How do I export?")),
        ("status of my refund?", ("ask", "status of my refund?")),
    ],
)
def test_parse(text: str, expected: tuple[str, str]) -> None:
    assert parse(text) == expected


def responses(app: Harness) -> list[str]:
    return [
        str(c.args.get("text")) + str(c.args.get("blocks")) for c in app.fake.calls(RESPONSE_URL)
    ]


def test_help_is_the_ack_itself(app: Harness) -> None:
    acked = app.send(app.fake.traffic.slash_command("U0ALICE", "C0GENERAL", "help"))

    assert acked.json()["response_type"] == "ephemeral"
    assert "/supportbot status" in str(acked.json()["blocks"])


def test_a_private_question_is_answered_only_to_the_asker(app: Harness) -> None:
    command = app.fake.traffic.slash_command(
        "U0ALICE", "C0GENERAL", "ask How do I export a project?"
    )
    acked = app.send(command)
    assert "Looking into it" in acked.json()["text"]

    app.fake.wait_for_call(RESPONSE_URL, timeout=10)
    app.idle()

    [answer] = app.fake.calls(RESPONSE_URL)
    assert answer.args["response_type"] == "ephemeral"
    assert "Here is the answer to: How do I export a project?" in str(answer.args["blocks"])
    assert [e.user for e in app.fake.ephemerals()] == ["U0ALICE"]
    assert app.fake.messages_in("C0GENERAL") == []
    [question] = app.store.questions_between(*_all_time())
    assert (question.status, question.thread_ts, question.user) == ("answered", None, "U0ALICE")
    app.fake.assert_no_rejections()


def _all_time() -> tuple[object, object]:
    from datetime import UTC, datetime

    return datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)


def test_a_private_question_that_needs_a_person_gets_its_answer_by_dm(app: Harness) -> None:
    app.send(app.fake.traffic.slash_command("U0ALICE", "C0GENERAL", "ask I filed a chargeback"))
    review = app.review_message()
    app.idle()
    assert "privately" in block_texts(review)

    app.click("U0BOB", "C0REVIEW", review.ts, "review_approve")
    app.fake.wait_for_message("D0ALICE", predicate=lambda m: "Reviewed and sent" in str(m.blocks))
    app.idle()
    assert "specialist" in str(app.fake.messages_in("D0ALICE")[0].blocks)
    app.fake.assert_no_rejections()


def test_status_reports_the_index_and_the_queue(app: Harness) -> None:
    escalate(app)
    acked = app.send(app.fake.traffic.slash_command("U0DAVE", "C0GENERAL", "status"))
    assert acked.body == b""

    app.fake.wait_for_call(RESPONSE_URL, timeout=10)
    [status] = responses(app)
    assert "3 documents" in status
    assert "generation" in status
    assert "1 escalations waiting" in status
    assert "scripted" in status
    app.fake.assert_no_rejections()


def test_reindex_is_for_reviewers_only(app: Harness) -> None:
    app.send(app.fake.traffic.slash_command("U0DAVE", "C0GENERAL", "reindex"))
    app.fake.wait_for_call(RESPONSE_URL, timeout=10)
    assert "Only reviewers" in responses(app)[0]

    app.send(app.fake.traffic.slash_command("U0CAROL", "C0GENERAL", "reindex"))
    app.fake.wait_for_call(RESPONSE_URL, lambda c: "Reindex done" in str(c.args), timeout=20)
    report = responses(app)[-1]
    assert "0 added, 0 updated, 0 removed, 3 unchanged" in report
    kinds = [e.kind for e in app.store.audit_events()]
    assert kinds.count("slack.reindex_refused") == 1
    assert kinds.count("slack.reindex") == 1
    app.fake.assert_no_rejections()
