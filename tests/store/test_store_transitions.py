"""Compare-and-set state changes: each applies once, sequentially and under real concurrency."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from supportbot.clock import FakeClock
from supportbot.store import NewEscalation, NewQuestion, Question, QuestionStatus, SqlStore

Race = Callable[[int, Callable[[int], Any]], list[Any]]
WORKERS = 8


def _question(store: SqlStore) -> Question:
    return store.create_question(NewQuestion(source="slack", text="Can I get a refund?"))


def _status(store: SqlStore, question_id: str) -> str:
    question = store.get_question(question_id)
    assert question is not None
    return question.status


def test_question_lifecycle(store: SqlStore, clock: FakeClock) -> None:
    question = _question(store)
    clock.advance(1)
    assert store.transition_question(question.id, expected="received", to="in_progress")
    started = store.get_question(question.id)
    assert started is not None
    assert (started.status, started.attempts, started.started_at) == (
        "in_progress",
        1,
        clock.now(),
    )
    clock.advance(3)
    assert store.transition_question(
        question.id,
        expected="in_progress",
        to="answered",
        answer_text="Yes, within 30 days.",
        answer_ts="1700000001.000200",
    )
    answered = store.get_question(question.id)
    assert answered is not None
    assert answered.status == "answered"
    assert answered.answered_at == clock.now()
    assert (answered.answer_text, answered.answer_ts) == (
        "Yes, within 30 days.",
        "1700000001.000200",
    )
    store.record_answer_message(question.id, "1700000001.000999")
    assert store.get_question(question.id).answer_ts == "1700000001.000999"  # type: ignore[union-attr]
    kinds = [e.kind for e in store.audit_events(question_id=question.id)]
    assert kinds == ["question.received", "question.in_progress", "question.answered"]


def test_a_repeated_transition_applies_once(store: SqlStore) -> None:
    question = _question(store)
    assert store.transition_question(question.id, expected="received", to="in_progress")
    assert not store.transition_question(question.id, expected="received", to="in_progress")
    assert store.transition_question(
        question.id, expected="in_progress", to="failed", error="ollama: timeout"
    )
    assert not store.transition_question(
        question.id, expected="in_progress", to="answered", answer_text="late"
    )
    failed = store.get_question(question.id)
    assert failed is not None
    assert (failed.status, failed.error, failed.answer_text, failed.attempts) == (
        "failed",
        "ollama: timeout",
        None,
        1,
    )
    assert not store.transition_question("0" * 32, expected="received", to="in_progress")


def test_illegal_transitions_are_refused_before_touching_the_database(store: SqlStore) -> None:
    question = _question(store)
    with pytest.raises(ValueError, match="cannot go from received to answered"):
        store.transition_question(question.id, expected="received", to="answered")
    with pytest.raises(ValueError, match="expected_attempts"):
        store.transition_question(question.id, expected="in_progress", to="in_progress")
    assert _status(store, question.id) == "received"


def test_concurrent_starts_let_exactly_one_worker_in(store: SqlStore, race: Race) -> None:
    for question in [_question(store) for _ in range(3)]:

        def start(_i: int, question_id: str = question.id) -> bool:
            return store.transition_question(question_id, expected="received", to="in_progress")

        results = race(WORKERS, start)
        assert sorted(results) == [False] * (WORKERS - 1) + [True]
        reloaded = store.get_question(question.id)
        assert reloaded is not None
        assert (reloaded.status, reloaded.attempts) == ("in_progress", 1)
        audit = [e.kind for e in store.audit_events(question_id=question.id)]
        assert audit.count("question.in_progress") == 1


def test_concurrent_final_transitions_keep_the_winner(store: SqlStore, race: Race) -> None:
    question = _question(store)
    store.transition_question(question.id, expected="received", to="in_progress")
    outcomes: list[QuestionStatus] = ["answered", "escalated", "declined", "failed"] * 2

    def finish(i: int) -> bool:
        return store.transition_question(
            question.id, expected="in_progress", to=outcomes[i], error=f"worker {i}"
        )

    results = race(len(outcomes), finish)
    assert results.count(True) == 1
    winner = results.index(True)
    final = store.get_question(question.id)
    assert final is not None
    assert (final.status, final.error) == (outcomes[winner], f"worker {winner}")


def test_crash_recovery_reclaim_has_one_winner(
    store: SqlStore, clock: FakeClock, race: Race
) -> None:
    question = _question(store)
    store.transition_question(question.id, expected="received", to="in_progress")
    clock.advance(timedelta(minutes=10))
    stale = store.unfinished_questions(idle_for=timedelta(minutes=5))
    assert [q.id for q in stale] == [question.id]

    results = race(
        WORKERS,
        lambda _i: store.transition_question(
            question.id, expected="in_progress", to="in_progress", expected_attempts=1
        ),
    )
    assert results.count(True) == 1
    reclaimed = store.get_question(question.id)
    assert reclaimed is not None
    assert (reclaimed.attempts, reclaimed.started_at) == (2, clock.now())
    # the reclaimed question is fresh again: not stale for another 5 minutes
    assert store.unfinished_questions(idle_for=timedelta(minutes=5)) == []


def test_double_clicked_approve_applies_once(store: SqlStore, race: Race) -> None:
    question = _question(store)
    escalation = store.create_escalation(
        NewEscalation(question_id=question.id, route="human", proposed_answer="Refunded.")
    )
    results = race(
        WORKERS,
        lambda i: store.approve_escalation(escalation.id, reviewer=f"U{i}"),
    )
    assert results.count(True) == 1
    decided = store.get_escalation(escalation.id)
    assert decided is not None
    assert decided.status == "approved"
    assert decided.reviewer == f"U{results.index(True)}"
    audit = [e.kind for e in store.audit_events(escalation_id=escalation.id)]
    assert audit == ["escalation.created", "escalation.approved"]


def test_competing_review_decisions_have_one_winner(store: SqlStore, race: Race) -> None:
    question = _question(store)
    escalation = store.create_escalation(
        NewEscalation(question_id=question.id, route="human", proposed_answer="Draft.")
    )
    actions: list[Callable[[], bool]] = [
        lambda: store.approve_escalation(escalation.id, reviewer="U1"),
        lambda: store.edit_escalation(escalation.id, reviewer="U2", final_answer="Edited."),
        lambda: store.reject_escalation(escalation.id, reviewer="U3", reason="wrong policy"),
        lambda: store.expire_escalation(escalation.id),
    ]
    results = race(len(actions), lambda i: actions[i]())
    assert results.count(True) == 1
    expected = [
        ("approved", "U1", "Draft.", None),
        ("edited", "U2", "Edited.", None),
        ("rejected", "U3", None, "wrong policy"),
        ("expired", None, None, None),
    ][results.index(True)]
    decided = store.get_escalation(escalation.id)
    assert decided is not None
    assert (decided.status, decided.reviewer, decided.final_answer, decided.reject_reason) == (
        expected
    )
    # later clicks change nothing
    assert not store.approve_escalation(escalation.id, reviewer="U9")
    assert store.get_escalation(escalation.id) == decided


def test_ask_a_human_escalates_once(store: SqlStore, race: Race) -> None:
    question = _question(store)
    store.transition_question(question.id, expected="received", to="in_progress")
    store.transition_question(question.id, expected="in_progress", to="answered", answer_text="A")
    new = NewEscalation(question_id=question.id, route="human", reasons=[])
    results = race(
        WORKERS, lambda i: store.escalate_question(new, expected="answered", actor=f"U{i}")
    )
    created = [r for r in results if r is not None]
    assert len(created) == 1
    assert store.escalations_for_question(question.id) == created
    assert _status(store, question.id) == "escalated"


def test_escalate_question_creates_nothing_when_the_state_moved_on(store: SqlStore) -> None:
    question = _question(store)
    new = NewEscalation(question_id=question.id, route="human")
    assert store.escalate_question(new, expected="in_progress") is None
    assert store.escalations_for_question(question.id) == []
    assert _status(store, question.id) == "received"
