"""The scheduler ``supportbot serve`` runs: APScheduler 3 on a background thread.

::

    scheduler = build_scheduler(settings, scheduled_jobs(settings, clock), context,
                                clock=clock, engine=store.engine, claims=store)
    scheduler.start()        # registers the jobs in the job store, then runs them
    ...
    scheduler.shutdown()

**Jobs.** A :class:`JobSpec` is a stable id, a module-level function and an APScheduler
trigger. The job store pickles a *reference* to the function (``module:name``), so the
function must be importable; it gets everything it works with from the ``context`` the
scheduler was built with (:class:`~supportbot.jobs.context.JobContext` in the product), which
the scheduler's executor hands to it at run time: the stored job holds only the reference and
a :data:`CONTEXT` placeholder as its argument.
Every job coalesces missed runs into one, runs one instance at a time per process, and is
skipped when it starts later than its misfire grace time (:data:`MISFIRE_GRACE_SECONDS`,
longer for the daily jobs). A job's exception is logged and never stops the scheduler.

**The job store** is the configured database (``SQLAlchemyJobStore`` on the store's engine,
table ``apscheduler_jobs``). Jobs are registered at every start with ``replace_existing``
under their stable ids; a job whose schedule did not change keeps its stored next run time,
so a run that fell due while no worker was up still happens (coalesced, within the grace
time) instead of being pushed to the next day.

**One run per scheduled time across workers.** APScheduler 3 does not coordinate several
processes sharing a job store: two workers can read the same due job before either moves its
next run time, and both would run it. So before a run does any work, the executor takes a
claim in the store — ``store.claim_event(run_key(...))``, an insert-or-ignore on a unique key
that exactly one caller wins, whatever the number of workers. The key is the job id and the
scheduled run time (:func:`run_key`): the UTC instant for interval jobs, the local wall-clock
time for cron jobs — so, like cron, a daily job scheduled inside the hour a DST fall-back
repeats runs once, not twice. A worker that loses the claim logs it and skips the run
(:class:`SkippedRun`).

**The clock.** :class:`JobScheduler` takes the time from an injected
:class:`~supportbot.clock.Clock` (due jobs, coalescing, misfire grace, the wait until the next
job), so tests move a ``FakeClock`` and call :meth:`JobScheduler.run_due_jobs` (or
``wakeup()``) instead of sleeping. In production the clock is the system clock and the
scheduler behaves as APScheduler's own ``BackgroundScheduler``.
"""

from __future__ import annotations

import concurrent.futures
import logging
import sys
import traceback
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from threading import TIMEOUT_MAX
from typing import Any, Protocol

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobExecutionEvent,
    JobSubmissionEvent,
    SchedulerEvent,
)
from apscheduler.executors.base import MaxInstancesReachedError
from apscheduler.executors.pool import BasePoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.base import BaseJobStore
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_PAUSED
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.util import obj_to_ref, ref_to_obj
from sqlalchemy import Engine, func, select

from supportbot.clock import Clock, SystemClock
from supportbot.jobs.digest_data import zone_of
from supportbot.settings import Settings

log = logging.getLogger(__name__)

MISFIRE_GRACE_SECONDS = 300
JOB_DEFAULTS: dict[str, Any] = {
    "coalesce": True,
    "max_instances": 1,
    "misfire_grace_time": MISFIRE_GRACE_SECONDS,
}
#: How long a run's claim is kept: longer than any misfire grace and than the repeated hour
#: of a DST fall-back, so no worker can still start the same run once the claim is purged.
RUN_CLAIM_TTL = timedelta(days=2)
JOB_TABLE = "apscheduler_jobs"
JOB_TABLE_LOCK_KEY = zlib.crc32(b"supportbot.jobs.scheduler.table")
"""PostgreSQL advisory lock key serialising the job table's creation across workers."""
EXECUTOR_THREADS = 4

JobFunction = Callable[[Any], object]
"""A job: a module-level function of the scheduler's context."""


class Placeholder(Enum):
    """Stands in a stored job's arguments for what the executor passes at run time."""

    CONTEXT = "context"


CONTEXT = Placeholder.CONTEXT


class RunClaims(Protocol):
    """The store's insert-or-ignore claims (``SqlStore.claim_event``)."""

    def claim_event(self, event_id: str, *, ttl: timedelta) -> bool: ...


@dataclass(frozen=True)
class JobSpec:
    """One scheduled job. ``func`` must be a module-level function (the job store keeps a
    reference to it) taking the scheduler's context; ``options`` are extra ``add_job()``
    arguments, e.g. ``{"misfire_grace_time": 3600}``."""

    id: str
    func: JobFunction
    trigger: BaseTrigger
    name: str = ""
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        try:
            reference = obj_to_ref(self.func)
            found = ref_to_obj(reference)
        except (TypeError, ValueError, LookupError) as exc:
            raise ValueError(
                f"job {self.id!r}: {self.func!r} is not an importable module-level function, "
                "which the database job store needs (it stores a reference, not the object)"
            ) from exc
        if found is not self.func:
            raise ValueError(f"job {self.id!r}: {reference} does not resolve to {self.func!r}")


@dataclass(frozen=True)
class SkippedRun:
    """What a run returns when another worker already claimed it (or its DST twin ran)."""

    job_id: str
    key: str


def run_key(job_id: str, trigger: BaseTrigger, run_time: datetime) -> str:
    """The claim key of one run: ``job:<id>:<scheduled time>``. Cron jobs are keyed by their
    local wall-clock time (one run per local time, also across a DST fall-back), other jobs
    by the UTC instant."""
    if isinstance(trigger, CronTrigger):
        zone = trigger.timezone
        local = run_time.astimezone(zone).replace(tzinfo=None)
        return f"job:{job_id}:{local.isoformat()}@{zone}"
    return f"job:{job_id}:{run_time.astimezone(UTC).isoformat()}"


def _run_job(
    job: Job,
    run_times: Sequence[datetime],
    *,
    jobstore_alias: str,
    logger_name: str,
    context: object,
    clock: Clock,
    claims: RunClaims | None,
) -> list[JobExecutionEvent]:
    """APScheduler's ``run_job`` with the clock's time for the misfire check, the run claim
    taken before any work, and the context passed to the job function."""
    logger = logging.getLogger(logger_name)
    events: list[JobExecutionEvent] = []
    for run_time in run_times:
        late = clock.now() - run_time
        if job.misfire_grace_time is not None and late > timedelta(seconds=job.misfire_grace_time):
            logger.warning('Run time of job "%s" was missed by %s', job, late)
            events.append(JobExecutionEvent(EVENT_JOB_MISSED, job.id, jobstore_alias, run_time))
            continue
        key = run_key(job.id, job.trigger, run_time)
        if claims is not None and not claims.claim_event(key, ttl=RUN_CLAIM_TTL):
            logger.info('Job "%s" (%s) already ran on another worker; skipped', job, key)
            skipped = SkippedRun(job_id=job.id, key=key)
            events.append(
                JobExecutionEvent(
                    EVENT_JOB_EXECUTED, job.id, jobstore_alias, run_time, retval=skipped
                )
            )
            continue
        logger.info('Running job "%s" (scheduled at %s)', job, run_time)
        try:
            args = [context if arg is CONTEXT else arg for arg in job.args]
            retval = job.func(*args, **job.kwargs)
        except BaseException:
            exc, tb = sys.exc_info()[1:]
            formatted = "".join(traceback.format_tb(tb))
            events.append(
                JobExecutionEvent(
                    EVENT_JOB_ERROR,
                    job.id,
                    jobstore_alias,
                    run_time,
                    exception=exc,
                    traceback=formatted,
                )
            )
            logger.exception('Job "%s" raised an exception', job)
            traceback.clear_frames(tb)
            del tb
        else:
            events.append(
                JobExecutionEvent(EVENT_JOB_EXECUTED, job.id, jobstore_alias, run_time, retval)
            )
            logger.info('Job "%s" executed successfully', job)
    return events


class ContextExecutor(BasePoolExecutor):  # type: ignore[misc]
    """A thread-pool executor that runs each job as ``func(context)``, after the misfire
    check (on the clock) and the run claim."""

    def __init__(
        self,
        context: object,
        *,
        clock: Clock,
        claims: RunClaims | None,
        max_workers: int = EXECUTOR_THREADS,
    ) -> None:
        super().__init__(
            concurrent.futures.ThreadPoolExecutor(max_workers, thread_name_prefix="job")
        )
        self.context = context
        self.clock = clock
        self.claims = claims

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        def done(future: concurrent.futures.Future[list[JobExecutionEvent]]) -> None:
            exc = future.exception()
            if exc is not None:
                self._run_job_error(job.id, exc, exc.__traceback__)
            else:
                self._run_job_success(job.id, future.result())

        future = self._pool.submit(
            _run_job,
            job,
            run_times,
            jobstore_alias=job._jobstore_alias,
            logger_name=self._logger.name,
            context=self.context,
            clock=self.clock,
            claims=self.claims,
        )
        future.add_done_callback(done)


class SharedEngineJobStore(SQLAlchemyJobStore):  # type: ignore[misc]
    """``SQLAlchemyJobStore`` on the store's engine: the table is created under a lock (so
    workers starting together do not race on the DDL), and shutting the scheduler down
    leaves the engine to the store that owns it."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine=engine, tablename=JOB_TABLE)

    def start(self, scheduler: Any, alias: str) -> None:
        with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(select(func.pg_advisory_xact_lock(JOB_TABLE_LOCK_KEY)))
            self.jobs_t.create(connection, checkfirst=True)
        super().start(scheduler, alias)

    def shutdown(self) -> None:
        """The store disposes of its engine, not the scheduler."""


def same_schedule(stored: BaseTrigger, wanted: BaseTrigger) -> bool:
    """Whether two triggers fire on the same schedule (expression and time zone; an interval
    trigger's anchor, which is the moment it was made, does not count)."""
    return type(stored) is type(wanted) and (
        str(stored),
        str(getattr(stored, "timezone", "")),
    ) == (str(wanted), str(getattr(wanted, "timezone", "")))


class JobScheduler(BackgroundScheduler):  # type: ignore[misc]
    """APScheduler's ``BackgroundScheduler`` on an injected clock, registering its jobs at
    start (see the module docstring)."""

    def __init__(self, *, clock: Clock, jobs: Sequence[JobSpec], **options: Any) -> None:
        super().__init__(**options)
        self.clock = clock
        self.specs = list(jobs)
        ids = [spec.id for spec in self.specs]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate job ids: {', '.join(duplicates)}")

    def start(self, paused: bool = False) -> None:
        """Open the job store, register the jobs (keeping the stored next run time of a job
        whose schedule is unchanged), remove jobs no longer defined, then run."""
        super().start(paused=True)
        self._register()
        if not paused:
            self.resume()

    def _register(self) -> None:
        now = self.clock.now()
        wanted = {spec.id for spec in self.specs}
        for stale in self.get_jobs():
            if stale.id not in wanted:
                log.info("removing job %s: no longer scheduled", stale.id)
                self.remove_job(stale.id)
        for spec in self.specs:
            stored = self.get_job(spec.id)
            next_run = spec.trigger.get_next_fire_time(None, now)
            if (
                stored is not None
                and stored.next_run_time is not None
                and same_schedule(stored.trigger, spec.trigger)
            ):
                next_run = stored.next_run_time
            self.add_job(
                spec.func,
                trigger=spec.trigger,
                id=spec.id,
                name=spec.name or spec.id,
                args=(CONTEXT,),
                replace_existing=True,
                next_run_time=next_run,
                **spec.options,
            )

    def run_due_jobs(self) -> float | None:
        """Submit the jobs due at the clock's time now, in the calling thread (what the
        background thread does when it wakes up); returns the seconds until the next due
        job. Tests driving a ``FakeClock`` call it after moving the clock."""
        return self._process_jobs()

    # APScheduler 3.11's BaseScheduler._process_jobs, with the time taken from the clock.
    def _process_jobs(self) -> float | None:
        if self.state == STATE_PAUSED:
            return None
        now = self.clock.now().astimezone(self.timezone)
        next_wakeup_time: datetime | None = None
        events: list[SchedulerEvent] = []
        with self._jobstores_lock:
            for alias, jobstore in self._jobstores.items():
                try:
                    due_jobs = jobstore.get_due_jobs(now)
                except Exception as exc:
                    log.warning("error getting due jobs from job store %r: %s", alias, exc)
                    retry = now + timedelta(seconds=self.jobstore_retry_interval)
                    if next_wakeup_time is None or next_wakeup_time > retry:
                        next_wakeup_time = retry
                    continue
                for job in due_jobs:
                    events.extend(self._submit_due(job, alias, jobstore, now))
                jobstore_next = jobstore.get_next_run_time()
                if jobstore_next and (next_wakeup_time is None or jobstore_next < next_wakeup_time):
                    next_wakeup_time = jobstore_next.astimezone(self.timezone)
        for event in events:
            self._dispatch_event(event)
        if self.state == STATE_PAUSED or next_wakeup_time is None:
            return None
        wait = next_wakeup_time.timestamp() - self.clock.now().timestamp()
        return float(min(max(wait, 0.0), TIMEOUT_MAX))

    def _submit_due(
        self, job: Job, alias: str, jobstore: Any, now: datetime
    ) -> list[SchedulerEvent]:
        try:
            executor = self._lookup_executor(job.executor)
        except BaseException:
            log.error("executor %r not found for job %s; removing the job", job.executor, job)
            self.remove_job(job.id, alias)
            return []
        run_times = job._get_run_times(now)
        run_times = run_times[-1:] if run_times and job.coalesce else run_times
        if not run_times:
            return []
        events: list[SchedulerEvent] = []
        try:
            executor.submit_job(job, run_times)
        except MaxInstancesReachedError:
            log.warning("job %s skipped: its previous run is still going", job)
            events.append(JobSubmissionEvent(EVENT_JOB_MAX_INSTANCES, job.id, alias, run_times))
        except BaseException:
            log.exception("error submitting job %s", job)
        else:
            events.append(JobSubmissionEvent(EVENT_JOB_SUBMITTED, job.id, alias, run_times))
        next_run = job.trigger.get_next_fire_time(run_times[-1], now)
        if next_run:
            job._modify(next_run_time=next_run)
            jobstore.update_job(job)
        else:
            self.remove_job(job.id, alias)
        return events


def build_scheduler(
    settings: Settings,
    jobs: Iterable[JobSpec],
    context: object,
    *,
    clock: Clock | None = None,
    engine: Engine | None = None,
    claims: RunClaims | None = None,
    jobstore: BaseJobStore | None = None,
) -> JobScheduler:
    """A scheduler (not started) for ``jobs`` in ``SUPPORTBOT_TIMEZONE``; with ``engine`` its
    jobs live in that database, with ``claims`` each run is claimed before it starts (both:
    the store, in ``serve``). ``context`` is what every job function is called with.
    ``jobstore`` replaces the job store ``engine`` would give (tests)."""
    clock = clock or SystemClock()
    if jobstore is None:
        jobstore = SharedEngineJobStore(engine) if engine is not None else MemoryJobStore()
    jobstores: dict[str, Any] = {"default": jobstore}
    return JobScheduler(
        clock=clock,
        jobs=list(jobs),
        timezone=zone_of(settings.timezone),
        job_defaults=dict(JOB_DEFAULTS),
        jobstores=jobstores,
        executors={"default": ContextExecutor(context, clock=clock, claims=claims)},
    )
