"""The scheduler on an injected clock: local times across DST, coalescing after downtime,
the misfire grace, and one run per scheduled time across two workers on PostgreSQL.

The jobs use the product's triggers (``scheduled_jobs(settings, clock)``) with recording
functions in place of the real work; the scheduler is driven by moving a FakeClock and
calling ``run_due_jobs()`` — what its background thread does when it wakes — so no test
sleeps for real time.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MISSED
from scheduler_support import RECORDERS, BarrierJobStore, Events, Runs

from supportbot.clock import FakeClock
from supportbot.errors import ConfigurationError
from supportbot.jobs.scheduler import JobScheduler, JobSpec, SkippedRun, build_scheduler, run_key
from supportbot.jobs.tasks import scheduled_jobs
from supportbot.settings import Settings
from supportbot.store import SqlStore

SECOND = timedelta(seconds=1)
PARIS = ZoneInfo("Europe/Paris")


def make_settings(timezone: str, **overrides: Any) -> Settings:
    return Settings(_env_file=None, timezone=timezone, **overrides)  # type: ignore[call-arg]


def daily_jobs(settings: Settings, clock: FakeClock) -> list[JobSpec]:
    """The product's reindex and digest jobs (their triggers and options), recording."""
    return [
        dataclasses.replace(spec, func=RECORDERS[spec.id])
        for spec in scheduled_jobs(settings, clock, slack=False)
        if spec.id in RECORDERS
    ]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def shut_down(schedulers: list[JobScheduler]) -> None:
    for scheduler in schedulers:
        if scheduler.running:
            scheduler.shutdown()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SqlStore]:
    with SqlStore.open(f"sqlite:///{tmp_path / 'store.db'}", clock=FakeClock()) as store:
        yield store


Start = Callable[..., tuple[JobScheduler, Events, Runs]]


@pytest.fixture
def start(sqlite_store: SqlStore) -> Iterator[Start]:
    """A worker: the daily jobs on the store's database, runs claimed in the store."""
    schedulers: list[JobScheduler] = []

    def launch(
        settings: Settings, clock: FakeClock, store: SqlStore = sqlite_store
    ) -> tuple[JobScheduler, Events, Runs]:
        runs = Runs(clock)
        scheduler = build_scheduler(
            settings,
            daily_jobs(settings, clock),
            runs,
            clock=clock,
            engine=store.engine,
            claims=store,
        )
        events = Events(scheduler)
        scheduler.start()
        schedulers.append(scheduler)
        return scheduler, events, runs

    yield launch
    shut_down(schedulers)  # before the store closes


def test_daily_jobs_fire_at_local_times_across_the_spring_dst_change(start: Start) -> None:
    clock = FakeClock(utc("2026-03-27 12:00"))
    scheduler, events, runs = start(make_settings("Europe/Paris"), clock)

    # Paris is UTC+1 until 02:00 on Sunday 29 March 2026, then UTC+2; 02:00 does not exist
    # that night, so the nightly run happens at the change (03:00 summer time).
    expected = [
        ("nightly_reindex", utc("2026-03-28 01:00")),  # 02:00 CET
        ("daily_digest", utc("2026-03-28 08:00")),  # 09:00 CET
        ("nightly_reindex", utc("2026-03-29 01:00")),  # 03:00 CEST, the skipped hour
        ("daily_digest", utc("2026-03-29 07:00")),  # 09:00 CEST
        ("nightly_reindex", utc("2026-03-30 00:00")),  # 02:00 CEST
        ("daily_digest", utc("2026-03-30 07:00")),
    ]
    for number, (job, at) in enumerate(expected, start=1):
        clock.set(at - SECOND)
        scheduler.run_due_jobs()
        assert len(events.submissions()) == number - 1, f"{job} ran before {at}"
        clock.set(at)
        scheduler.run_due_jobs()
        events.wait_outcomes(number)
        assert runs.log[-1] == (job, at)
    local = [(job, when.astimezone(PARIS).strftime("%d %H:%M")) for job, when in runs.log]
    assert local == [
        ("nightly_reindex", "28 02:00"),
        ("daily_digest", "28 09:00"),
        ("nightly_reindex", "29 03:00"),
        ("daily_digest", "29 09:00"),
        ("nightly_reindex", "30 02:00"),
        ("daily_digest", "30 09:00"),
    ]


def test_the_hour_repeated_in_autumn_runs_a_nightly_job_once(start: Start) -> None:
    clock = FakeClock(utc("2026-10-24 12:00"))
    scheduler, events, runs = start(make_settings("Europe/Paris"), clock)

    # 02:00 happens twice on Sunday 25 October 2026 in Paris: 00:00 UTC (CEST), 01:00 (CET)
    for at in (utc("2026-10-25 00:00"), utc("2026-10-25 01:00"), utc("2026-10-26 01:00")):
        clock.set(at)
        scheduler.run_due_jobs()
    # (the digest of the 25th, 09:00, is missed by the jump to the 26th: a fourth outcome)
    outcomes = [o for o in events.wait_outcomes(4) if o.job_id == "nightly_reindex"]

    # (times in the repeated hour compare unequal across zones: compare them in UTC)
    assert [o.scheduled_run_time.astimezone(UTC) for o in outcomes] == [
        utc("2026-10-25 00:00"),
        utc("2026-10-25 01:00"),
        utc("2026-10-26 01:00"),
    ]
    assert isinstance(outcomes[1].retval, SkippedRun)  # the same local 02:00: claimed already
    assert runs.log == [
        ("nightly_reindex", utc("2026-10-25 00:00")),
        ("nightly_reindex", utc("2026-10-26 01:00")),
    ]


def test_runs_missed_while_no_worker_was_up_coalesce_into_one(start: Start) -> None:
    settings = make_settings("UTC")
    clock = FakeClock(utc("2026-03-10 12:00"))
    first, _, _ = start(settings, clock)
    assert first.get_job("nightly_reindex").next_run_time == utc("2026-03-11 02:00")
    first.shutdown()

    clock.set(utc("2026-03-14 02:10"))  # four nightly runs and three digests were missed
    second, events, runs = start(settings, clock)  # a new process on the same database
    second.run_due_jobs()

    submitted = {e.job_id: e.scheduled_run_times for e in events.submissions()}
    assert submitted == {  # each job once, for its latest missed time
        "nightly_reindex": [utc("2026-03-14 02:00")],
        "daily_digest": [utc("2026-03-13 09:00")],
    }
    outcomes = {o.job_id: o.code for o in events.wait_outcomes(2)}
    # the reindex is 10 minutes late (within its grace); yesterday's digest 17 hours (not)
    assert outcomes == {"nightly_reindex": EVENT_JOB_EXECUTED, "daily_digest": EVENT_JOB_MISSED}
    assert runs.log == [("nightly_reindex", utc("2026-03-14 02:10"))]
    assert second.get_job("nightly_reindex").next_run_time == utc("2026-03-15 02:00")
    assert second.get_job("daily_digest").next_run_time == utc("2026-03-14 09:00")


def test_a_run_later_than_its_misfire_grace_is_skipped(start: Start) -> None:
    clock = FakeClock(utc("2026-03-10 12:00"))
    scheduler, events, runs = start(make_settings("UTC"), clock)
    grace = timedelta(seconds=scheduler.get_job("nightly_reindex").misfire_grace_time)
    assert grace == timedelta(hours=1)  # the daily jobs' grace

    clock.set(utc("2026-03-11 02:00") + grace + SECOND)
    scheduler.run_due_jobs()
    [missed] = events.wait_outcomes(1)
    assert (missed.code, missed.scheduled_run_time) == (EVENT_JOB_MISSED, utc("2026-03-11 02:00"))
    assert runs.log == []

    clock.set(utc("2026-03-12 02:00") + grace - SECOND)
    scheduler.run_due_jobs()
    # three outcomes: that reindex, and the digest of the 11th, 09:00, missed by the jump
    late = [o for o in events.wait_outcomes(3) if o.job_id == "nightly_reindex"][-1]
    assert (late.code, late.scheduled_run_time) == (EVENT_JOB_EXECUTED, utc("2026-03-12 02:00"))
    assert runs.log == [("nightly_reindex", utc("2026-03-12 02:00") + grace - SECOND)]


@pytest.mark.postgres
@pytest.mark.parametrize("claimed", [True, False], ids=["claimed", "control-without-claims"])
def test_two_workers_on_postgresql_run_each_scheduled_time_once(
    postgres_url: str, claimed: bool
) -> None:
    """Two workers (own engines, own contexts, as two processes) share the job store; both
    read the due run before either updates it, so both submit it. The claim in the store lets
    one of them run it. Without claims (the control) it runs twice."""
    settings = make_settings("UTC")
    clock = FakeClock(utc("2026-03-10 12:00"))
    workers: list[tuple[SqlStore, BarrierJobStore, JobScheduler, Events, Runs]] = []
    try:
        _race_two_workers(postgres_url, settings, clock, workers, claimed=claimed)
    finally:
        shut_down([w[2] for w in workers])
        for store, *_ in workers:
            store.close()


def _race_two_workers(
    postgres_url: str,
    settings: Settings,
    clock: FakeClock,
    workers: list[tuple[SqlStore, BarrierJobStore, JobScheduler, Events, Runs]],
    *,
    claimed: bool,
) -> None:
    for _ in range(2):
        store = SqlStore.open(postgres_url, clock=clock)
        jobstore = BarrierJobStore(store.engine)
        runs = Runs(clock)
        scheduler = build_scheduler(
            settings,
            daily_jobs(settings, clock),
            runs,
            clock=clock,
            jobstore=jobstore,
            claims=store if claimed else None,
        )
        events = Events(scheduler)
        workers.append((store, jobstore, scheduler, events, runs))
        scheduler.start()
    for _, jobstore, *_ in workers:  # each background thread has looked once (nothing due)
        _wait_for(lambda jobstore=jobstore: jobstore.reads >= 1)

    barrier = threading.Barrier(2, timeout=10)
    for _, jobstore, *_ in workers:
        jobstore.barrier = barrier
    clock.set(utc("2026-03-11 02:00:05"))
    threads = [threading.Thread(target=w[2].run_due_jobs) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)

    for _, _, _, events, _ in workers:
        assert [e.scheduled_run_times for e in events.submissions()] == [
            [utc("2026-03-11 02:00")]
        ]  # both workers submitted the same run
        events.wait_outcomes(1)
    ran = [entry for *_, runs in workers for entry in runs.log]
    skipped = [
        o.retval for *_, events, _ in workers for o in events.outcomes() if o.retval is not None
    ]
    trigger = workers[0][2].get_job("nightly_reindex").trigger
    key = run_key("nightly_reindex", trigger, utc("2026-03-11 02:00"))
    if claimed:
        assert ran == [("nightly_reindex", utc("2026-03-11 02:00:05"))]
        assert SkippedRun(job_id="nightly_reindex", key=key) in skipped
        assert key == "job:nightly_reindex:2026-03-11T02:00:00@UTC"
        assert not workers[0][0].claim_event(key, ttl=timedelta(days=1))  # the claim is stored
    else:
        assert len(ran) == 2


def _wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    done = threading.Event()
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        done.wait(0.01)
    raise AssertionError("condition not met in time")


def test_a_job_must_be_an_importable_function() -> None:
    spec = scheduled_jobs(make_settings("UTC"), FakeClock())[0]
    with pytest.raises(ValueError, match="not an importable module-level function"):
        dataclasses.replace(spec, func=lambda context: None)


@pytest.mark.parametrize(
    ("field", "setting"),
    [("reindex_cron", "SUPPORTBOT_REINDEX_CRON"), ("digest_cron", "SUPPORTBOT_DIGEST_CRON")],
)
def test_a_bad_cron_expression_names_its_setting(field: str, setting: str) -> None:
    settings = make_settings("UTC", **{field: "at nine"})
    with pytest.raises(ConfigurationError) as error:
        scheduled_jobs(settings, FakeClock())
    assert error.value.setting == setting


def test_an_unknown_timezone_names_its_setting() -> None:
    with pytest.raises(ConfigurationError) as error:
        scheduled_jobs(make_settings("Europe/Atlantis"), FakeClock())
    assert error.value.setting == "SUPPORTBOT_TIMEZONE"
