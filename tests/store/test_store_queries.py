"""Queries others rely on: crash recovery, pending reviews and SLA, budget, digest windows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from supportbot.clock import FakeClock
from supportbot.llm.types import ModelCall, ModelTier
from supportbot.routing.types import Decision, Reason
from supportbot.store import (
    ChannelCount,
    NewEscalation,
    NewQuestion,
    Question,
    SqlStore,
    TokenUsage,
)

Race = Callable[[int, Callable[[int], Any]], list[Any]]
SLA = timedelta(minutes=60)


def _ask(store: SqlStore, text: str = "q", channel: str | None = "C1", **kw: Any) -> Question:
    return store.create_question(NewQuestion(source="slack", text=text, channel=channel, **kw))


def _call(tier: ModelTier, *, tokens: int = 0, model: str = "m") -> ModelCall:
    provider = "anthropic" if tier == "escalator" else "ollama"
    return ModelCall(
        tier=tier,
        provider=provider,
        model=model,
        outcome="ok",
        latency_ms=5.0,
        input_tokens=tokens,
        output_tokens=tokens // 10,
        cache_read_tokens=tokens // 2,
        cache_write_tokens=1,
    )


def test_unfinished_questions_are_found_for_crash_recovery(
    store: SqlStore, clock: FakeClock
) -> None:
    received = _ask(store, "received only")
    working = _ask(store, "in progress")
    store.transition_question(working.id, expected="received", to="in_progress")
    done = _ask(store, "answered")
    store.transition_question(done.id, expected="received", to="in_progress")
    store.transition_question(done.id, expected="in_progress", to="answered", answer_text="a")
    failed = _ask(store, "failed")
    store.transition_question(failed.id, expected="received", to="failed", error="boom")

    assert {q.id for q in store.unfinished_questions()} == {received.id, working.id}
    # a question a live worker touched a moment ago is not (yet) considered interrupted
    assert store.unfinished_questions(idle_for=timedelta(minutes=5)) == []
    clock.advance(timedelta(minutes=5))
    stale = store.unfinished_questions(idle_for=timedelta(minutes=5))
    assert {(q.id, q.status) for q in stale} == {
        (received.id, "received"),
        (working.id, "in_progress"),
    }


def test_pending_escalations_survive_a_restart(database_url: str, clock: FakeClock) -> None:
    with SqlStore.open(database_url, clock=clock) as store:
        question = _ask(store)
        first = store.create_escalation(NewEscalation(question_id=question.id, route="human"))
        clock.advance(1)
        second = store.create_escalation(NewEscalation(question_id=question.id, route="human"))
        done = store.create_escalation(NewEscalation(question_id=question.id, route="frontier"))
        store.approve_escalation(done.id, reviewer=None, final_answer="frontier says")
    with SqlStore.open(database_url, clock=clock) as restarted:
        assert restarted.pending_escalations() == [first, second]


def test_sla_reminders_are_due_once_per_period(store: SqlStore, clock: FakeClock) -> None:
    question = _ask(store)
    old = store.create_escalation(NewEscalation(question_id=question.id, route="human"))
    clock.advance(timedelta(minutes=30))
    young = store.create_escalation(NewEscalation(question_id=question.id, route="human"))
    decided = store.create_escalation(NewEscalation(question_id=question.id, route="human"))
    store.reject_escalation(decided.id, reviewer="U1")

    assert store.escalations_due_for_reminder(SLA) == []
    assert not store.mark_sla_reminded(old.id, sla=SLA)  # not late yet
    clock.advance(timedelta(minutes=31))  # old: 61 min, young: 31 min
    assert [e.id for e in store.escalations_due_for_reminder(SLA)] == [old.id]
    assert store.mark_sla_reminded(old.id, sla=SLA)
    assert not store.mark_sla_reminded(old.id, sla=SLA)
    assert store.escalations_due_for_reminder(SLA) == []
    reminded = store.get_escalation(old.id)
    assert reminded is not None
    assert reminded.sla_reminded_at == clock.now()

    clock.advance(timedelta(minutes=30))  # young: 61 min; old reminded 30 min ago
    assert [e.id for e in store.escalations_due_for_reminder(SLA)] == [young.id]
    clock.advance(timedelta(minutes=30))  # a full period since old's reminder
    assert [e.id for e in store.escalations_due_for_reminder(SLA)] == [old.id, young.id]
    assert not store.mark_sla_reminded(decided.id, sla=SLA)  # decided: never reminded
    kinds = [e.kind for e in store.audit_events(escalation_id=old.id)]
    assert kinds == ["escalation.created", "escalation.sla_reminded"]


def test_one_worker_sends_each_sla_reminder(store: SqlStore, clock: FakeClock, race: Race) -> None:
    question = _ask(store)
    escalation = store.create_escalation(NewEscalation(question_id=question.id, route="human"))
    clock.advance(SLA * 2)
    results = race(8, lambda _i: store.mark_sla_reminded(escalation.id, sla=SLA))
    assert results.count(True) == 1


def test_frontier_calls_are_counted_from_local_midnight(store: SqlStore, clock: FakeClock) -> None:
    new_york = ZoneInfo("America/New_York")
    question = _ask(store)
    # 2026-03-01 23:30 in New York is 2026-03-02 04:30 UTC
    clock.set(datetime(2026, 3, 1, 23, 30, tzinfo=new_york))
    store.record_model_calls(question.id, [_call("escalator"), _call("escalator")])
    clock.set(datetime(2026, 3, 2, 0, 0, tzinfo=new_york))  # local midnight: a new budget day
    store.record_model_calls(question.id, [_call("escalator"), _call("executor")])
    clock.set(datetime(2026, 3, 2, 8, 0, tzinfo=new_york))
    store.record_model_calls(None, [_call("escalator")])

    assert store.frontier_calls_today(new_york) == 2
    assert store.frontier_calls_today("America/New_York") == 2
    # in UTC the day began at 2026-03-02 00:00 UTC, before all five calls
    assert store.frontier_calls_today("UTC") == 4
    start = datetime(2026, 3, 2, tzinfo=UTC)
    assert store.count_model_calls(tier="executor", start=start) == 1
    end = datetime(2026, 3, 2, 5, 0, tzinfo=new_york)
    assert store.count_model_calls(tier="escalator", start=start, end=end) == 3


def test_digest_windows_are_half_open(store: SqlStore, clock: FakeClock) -> None:
    day = datetime(2026, 3, 2, tzinfo=UTC)
    clock.set(day - timedelta(microseconds=1))
    before = _ask(store, "before")
    clock.set(day)
    first = _ask(store, "first", channel="C-help")
    reasons = [Reason(signal="policy_category", detail="refund_exception")]
    store.record_decision(
        first.id,
        Decision(route="human", category="refund_exception", reasons=reasons),
        stage="pre_model",
    )
    escalation = store.create_escalation(
        NewEscalation(question_id=first.id, route="human", category="refund_exception")
    )
    store.record_feedback(first.id, user="U1", value="down")
    clock.set(day + timedelta(hours=23, minutes=59))
    last = _ask(store, "last", channel=None)
    store.edit_escalation(escalation.id, reviewer="U2", final_answer="edited")
    clock.set(day + timedelta(days=1))
    after = _ask(store, "after")

    end = day + timedelta(days=1)
    in_window = store.questions_between(day, end)
    assert [q.id for q in in_window] == [first.id, last.id]
    assert (in_window[0].route, in_window[0].category, in_window[0].reasons) == (
        "human",
        "refund_exception",
        reasons,
    )
    assert {before.id, after.id}.isdisjoint(q.id for q in in_window)

    created = store.escalations_between(day, end)
    assert [(e.id, e.status) for e in created] == [(escalation.id, "edited")]
    assert created[0].review_time == timedelta(hours=23, minutes=59)
    assert store.escalations_between(day, day + timedelta(hours=1), by="decided") == []
    assert len(store.escalations_between(day, end, by="decided")) == 1

    assert [(f.user, f.value) for f in store.feedback_between(day, end)] == [("U1", "down")]
    assert store.feedback_between(end, end + timedelta(days=1)) == []

    with pytest.raises(ValueError, match="before its start"):
        store.questions_between(end, day)


def test_token_usage_is_summed_per_tier_and_model(store: SqlStore, clock: FakeClock) -> None:
    day = datetime(2026, 3, 2, tzinfo=UTC)
    question = _ask(store)
    clock.set(day + timedelta(hours=1))
    store.record_model_calls(
        question.id,
        [
            _call("executor", tokens=100, model="qwen3:8b"),
            _call("executor", tokens=300, model="qwen3:8b"),
            _call("escalator", tokens=1000, model="claude-sonnet-4-5"),
        ],
    )
    clock.set(day + timedelta(days=1))  # outside the window
    store.record_model_calls(
        question.id, [_call("escalator", tokens=5000, model="claude-sonnet-4-5")]
    )

    assert store.token_usage_between(day, day + timedelta(days=1)) == [
        TokenUsage(
            tier="escalator",
            provider="anthropic",
            model="claude-sonnet-4-5",
            calls=1,
            input_tokens=1000,
            output_tokens=100,
            cache_read_tokens=500,
            cache_write_tokens=1,
        ),
        TokenUsage(
            tier="executor",
            provider="ollama",
            model="qwen3:8b",
            calls=2,
            input_tokens=400,
            output_tokens=40,
            cache_read_tokens=200,
            cache_write_tokens=2,
        ),
    ]
    assert store.token_usage_between(day - timedelta(days=1), day) == []


def test_busiest_channels(store: SqlStore, clock: FakeClock) -> None:
    day = clock.now()
    for channel, n in (("C-quiet", 1), ("C-busy", 3), ("C-mid", 2)):
        for _ in range(n):
            _ask(store, channel=channel)
    _ask(store, channel=None)  # CLI questions have no channel
    end = day + timedelta(seconds=1)
    assert store.busiest_channels(day, end, limit=2) == [
        ChannelCount(channel="C-busy", questions=3),
        ChannelCount(channel="C-mid", questions=2),
    ]
    assert len(store.busiest_channels(day, end)) == 3


def test_questions_in_a_thread(store: SqlStore, clock: FakeClock) -> None:
    first = _ask(store, "first", channel="C1", thread_ts="100.1", message_ts="100.1")
    clock.advance(60)
    follow_up = _ask(store, "follow-up", channel="C1", thread_ts="100.1", message_ts="160.2")
    _ask(store, "other thread", channel="C1", thread_ts="200.1", message_ts="200.1")
    _ask(store, "other channel", channel="C2", thread_ts="100.1", message_ts="100.1")
    assert [q.id for q in store.questions_in_thread("C1", "100.1")] == [first.id, follow_up.id]
