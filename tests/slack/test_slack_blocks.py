"""blocks.py: pure builders that stay within Slack's limits whatever they are given
(checked with the fake Slack's own Block Kit checker)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from supportbot.fakes.slack import blocks_problems, view_problems
from supportbot.llm.types import Draft, Evidence
from supportbot.pipeline.types import Citation
from supportbot.retrieval.types import Passage
from supportbot.routing.types import Reason
from supportbot.slack import blocks
from supportbot.slack.blocks import AnswerView, ReviewView, StatusView
from supportbot.store.records import Escalation, Question

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
HUGE = "word " * 200_000  # a million characters
LONG_ID = "x" * 5_000


def citation(i: int, heading: str = "Heading") -> Citation:
    return Citation(
        source=f"dir/file-{i}.md", heading=heading, score=0.5, line_start=i, line_end=i + 3
    )


def passage(i: int, text: str = "text") -> Passage:
    return Passage(
        chunk_id=f"c{i}",
        doc_id=f"dir/file-{i}",
        source=f"dir/file-{i}.md",
        heading="H" * 500,
        line_start=1,
        line_end=2,
        text=text,
        score=0.5,
    )


def question(text: str = "How do I export?") -> Question:
    return Question(
        id="q1",
        source="slack",
        text=text,
        channel="C0SUPPORT",
        user="U0ALICE",
        thread_ts="1.000100",
        message_ts="1.000100",
        event_id=None,
        status="escalated",
        attempts=1,
        received_at=NOW,
        started_at=NOW,
        answered_at=None,
        updated_at=NOW,
        route="human",
        category="refund_exception",
        reasons=[],
        top_score=0.42,
        draft=None,
        answer_text=None,
        answer_ts=None,
        error=None,
    )


def escalation(
    status: str = "pending",
    *,
    proposed: str | None = "Proposed",
    draft: str = "Draft",
    big: bool = False,
) -> Escalation:
    quote = HUGE if big else "quote"
    return Escalation(
        id="e1",
        question_id="q1",
        route="human",
        category="c" * (500 if big else 5),
        reasons=[Reason(signal="keyword", detail=HUGE if big else "chargeback")]
        * (300 if big else 1),
        draft=Draft(
            classification="x",
            evidence=[Evidence(source="s.md", quote=quote)] * (200 if big else 1),
            draft_response=draft,
            confidence=0.5,
            escalate=True,
        ),
        proposed_answer=proposed,
        status=status,
        review_channel="C0REVIEW",
        review_ts="2.000100",
        reviewer="U0BOB" if status != "pending" else None,
        final_answer=HUGE
        if big and status == "edited"
        else ("Edited" if status == "edited" else None),
        reject_reason=(HUGE if big else "Because") if status == "rejected" else None,
        created_at=NOW,
        decided_at=None if status == "pending" else NOW + timedelta(minutes=5),
        sla_reminded_at=None,
    )


def assert_valid(messages: list[blocks.SlackMessage]) -> None:
    for message in messages:
        assert blocks_problems(message.blocks) == [], message.blocks[:2]
        assert message.text.strip()
        assert len(message.text) <= blocks.FALLBACK_TEXT_MAX


def test_a_short_answer_is_one_message_with_sources_and_buttons() -> None:
    view = AnswerView(
        question_id="q1",
        text="**Yes.** See [the docs](https://example.com/a).",
        citations=[citation(1)],
        answered_by="executor",
    )
    [message] = blocks.answer_messages(
        view, source_url_template="https://kb/{source}#L{line_start}"
    )
    assert_valid([message])
    text = json.dumps(message.blocks, ensure_ascii=False)
    assert "*Yes.* See <https://example.com/a|the docs>." in text
    assert "<https://kb/dir/file-1.md#L1|dir/file-1.md › Heading>" in text
    assert [e["action_id"] for e in message.blocks[-1]["elements"]] == [
        blocks.FEEDBACK_UP,
        blocks.FEEDBACK_DOWN,
        blocks.ASK_HUMAN,
    ]


@pytest.mark.parametrize("size", [3_100, 60_000, 200_000, 1_000_000])
def test_answers_of_any_length_fit(size: int) -> None:
    text = ("A sentence of an answer. " * (size // 25 + 1))[:size]
    view = AnswerView(
        question_id=LONG_ID,
        text=text,
        citations=[citation(i, "h" * 3_000) for i in range(40)],
        intro=HUGE[:10_000],
        reviewed_by="U0BOB",
    )
    messages = blocks.answer_messages(
        view, source_url_template="https://kb/" + "p" * 3_000 + "/{source}"
    )
    assert_valid(messages)
    assert 1 <= len(messages) <= blocks.MAX_ANSWER_MESSAGES
    buttons = [b for m in messages for b in m.blocks if b["type"] == "actions"]
    assert len(buttons) == 1
    assert buttons[0] in messages[-1].blocks
    shown = "".join(b["text"]["text"] for m in messages for b in m.blocks if b["type"] == "section")
    if size <= 200_000:  # everything is shown, in order
        assert shown.count("A sentence of an answer.") == text.count("A sentence of an answer.")
    else:
        assert "too long for Slack" in shown


def test_markdown_becomes_mrkdwn() -> None:
    converted = blocks.markdown_to_mrkdwn(
        "# Title\n- one *two* **three** ~~four~~\n> quoted <tag> & co\n```\na <b> c\n```\n[x](https://e.com/?a=1)"
    )
    assert converted.splitlines() == [
        "*Title*",
        "• one _two_ *three* ~four~",
        "> quoted &lt;tag&gt; &amp; co",
        "```",
        "a &lt;b&gt; c",
        "```",
        "<https://e.com/?a=1|x>",
    ]


def test_split_text_keeps_every_word_and_balances_code_fences() -> None:
    text = "para one. " * 400 + "\n\n```\n" + "code line\n" * 600 + "```\nend"
    pieces = blocks.split_text(text, 3_000)
    assert all(len(p) <= 3_000 for p in pieces)
    assert all(p.count("```") % 2 == 0 for p in pieces)
    joined = " ".join(pieces).replace("```", "")
    assert joined.split().count("para") == 400
    assert joined.split().count("code") == 600


@pytest.mark.parametrize("status", ["pending", "approved", "edited", "rejected", "expired"])
@pytest.mark.parametrize("big", [False, True])
def test_review_messages_fit_in_every_state(status: str, big: bool) -> None:
    view = ReviewView(
        escalation=escalation(
            status, proposed=HUGE if big else "Proposed", draft=HUGE if big else "Draft", big=big
        ),
        question=question(HUGE if big else "How do I export?"),
        permalink="https://acme.slack.com/archives/C0SUPPORT/p1000100",
        passages=[passage(i, HUGE if big else "t") for i in range(10)],
    )
    message = blocks.review_message(view)
    assert_valid([message])
    actions = [b for b in message.blocks if b["type"] == "actions"]
    assert bool(actions) == (status == "pending")
    overflow = blocks.review_overflow_messages(view)
    assert_valid(overflow)
    assert bool(overflow) == big
    if status != "pending":
        assert "<@U0BOB>" in json.dumps(message.blocks, ensure_ascii=False)


def test_modals_fit_and_carry_the_escalation_id() -> None:
    for builder in (blocks.edit_modal, blocks.reject_modal):
        view = builder(escalation(proposed=HUGE), question(HUGE))
        assert view_problems(view) == []
        assert blocks.decode_metadata(view["private_metadata"]) == {"escalation_id": "e1"}
    edit = blocks.edit_modal(escalation(proposed=HUGE), question())
    assert len(edit["blocks"][1]["element"]["initial_value"]) <= blocks.TEXT_INPUT_MAX
    assert "shortened" in edit["blocks"][1]["hint"]["text"]
    assert view_problems(blocks.edit_modal(escalation(proposed=None), question())) == []


def test_input_value_reads_a_submission() -> None:
    view = {
        "state": {"values": {"answer": {"answer": {"type": "plain_text_input", "value": "hi"}}}}
    }
    assert blocks.input_value(view, "answer") == "hi"
    assert blocks.input_value({"state": {"values": {}}}, "answer") == ""


def test_notices_status_help_and_reminders_fit() -> None:
    status = StatusView(
        documents=None,
        chunks=None,
        generation=None,
        embedder=None,
        index_problem=HUGE,
        pending_escalations=3,
        oldest_pending=timedelta(hours=50),
        unfinished_questions=2,
        running=1,
        queued=0,
        workers=16,
        executor="x" * 5_000,
        escalator=None,
        policy_problem=HUGE,
    )
    messages = [
        blocks.notice(HUGE, ask_human_for=LONG_ID),
        blocks.status_message(status),
        blocks.help_message(),
        blocks.sla_reminder(timedelta(minutes=125), 60, ["S0LEADS", "U0BOB"] * 50),
        blocks.reindex_message(
            added=1,
            updated=2,
            removed=0,
            unchanged=3,
            chunks=9,
            seconds=1.5,
            failed=[("p" * 3_000, HUGE)] * 100,
        ),
        blocks.already_decided(escalation("approved")),
    ]
    assert_valid(messages)
    assert "<!subteam^S0LEADS>, <@U0BOB>" in messages[3].text
    assert "2 h 5 min" in messages[3].text


def test_source_url_quotes_paths_and_rejects_unknown_placeholders() -> None:
    c = Citation(source="a b/c.md", heading="Q&A", score=1, line_start=3, line_end=9)
    assert (
        blocks.source_url("https://kb/{source}#L{line_start}-L{line_end}", c)
        == "https://kb/a%20b/c.md#L3-L9"
    )
    assert blocks.source_url("https://kb/{doc_id}?h={heading}", c) == "https://kb/a%20b/c?h=Q%26A"
    with pytest.raises(KeyError):
        blocks.source_url("https://kb/{path}", c)
