"""Test jobs and instruments for the scheduler tests.

The job functions are module-level (the database job store keeps references to them) and
record into the context the scheduler hands them, as the product's jobs use ``JobContext``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from apscheduler.events import EVENT_ALL, JobExecutionEvent, JobSubmissionEvent, SchedulerEvent
from sqlalchemy import Engine

from supportbot.clock import FakeClock
from supportbot.jobs.scheduler import JobScheduler, SharedEngineJobStore


@dataclass
class Runs:
    """The context of the test jobs: which job ran, at what (fake) time."""

    clock: FakeClock
    log: list[tuple[str, datetime]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, job: str) -> str:
        with self.lock:
            self.log.append((job, self.clock.now()))
        return job


def record_reindex(runs: Runs) -> str:
    return runs.add("nightly_reindex")


def record_digest(runs: Runs) -> str:
    return runs.add("daily_digest")


RECORDERS: dict[str, Callable[[Runs], str]] = {
    "nightly_reindex": record_reindex,
    "daily_digest": record_digest,
}


class Events:
    """Every event a scheduler dispatches, with waiting for the ones that come from the
    executor's threads (a run's outcome)."""

    def __init__(self, scheduler: JobScheduler) -> None:
        self._changed = threading.Condition()
        self.events: list[SchedulerEvent] = []
        scheduler.add_listener(self._record, EVENT_ALL)

    def _record(self, event: SchedulerEvent) -> None:
        with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    def submissions(self) -> list[JobSubmissionEvent]:
        with self._changed:
            return [e for e in self.events if isinstance(e, JobSubmissionEvent)]

    def outcomes(self) -> list[JobExecutionEvent]:
        with self._changed:
            return [e for e in self.events if isinstance(e, JobExecutionEvent)]

    def wait_outcomes(self, count: int, timeout: float = 10.0) -> list[JobExecutionEvent]:
        """Until ``count`` runs have finished (executed, skipped, missed or failed)."""
        with self._changed:
            ok = self._changed.wait_for(
                lambda: len([e for e in self.events if isinstance(e, JobExecutionEvent)]) >= count,
                timeout,
            )
        assert ok, f"expected {count} finished runs, have {self.outcomes()}"
        return self.outcomes()


class BarrierJobStore(SharedEngineJobStore):  # type: ignore[misc]
    """The real job store, whose ``get_due_jobs`` can be made to wait for the other worker
    (``arm``), so that both read the same due job before either moves its next run time —
    the race APScheduler 3 leaves open between processes."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.barrier: threading.Barrier | None = None
        self.reads = 0
        self._lock = threading.Lock()

    def get_due_jobs(self, now: datetime) -> list[Any]:
        jobs = super().get_due_jobs(now)
        with self._lock:
            self.reads += 1
            barrier = self.barrier
        if barrier is not None and jobs:
            barrier.wait()
        return list(jobs)
