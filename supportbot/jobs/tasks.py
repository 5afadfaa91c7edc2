"""The scheduled jobs of the product, as importable functions of a :class:`JobContext`.

- ``nightly_reindex`` — the incremental index of ``knowledge/``; posts what changed or
  failed to the digest channel. ``SUPPORTBOT_REINDEX_CRON`` (default ``0 2 * * *``).
- ``daily_digest`` — yesterday's escalation digest and its chart, posted to
  ``SUPPORTBOT_DIGEST_CHANNEL``. ``SUPPORTBOT_DIGEST_CRON`` (default ``0 9 * * *``).
- ``review_sla`` — reminders for reviews waiting past the SLA; every minute.
- ``slack_recovery`` — finishes what a crashed worker left; every 5 minutes.
- ``purge_event_claims`` — forgets expired Slack event and job-run claims; hourly.

Cron expressions are read in ``SUPPORTBOT_TIMEZONE``. The daily jobs tolerate a late start
of up to :data:`DAILY_MISFIRE_GRACE_SECONDS` (a deploy at 09:00 should not cost the day's
digest); the frequent ones the scheduler's default.
"""

from __future__ import annotations

from datetime import timedelta

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from supportbot.clock import Clock
from supportbot.errors import ConfigurationError
from supportbot.jobs.context import JobContext
from supportbot.jobs.digest import DigestConfig, DigestRun, run_daily_digest
from supportbot.jobs.digest_data import zone_of
from supportbot.jobs.reindex import ReindexOutcome, run_reindex
from supportbot.jobs.scheduler import JobSpec
from supportbot.jobs.sla import SlaSweepReport, run_sla_sweep
from supportbot.settings import Settings
from supportbot.slack.recovery import RecoveryReport

REINDEX_JOB = "nightly_reindex"
DIGEST_JOB = "daily_digest"
SLA_JOB = "review_sla"
RECOVERY_JOB = "slack_recovery"
PURGE_JOB = "purge_event_claims"

DAILY_MISFIRE_GRACE_SECONDS = 3_600
SLA_SWEEP_SECONDS = 60
RECOVERY_SWEEP_SECONDS = 300
PURGE_SECONDS = 3_600


# -- the jobs ---------------------------------------------------------------------------------
def nightly_reindex(context: JobContext) -> ReindexOutcome:
    """Bring the index in line with the knowledge dir; report changes and failures."""
    return run_reindex(
        context.services.index,
        context.settings.knowledge_dir,
        audit=context.store,
        poster=context.poster,
        channel=context.settings.digest_channel,
    )


def daily_digest(context: JobContext) -> DigestRun:
    """Yesterday's digest (in ``SUPPORTBOT_TIMEZONE``), posted with its chart."""
    thresholds = context.services.policies.current().policy.thresholds
    config = DigestConfig.from_settings(
        context.settings, min_retrieval_score=thresholds.min_retrieval_score
    )
    return run_daily_digest(
        store=context.store,
        embedder=context.services.embedder,
        config=config,
        poster=context.poster,
        channel=context.settings.digest_channel,
        clock=context.clock,
    )


def review_sla(context: JobContext) -> SlaSweepReport:
    bot = context.require_slack(SLA_JOB)
    return run_sla_sweep(context.store, bot.gateway, context.clock, context.settings)


def slack_recovery(context: JobContext) -> RecoveryReport:
    return context.require_slack(RECOVERY_JOB).periodic_recovery()


def purge_event_claims(context: JobContext) -> int:
    return context.store.purge_event_claims()


# -- their schedule ---------------------------------------------------------------------------
def cron_trigger(expression: str, *, setting: str, timezone: str) -> CronTrigger:
    """A crontab expression (``minute hour day month weekday``) in ``timezone``; a bad one
    is a ConfigurationError naming ``setting``."""
    try:
        return CronTrigger.from_crontab(expression, timezone=zone_of(timezone))
    except ValueError as exc:
        raise ConfigurationError(
            setting, f"{expression!r} is not a crontab expression like '0 2 * * *' ({exc})"
        ) from None


def _every(seconds: int, clock: Clock) -> IntervalTrigger:
    # anchored on the clock (an IntervalTrigger would take the wall clock's now)
    return IntervalTrigger(seconds=seconds, start_date=clock.now() + timedelta(seconds=seconds))


def scheduled_jobs(settings: Settings, clock: Clock, *, slack: bool = True) -> list[JobSpec]:
    """The product's jobs; ``slack=False`` leaves out the two that need the Slack app."""
    daily = {"misfire_grace_time": DAILY_MISFIRE_GRACE_SECONDS}
    jobs = [
        JobSpec(
            id=REINDEX_JOB,
            func=nightly_reindex,
            trigger=cron_trigger(
                settings.reindex_cron, setting="SUPPORTBOT_REINDEX_CRON", timezone=settings.timezone
            ),
            name="nightly incremental reindex",
            options=daily,
        ),
        JobSpec(
            id=DIGEST_JOB,
            func=daily_digest,
            trigger=cron_trigger(
                settings.digest_cron, setting="SUPPORTBOT_DIGEST_CRON", timezone=settings.timezone
            ),
            name="daily escalation digest",
            options=daily,
        ),
        JobSpec(
            id=PURGE_JOB,
            func=purge_event_claims,
            trigger=_every(PURGE_SECONDS, clock),
            name="forget expired claims",
        ),
    ]
    if slack:
        jobs += [
            JobSpec(
                id=SLA_JOB,
                func=review_sla,
                trigger=_every(SLA_SWEEP_SECONDS, clock),
                name="review SLA reminders",
            ),
            JobSpec(
                id=RECOVERY_JOB,
                func=slack_recovery,
                trigger=_every(RECOVERY_SWEEP_SECONDS, clock),
                name="finish what crashed workers left",
            ),
        ]
    return jobs
