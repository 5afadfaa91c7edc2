"""Each record goes in and comes back out unchanged, with timestamps from the clock (UTC)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from supportbot.clock import FakeClock
from supportbot.errors import RecordNotFound
from supportbot.llm.types import Draft, Evidence, ModelCall
from supportbot.retrieval.types import Passage
from supportbot.routing.types import Decision, Reason
from supportbot.store import NewEscalation, NewQuestion, Question, SqlStore
from supportbot.store.tables import ModelCallRow


def _question(store: SqlStore, text: str = "How do I reset my password?") -> Question:
    return store.create_question(
        NewQuestion(
            source="slack",
            text=text,
            channel="C123",
            user="U42",
            thread_ts="1700000000.000100",
            message_ts="1700000000.000100",
            event_id="Ev0001",
        )
    )


def _passage(n: int, score: float) -> Passage:
    return Passage(
        chunk_id=f"guides/reset.md#{n}",
        doc_id="guides/reset",
        source="guides/reset.md",
        heading=f"Reset > Step {n}",
        line_start=10 * n,
        line_end=10 * n + 7,
        text=f"Step {n}: open Settings → Security. «Ünïcode» too.",
        score=score,
    )


DRAFT = Draft(
    classification="account_access",
    evidence=[Evidence(source="guides/reset.md", quote="open Settings → Security")],
    draft_response="Open Settings → Security and click *Reset*.",
    confidence=0.82,
    escalate=False,
    escalate_reason=None,
)
REASONS = [
    Reason(signal="policy_category", detail="refund_exception by meaning (0.71)"),
    Reason(signal="weak_retrieval", detail="top score 0.21 < 0.30"),
]


def test_question_round_trip(store: SqlStore, clock: FakeClock) -> None:
    question = _question(store)
    assert question.status == "received"
    assert question.attempts == 0
    assert question.received_at == clock.now()
    assert question.received_at.tzinfo is not None
    assert question.received_at.utcoffset() == timedelta(0)
    loaded = store.get_question(question.id)
    assert loaded == question
    assert (loaded.channel, loaded.user, loaded.event_id) == ("C123", "U42", "Ev0001")
    assert store.get_question("0" * 32) is None


def test_questions_get_distinct_ids(store: SqlStore) -> None:
    ids = {_question(store).id for _ in range(5)}
    assert len(ids) == 5


def test_retrieval_round_trip_and_top_score(store: SqlStore) -> None:
    question = _question(store)
    passages = [_passage(1, 0.71), _passage(2, 0.93), _passage(3, 0.40)]
    store.record_retrieval(question.id, passages)
    assert store.retrieval(question.id) == passages  # rank order kept
    loaded = store.get_question(question.id)
    assert loaded is not None
    assert loaded.top_score == pytest.approx(0.93)
    # a retry replaces the earlier retrieval
    store.record_retrieval(question.id, [_passage(4, 0.5)])
    assert store.retrieval(question.id) == [_passage(4, 0.5)]
    store.record_retrieval(question.id, [])
    assert store.retrieval(question.id) == []
    assert store.get_question(question.id).top_score == 0.0  # type: ignore[union-attr]


def test_draft_and_decisions_round_trip(store: SqlStore, clock: FakeClock) -> None:
    question = _question(store)
    store.record_draft(question.id, DRAFT)
    before = Decision(route="human", category="refund_exception", reasons=REASONS[:1])
    store.record_decision(question.id, before, stage="pre_model")
    clock.advance(2.5)
    after = Decision(route="human", category="refund_exception", reasons=REASONS)
    store.record_decision(question.id, after, stage="post_model")

    decisions = store.decisions(question.id)
    assert [(d.stage, d.decision, d.at) for d in decisions] == [
        ("pre_model", before, clock.now() - timedelta(seconds=2.5)),
        ("post_model", after, clock.now()),
    ]
    loaded = store.get_question(question.id)
    assert loaded is not None
    assert loaded.draft == DRAFT
    assert (loaded.route, loaded.category, loaded.reasons) == ("human", "refund_exception", REASONS)


def test_declined_decision_round_trip(store: SqlStore) -> None:
    question = _question(store, "What's the weather on Mars?")
    decision = Decision(
        route="answer", reasons=[Reason(signal="off_topic", detail="x")], declined=True
    )
    store.record_decision(question.id, decision, stage="pre_model")
    assert store.decisions(question.id)[0].decision == decision


def test_model_calls_round_trip(store: SqlStore, clock: FakeClock) -> None:
    question = _question(store)
    calls = [
        ModelCall(
            tier="executor",
            provider="ollama",
            model="qwen3:8b",
            outcome="invalid_output",
            latency_ms=812.5,
            input_tokens=900,
            output_tokens=120,
            attempt=1,
            error="evidence.0.quote: field required",
        ),
        ModelCall(
            tier="escalator",
            provider="anthropic",
            model="claude-sonnet-4-5",
            outcome="ok",
            latency_ms=2300.0,
            input_tokens=1500,
            output_tokens=300,
            cache_read_tokens=1200,
            cache_write_tokens=0,
            attempt=2,
            retries=1,
            request_id="req_123",
        ),
    ]
    store.record_model_calls(question.id, calls)
    store.record_model_calls(None, [calls[0]])  # a call outside any question (e.g. a probe)
    records = store.model_calls(question.id)
    assert [
        ModelCall.model_validate(r.model_dump(exclude={"id", "question_id", "at"})) for r in records
    ] == calls
    assert all(r.question_id == question.id and r.at == clock.now() for r in records)


def test_every_model_call_field_has_a_column() -> None:
    """A field added to ModelCall must be stored too (with a migration)."""
    columns = set(ModelCallRow.__table__.columns.keys())
    assert set(ModelCall.model_fields) <= columns


def test_escalation_round_trip(store: SqlStore, clock: FakeClock) -> None:
    question = _question(store)
    new = NewEscalation(
        question_id=question.id,
        route="human",
        category="refund_exception",
        reasons=REASONS,
        draft=DRAFT,
        proposed_answer=DRAFT.draft_response,
    )
    escalation = store.create_escalation(new)
    assert escalation.status == "pending"
    assert escalation.created_at == clock.now()
    assert escalation.review_time is None
    assert store.get_escalation(escalation.id) == escalation
    assert store.escalations_for_question(question.id) == [escalation]
    assert (escalation.draft, escalation.reasons) == (DRAFT, REASONS)

    assert store.set_review_message(escalation.id, channel="CREVIEW", message_ts="1.000200")
    assert not store.set_review_message(escalation.id, channel="CREVIEW", message_ts="9.9")
    clock.advance(timedelta(minutes=7))
    assert store.approve_escalation(escalation.id, reviewer="U7")
    decided = store.get_escalation(escalation.id)
    assert decided is not None
    assert (decided.review_channel, decided.review_ts) == ("CREVIEW", "1.000200")
    assert (decided.status, decided.reviewer) == ("approved", "U7")
    assert decided.final_answer == DRAFT.draft_response  # approve sends the proposed answer
    assert decided.review_time == timedelta(minutes=7)


def test_feedback_last_vote_wins(store: SqlStore, clock: FakeClock) -> None:
    question = _question(store)
    store.record_feedback(question.id, user="U1", value="up")
    store.record_feedback(question.id, user="U2", value="up")
    clock.advance(30)
    store.record_feedback(question.id, user="U1", value="down")
    votes = {(f.user, f.value, f.at) for f in store.feedback_for(question.id)}
    start = clock.now() - timedelta(seconds=30)
    assert votes == {("U1", "down", clock.now()), ("U2", "up", start)}


def test_audit_events_round_trip(store: SqlStore, clock: FakeClock) -> None:
    question = _question(store)
    store.record_audit(
        "slack.retry_ignored",
        actor="U42",
        question_id=question.id,
        details={"retry_num": 2, "reason": "http_timeout", "nested": {"ok": [1, None, True]}},
    )
    events = store.audit_events(question_id=question.id)
    assert [e.kind for e in events] == ["question.received", "slack.retry_ignored"]
    assert events[1].details == {
        "retry_num": 2,
        "reason": "http_timeout",
        "nested": {"ok": [1, None, True]},
    }
    assert (events[1].actor, events[1].at) == ("U42", clock.now())
    store.record_audit("store.purged")
    assert [e.kind for e in store.audit_events()][-1] == "store.purged"


def test_writes_about_unknown_questions_are_refused(store: SqlStore) -> None:
    missing = "f" * 32
    with pytest.raises(RecordNotFound, match=missing):
        store.record_draft(missing, DRAFT)
    with pytest.raises(RecordNotFound):
        store.record_retrieval(missing, [_passage(1, 0.5)])
    with pytest.raises(RecordNotFound):
        store.record_decision(missing, Decision(route="answer"), stage="pre_model")
    with pytest.raises(RecordNotFound):
        store.record_model_calls(
            missing,
            [ModelCall(tier="executor", provider="x", model="m", outcome="ok", latency_ms=1)],
        )
    with pytest.raises(RecordNotFound):
        store.create_escalation(NewEscalation(question_id=missing, route="human"))
    with pytest.raises(RecordNotFound):
        store.record_feedback(missing, user="U1", value="up")
    with pytest.raises(RecordNotFound):
        store.record_answer_message(missing, "1.2")


def test_timestamps_are_stored_as_utc_whatever_the_clock_zone(store: SqlStore) -> None:
    plus_five = timezone(timedelta(hours=5))
    local = FakeClock(datetime(2026, 3, 2, 14, 0, tzinfo=plus_five))
    zoned = SqlStore(store.engine, clock=local)
    question = zoned.create_question(NewQuestion(source="cli", text="zones"))
    loaded = store.get_question(question.id)
    assert loaded is not None
    assert loaded.received_at == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert loaded.received_at.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(store: SqlStore) -> None:
    naive = FakeClock(datetime(2026, 3, 2, 9, 0))
    with pytest.raises(ValueError, match="naive"):
        SqlStore(store.engine, clock=naive).create_question(NewQuestion(source="cli", text="x"))
    with pytest.raises(ValueError, match="timezone-aware"):
        store.questions_between(datetime(2026, 3, 1), datetime(2026, 3, 2, tzinfo=UTC))
