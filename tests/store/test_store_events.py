"""Slack event de-duplication: a claim succeeds once per event id, even under concurrency."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from supportbot.clock import FakeClock
from supportbot.store import NewQuestion, SqlStore

Race = Callable[[int, Callable[[int], Any]], list[Any]]
TTL = timedelta(hours=1)


def test_an_event_is_claimed_once(store: SqlStore, clock: FakeClock) -> None:
    assert store.claim_event("Ev01", ttl=TTL)
    assert not store.claim_event("Ev01", ttl=TTL)  # Slack's retry
    assert store.claim_event("Ev02", ttl=TTL)  # another event
    clock.advance(TTL - timedelta(seconds=1))
    assert not store.claim_event("Ev01", ttl=TTL)


def test_an_expired_claim_can_be_taken_again_once(store: SqlStore, clock: FakeClock) -> None:
    assert store.claim_event("Ev01", ttl=TTL)
    clock.advance(TTL)
    assert store.claim_event("Ev01", ttl=TTL)
    assert not store.claim_event("Ev01", ttl=TTL)


def test_concurrent_claims_of_one_event_have_one_winner(store: SqlStore, race: Race) -> None:
    for event_id in ("EvA", "EvB", "EvC"):

        def claim(_i: int, event_id: str = event_id) -> bool:
            return store.claim_event(event_id, ttl=TTL)

        results = race(8, claim)
        assert results.count(True) == 1, event_id


def test_concurrent_reclaims_of_an_expired_event_have_one_winner(
    store: SqlStore, clock: FakeClock, race: Race
) -> None:
    assert store.claim_event("EvA", ttl=TTL)
    clock.advance(TTL * 2)
    results = race(8, lambda _i: store.claim_event("EvA", ttl=TTL))
    assert results.count(True) == 1


def test_concurrent_claims_of_different_events_all_win(store: SqlStore, race: Race) -> None:
    results = race(8, lambda i: store.claim_event(f"Ev{i}", ttl=TTL))
    assert results == [True] * 8


def test_purge_removes_only_expired_claims(store: SqlStore, clock: FakeClock) -> None:
    store.claim_event("old-1", ttl=timedelta(minutes=5))
    store.claim_event("old-2", ttl=timedelta(minutes=5))
    store.claim_event("fresh", ttl=timedelta(hours=2))
    clock.advance(timedelta(minutes=10))
    assert store.purge_event_claims() == 2
    assert store.purge_event_claims() == 0
    assert not store.claim_event("fresh", ttl=TTL)  # still claimed
    assert store.claim_event("old-1", ttl=TTL)  # purged, so new again


def test_a_claim_needs_a_positive_ttl(store: SqlStore) -> None:
    with pytest.raises(ValueError, match="positive"):
        store.claim_event("Ev01", ttl=timedelta(0))


def _message(ts: str) -> NewQuestion:
    return NewQuestion(
        source="slack", text="how do I export?", channel="C1", user="U1", message_ts=ts
    )


def test_a_claimed_question_is_recorded_once(store: SqlStore) -> None:
    first = store.claim_and_create_question("msg:C1:1.0", _message("1.0"), ttl=TTL)
    again = store.claim_and_create_question("msg:C1:1.0", _message("1.0"), ttl=TTL)

    assert first is not None
    assert again is None
    assert [q.id for q in store.unfinished_questions()] == [first.id]
    assert not store.claim_event("msg:C1:1.0", ttl=TTL)  # the same claim as claim_event's


def test_concurrent_deliveries_of_one_message_record_one_question(
    store: SqlStore, race: Race
) -> None:
    results = race(
        8, lambda _i: store.claim_and_create_question("msg:C1:2.0", _message("2.0"), ttl=TTL)
    )

    recorded = [r for r in results if r is not None]
    assert len(recorded) == 1
    assert [q.id for q in store.unfinished_questions()] == [recorded[0].id]


class _CrashingStore(SqlStore):
    """Fails after the question row is written, inside the same transaction."""

    def _audit(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("power cut")


def test_a_crash_while_recording_leaves_no_claim_behind(store: SqlStore, clock: FakeClock) -> None:
    crashing = _CrashingStore(store.engine, clock=clock)

    with pytest.raises(RuntimeError, match="power cut"):
        crashing.claim_and_create_question("msg:C1:3.0", _message("3.0"), ttl=TTL)

    assert store.unfinished_questions() == []
    # Slack's retry of the same message is therefore answered, not ignored.
    retried = store.claim_and_create_question("msg:C1:3.0", _message("3.0"), ttl=TTL)
    assert retried is not None
