"""The in-process scheduler ``supportbot serve`` runs (APScheduler 3, background thread).

A job is a :class:`JobSpec` — an id, a callable and an APScheduler trigger — so each part of
the product contributes its own jobs (the Slack app: the review-SLA sweep, the recovery
sweep, claim purging; the nightly reindex and the daily digest add theirs) and
:func:`build_scheduler` puts them on one scheduler with the configured time zone. Every job
coalesces missed runs into one, runs one instance at a time, and tolerates a late start
(``MISFIRE_GRACE_SECONDS``). A job's exception is logged by APScheduler and never stops
the scheduler.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger

from supportbot.settings import Settings

MISFIRE_GRACE_SECONDS = 300
JOB_DEFAULTS: dict[str, Any] = {
    "coalesce": True,
    "max_instances": 1,
    "misfire_grace_time": MISFIRE_GRACE_SECONDS,
}


@dataclass(frozen=True)
class JobSpec:
    """One scheduled job."""

    id: str
    func: Callable[[], object]
    trigger: BaseTrigger
    name: str = ""
    options: dict[str, Any] = field(default_factory=dict)  # extra add_job() arguments


def build_scheduler(
    settings: Settings,
    jobs: Iterable[JobSpec],
    *,
    jobstores: dict[str, Any] | None = None,
) -> BackgroundScheduler:
    """A scheduler (not started) with ``jobs``, in ``SUPPORTBOT_TIMEZONE``."""
    scheduler = BackgroundScheduler(
        timezone=settings.timezone,
        job_defaults=dict(JOB_DEFAULTS),
        jobstores=jobstores or {},
    )
    for job in jobs:
        scheduler.add_job(
            job.func,
            trigger=job.trigger,
            id=job.id,
            name=job.name or job.id,
            replace_existing=True,
            **job.options,
        )
    return scheduler
