"""The daily escalation digest: gather the records, compute the figures, draw, post.

::

    config = DigestConfig.from_settings(settings, min_retrieval_score=policy.thresholds...)
    digest = build_digest(store, embedder, config, day=date(2026, 3, 10), now=clock.now())
    chart = write_chart(digest, config.chart_dir)
    posted = post_digest(digest, chart, poster, settings.digest_channel)

or, for the scheduler, all of it in one call: :func:`run_daily_digest`. The figures are
computed by the pure functions of :mod:`supportbot.jobs.digest_data` (which says what each
figure means); this module only reads the store and wires the parts together.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from supportbot.clock import Clock
from supportbot.jobs.chart import CHART_DAYS, chart_filename, render_chart
from supportbot.jobs.digest_blocks import CHART_TITLE, chart_comment, digest_message
from supportbot.jobs.digest_data import (
    FRONTIER_TIER,
    DayRecords,
    Digest,
    FrontierPrices,
    baseline,
    by_local_day,
    chart_day,
    day_window,
    days_ending,
    is_escalated,
    previous_local_day,
    review_times,
    window_figures,
    zone_of,
)
from supportbot.jobs.gaps import find_knowledge_gaps
from supportbot.jobs.posting import PostedMessage, SlackPoster, posted_message
from supportbot.retrieval.types import Embedder
from supportbot.settings import Settings
from supportbot.store.protocol import AuditLog, ReportQueries
from supportbot.store.records import (
    Escalation,
    ModelCallRecord,
    Question,
)

log = logging.getLogger(__name__)

#: The day itself and the seven days before it.
TREND_DAYS = 8
#: Whose questions the digest counts: the support traffic. Questions asked with
#: ``supportbot ask`` are recorded too (audit trail) but are a lead's tests, not demand;
#: model spend (tokens, cost) counts every call, whoever asked.
COUNTED_SOURCES: frozenset[str] = frozenset({"slack"})
AUDIT_KIND = "job.digest"


class DigestStore(ReportQueries, AuditLog, Protocol):
    """The store reads (and the audit write) the digest needs; ``SqlStore`` has them all."""

    def model_calls(self, question_id: str) -> list[ModelCallRecord]: ...

    def get_question(self, question_id: str) -> Question | None: ...


class DigestConfig(BaseModel):
    """Everything the digest needs besides the store and the embedder."""

    model_config = ConfigDict(extra="forbid")

    timezone: str
    review_sla_minutes: int = Field(gt=0)
    prices: FrontierPrices
    min_retrieval_score: float = Field(ge=0, le=1)
    gap_similarity: float = Field(gt=0, le=1)
    chart_dir: Path
    max_gaps: int = Field(5, gt=0)
    max_channels: int = Field(5, gt=0)

    @classmethod
    def from_settings(cls, settings: Settings, *, min_retrieval_score: float) -> DigestConfig:
        """``min_retrieval_score`` is the policy's (``thresholds.min_retrieval_score``)."""
        zone_of(settings.timezone)  # a wrong timezone is a configuration error, named
        return cls(
            timezone=settings.timezone,
            review_sla_minutes=settings.review_sla_minutes,
            prices=FrontierPrices.from_settings(settings),
            min_retrieval_score=min_retrieval_score,
            gap_similarity=settings.gap_similarity,
            chart_dir=settings.chart_dir(),
        )


def _counted_escalations(
    store: DigestStore, escalations: list[Escalation], asked: list[Question]
) -> list[Escalation]:
    """Escalations of counted questions (an "Ask a human" may come days after its question)."""
    counted = {q.id for q in asked}
    sources: dict[str, bool] = {}
    kept = []
    for escalation in escalations:
        qid = escalation.question_id
        if qid not in counted and qid not in sources:
            question = store.get_question(qid)
            sources[qid] = question is not None and question.source in COUNTED_SOURCES
        if qid in counted or sources.get(qid, False):
            kept.append(escalation)
    return kept


class DigestRun(BaseModel):
    model_config = ConfigDict(extra="forbid")

    digest: Digest
    chart: Path
    posted: PostedMessage | None = None


def build_digest(
    store: DigestStore,
    embedder: Embedder,
    config: DigestConfig,
    *,
    day: date,
    now: datetime,
) -> Digest:
    """The digest of the local ``day``; ``now`` is when it is made (pending reviews are
    measured against it)."""
    zone = zone_of(config.timezone)
    chart_dates = days_ending(day, CHART_DAYS)
    trend_dates = days_ending(day, TREND_DAYS)
    first = min(chart_dates[0], trend_dates[0])
    start, end = day_window(first, zone)[0], day_window(day, zone)[1]
    trend_start = day_window(trend_dates[0], zone)[0]

    asked = [q for q in store.questions_between(start, end) if q.source in COUNTED_SOURCES]
    questions = by_local_day(asked, lambda q: q.received_at, zone)
    escalations = by_local_day(
        _counted_escalations(
            store, store.escalations_between(trend_start, end, by="created"), asked
        ),
        lambda e: e.created_at,
        zone,
    )
    feedback = by_local_day(store.feedback_between(trend_start, end), lambda f: f.at, zone)
    records = [
        DayRecords(
            day=d,
            questions=questions.get(d, []),
            escalations=escalations.get(d, []),
            feedback=feedback.get(d, []),
            token_usage=store.token_usage_between(*day_window(d, zone)),
            frontier_calls=_frontier_calls(store, questions.get(d, [])),
        )
        for d in trend_dates
    ]
    figures = window_figures(
        records,
        now=now,
        sla_minutes=config.review_sla_minutes,
        prices=config.prices,
        max_channels=config.max_channels,
    )
    previous = figures[:-1]
    weak, gaps = find_knowledge_gaps(
        questions.get(day, []),
        embedder,
        min_retrieval_score=config.min_retrieval_score,
        similarity=config.gap_similarity,
        limit=config.max_gaps,
    )
    return Digest(
        date=day,
        timezone=config.timezone,
        generated_at=now,
        day=figures[-1],
        previous=previous,
        baseline=baseline(previous, [m for r in records[:-1] for m in review_times(r.escalations)]),
        weak_retrieval_questions=weak,
        knowledge_gaps=gaps,
        chart_days=[chart_day(d, questions.get(d, [])) for d in chart_dates],
        min_retrieval_score=config.min_retrieval_score,
        gap_similarity=config.gap_similarity,
        prices=config.prices,
    )


def _frontier_calls(
    store: DigestStore, questions: Sequence[Question]
) -> dict[str, list[ModelCallRecord]]:
    """Frontier calls of the escalated questions (only those can have reached the frontier)."""
    calls = {q.id: store.model_calls(q.id) for q in questions if is_escalated(q)}
    return {qid: [c for c in found if c.tier == FRONTIER_TIER] for qid, found in calls.items()}


def default_day(clock: Clock, timezone: str) -> date:
    """Yesterday in ``timezone``: the day a morning digest reports on."""
    return previous_local_day(clock.now(), zone_of(timezone))


def write_chart(digest: Digest, chart_dir: Path) -> Path:
    """The digest's chart as ``chart_dir/escalations-YYYY-MM-DD.png``."""
    return render_chart(
        digest.chart_days,
        chart_dir / chart_filename(digest.date.isoformat()),
        title=f"{CHART_TITLE} (to {digest.date.isoformat()})",
        timezone=digest.timezone,
    )


def post_digest(digest: Digest, chart: Path, poster: SlackPoster, channel: str) -> PostedMessage:
    """Post the digest to ``channel`` and upload the chart into its thread."""
    message = digest_message(digest)
    posted = posted_message(poster.post_message(channel, message.text, message.blocks))
    poster.upload_file(posted.channel, chart, title=chart_comment(digest), thread_ts=posted.ts)
    return posted


def run_daily_digest(
    *,
    store: DigestStore,
    embedder: Embedder,
    config: DigestConfig,
    poster: SlackPoster | None,
    channel: str | None,
    clock: Clock,
    day: date | None = None,
) -> DigestRun:
    """The scheduled job: build the digest of ``day`` (default: yesterday), write the chart,
    post both when a poster and a channel are given, and audit the run (``job.digest``)."""
    now = clock.now()
    day = day or previous_local_day(now, zone_of(config.timezone))
    digest = build_digest(store, embedder, config, day=day, now=now)
    chart = write_chart(digest, config.chart_dir)
    details: dict[str, JsonValue] = {
        "date": day.isoformat(),
        "questions": digest.day.questions,
        "escalated": digest.day.escalated,
        "chart": str(chart),
    }
    posted = None
    if poster is None or not channel:
        log.warning("digest for %s: no digest channel configured; not posted", day)
    else:
        try:
            posted = post_digest(digest, chart, poster, channel)
        except Exception as exc:
            store.record_audit(
                AUDIT_KIND, details={**details, "posted": False, "post_error": str(exc)}
            )
            raise
        log.info("digest for %s posted to %s (ts %s)", day, posted.channel, posted.ts)
    store.record_audit(
        AUDIT_KIND,
        details={
            **details,
            "posted": posted is not None,
            **({"channel": posted.channel, "ts": posted.ts} if posted else {}),
        },
    )
    return DigestRun(digest=digest, chart=chart, posted=posted)
