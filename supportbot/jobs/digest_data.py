"""The daily digest's figures: pure computation from store records.

A *day* is a local calendar day, ``[00:00, 24:00)`` in the configured timezone (23 or 25
hours when the clocks change); a record belongs to the day its timestamp falls on locally,
so a question at 23:30 local counts for that day whatever the date in UTC.

What each figure means:

questions
    Questions received that day.
outcomes
    Where each of them stands (a partition of the questions): answered by the open model
    (route ``answer``), by the frontier model (route ``frontier``), by people (route
    ``human``, a reviewer approved or edited the answer); *with people* (escalated, no answer
    sent yet: pending, rejected or expired review); declined as off-topic; failed; unfinished.
escalated, escalation rate
    Questions whose route is ``frontier`` or ``human`` (DESIGN.md's definition), over the
    questions asked.
by reason, by category
    Escalated questions carrying each router signal (one question counts under every signal
    of its decision), and by policy category; each share is of all questions asked.
reviews
    Escalations to people created that day, as they stand when the digest is made: approved,
    edited, rejected, expired, still pending. Time to review is ``decided_at - created_at`` of
    the approved, edited and rejected ones: the median, and the 90th percentile by the
    nearest-rank method (the smallest time at or above 90 % of them - always a real review).
SLA breaches
    Escalations to people that waited longer than ``review_sla_minutes`` for a decision:
    decided (or expired) after more than the SLA, or still pending for more than the SLA.
👍 / 👎
    Votes cast that day.
frontier tokens and cost
    Frontier-tier (escalator) calls made that day, priced per million input, output,
    cache-read and cache-write tokens (settings ``SUPPORTBOT_FRONTIER_PRICE_*``). The open
    model runs locally and is not priced.
all-frontier estimate
    What sending *every* question to the frontier model would have cost: the questions asked
    times the average frontier cost of a question that reached the frontier model that day
    (the frontier sees the same kind of input for every question: the question, the
    retrieved passages and a draft). With no such question that day, the average over the
    digest's eight days is used; with none at all, there is no estimate.
busiest channels
    Channels by questions asked.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, ConfigDict

from supportbot.errors import ConfigurationError
from supportbot.jobs.gaps import KnowledgeGap
from supportbot.llm.types import ModelCall, ModelTier
from supportbot.settings import Settings
from supportbot.store.records import ChannelCount, Escalation, Feedback, Question, TokenUsage

ESCALATED_ROUTES = ("frontier", "human")
NO_CATEGORY = "(no category)"
FRONTIER_TIER: ModelTier = "escalator"
EXECUTOR_TIER: ModelTier = "executor"
TOKENS_PER_PRICE_UNIT = 1_000_000
REVIEW_PERCENTILE = 90

T = TypeVar("T")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- configuration ------------------------------------------------------------------------------
class FrontierPrices(_Model):
    """USD per million tokens of the frontier model."""

    input_per_mtok: float
    output_per_mtok: float
    cache_read_per_mtok: float
    cache_write_per_mtok: float

    @classmethod
    def from_settings(cls, settings: Settings) -> FrontierPrices:
        return cls(
            input_per_mtok=settings.frontier_price_input_per_mtok,
            output_per_mtok=settings.frontier_price_output_per_mtok,
            cache_read_per_mtok=settings.frontier_price_cache_read_per_mtok,
            cache_write_per_mtok=settings.frontier_price_cache_write_per_mtok,
        )

    def cost(
        self,
        *,
        input_tokens: int,
        output_tokens: int,
        cache_read_tokens: int = 0,
        cache_write_tokens: int = 0,
    ) -> float:
        """USD for these tokens."""
        return (
            input_tokens * self.input_per_mtok
            + output_tokens * self.output_per_mtok
            + cache_read_tokens * self.cache_read_per_mtok
            + cache_write_tokens * self.cache_write_per_mtok
        ) / TOKENS_PER_PRICE_UNIT


def zone_of(name: str) -> ZoneInfo:
    """The IANA timezone ``name`` (``SUPPORTBOT_TIMEZONE``)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError(
            "SUPPORTBOT_TIMEZONE", f"unknown timezone {name!r}; use an IANA name such as UTC"
        ) from None


def day_window(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The local day ``[00:00, next 00:00)`` as aware UTC datetimes."""
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def local_date(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def previous_local_day(now: datetime, zone: ZoneInfo) -> date:
    """Yesterday, in ``zone`` (the digest's default day)."""
    return local_date(now, zone) - timedelta(days=1)


def days_ending(day: date, count: int) -> list[date]:
    """``count`` consecutive days ending with ``day``, oldest first."""
    return [day - timedelta(days=offset) for offset in range(count - 1, -1, -1)]


# -- inputs -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DayRecords:
    """The store records of one local day that the figures are computed from."""

    day: date
    questions: Sequence[Question] = ()
    escalations: Sequence[Escalation] = ()  # created that day
    feedback: Sequence[Feedback] = ()  # cast that day
    token_usage: Sequence[TokenUsage] = ()  # calls made that day
    frontier_calls: Mapping[str, Sequence[ModelCall]] = field(default_factory=dict)
    """Frontier-tier calls of the day's questions, by question id (for the estimate)."""


# -- figures ------------------------------------------------------------------------------------
class Outcomes(_Model):
    """Where each question of the day stands; the counts add up to the questions asked."""

    open_model: int = 0
    frontier: int = 0
    people: int = 0
    with_people: int = 0
    declined: int = 0
    failed: int = 0
    unfinished: int = 0


class Count(_Model):
    name: str
    count: int
    share: float  # of the questions asked that day


class ReviewFigures(_Model):
    escalations: int
    approved: int
    edited: int
    rejected: int
    expired: int
    pending: int
    median_minutes: float | None
    p90_minutes: float | None
    sla_minutes: int
    sla_breaches: int


class TokenFigures(_Model):
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0


EstimateBasis = Literal["day", "window", "none"]


class CostFigures(_Model):
    frontier_tokens: TokenFigures
    open_model_tokens: TokenFigures
    frontier_cost_usd: float
    frontier_questions: int
    """Questions of the day that reached the frontier model."""
    cost_per_frontier_question_usd: float | None
    estimate_basis: EstimateBasis
    """Where the per-question cost comes from: that day, the digest's eight days, or nowhere."""
    all_frontier_cost_usd: float | None
    saved_usd: float | None


class DayFigures(_Model):
    date: date
    questions: int
    outcomes: Outcomes
    escalated: int
    escalated_to_frontier: int
    escalated_to_people: int
    escalation_rate: float | None
    declined_rate: float | None
    by_reason: list[Count]
    by_category: list[Count]
    reviews: ReviewFigures
    thumbs_up: int
    thumbs_down: int
    cost: CostFigures
    busiest_channels: list[ChannelCount]


class Baseline(_Model):
    """The days before the digest's day, as per-day averages (rates pooled over the days)."""

    days: int
    questions_per_day: float
    escalation_rate: float | None
    frontier_rate: float | None
    people_rate: float | None
    declined_rate: float | None
    median_review_minutes: float | None
    """Median over the days' reviews pooled together."""
    sla_breaches_per_day: float
    thumbs_up_per_day: float
    thumbs_down_per_day: float
    frontier_cost_per_day_usd: float


class ChartDay(_Model):
    """One day of the chart: questions and how many went each way."""

    date: date
    questions: int
    frontier: int
    human: int
    declined: int

    def rate(self, count: int) -> float | None:
        return count / self.questions if self.questions else None


class Digest(_Model):
    """The daily escalation digest: one day's figures, the trend and the knowledge gaps."""

    date: date
    timezone: str
    generated_at: AwareDatetime
    day: DayFigures
    previous: list[DayFigures]
    """The seven days before ``date``, oldest first."""
    baseline: Baseline
    """``previous`` summarised, to compare the day with."""
    weak_retrieval_questions: int
    knowledge_gaps: list[KnowledgeGap]
    chart_days: list[ChartDay]
    """The 14 days ending with ``date``, oldest first."""
    min_retrieval_score: float
    gap_similarity: float
    prices: FrontierPrices

    @property
    def empty(self) -> bool:
        return self.day.questions == 0


# -- computation (pure) -------------------------------------------------------------------------
def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def nearest_rank(values: Iterable[float], percent: int) -> float | None:
    """The ``percent``-th percentile by the nearest-rank method (an observed value)."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, -(-percent * len(ordered) // 100))  # ceil without float error
    return ordered[rank - 1]


def is_escalated(question: Question) -> bool:
    return question.route in ESCALATED_ROUTES


def outcome_of(question: Question) -> str:
    """The :class:`Outcomes` field ``question`` counts under."""
    status = question.status
    if status == "answered":
        return {"frontier": "frontier", "human": "people"}.get(question.route or "", "open_model")
    if status == "escalated":
        return "with_people"
    if status in ("declined", "failed"):
        return status
    return "unfinished"


def outcomes(questions: Iterable[Question]) -> Outcomes:
    counts = Counter(outcome_of(q) for q in questions)
    return Outcomes(**counts)


def _ranked(counter: Counter[str], questions: int) -> list[Count]:
    ranked = sorted(counter.items(), key=lambda item: (-item[1], item[0]))
    return [Count(name=name, count=n, share=n / questions) for name, n in ranked]


def escalations_by_reason(questions: Sequence[Question]) -> list[Count]:
    counter: Counter[str] = Counter()
    for question in questions:
        if is_escalated(question):
            counter.update({reason.signal for reason in question.reasons})
    return _ranked(counter, len(questions))


def escalations_by_category(questions: Sequence[Question]) -> list[Count]:
    counter = Counter(q.category or NO_CATEGORY for q in questions if is_escalated(q))
    return _ranked(counter, len(questions))


def _minutes(delta: timedelta) -> float:
    return delta.total_seconds() / 60


def review_times(escalations: Iterable[Escalation]) -> list[float]:
    """Minutes from escalation to a reviewer's decision (approved, edited, rejected)."""
    return [
        _minutes(e.review_time)
        for e in escalations
        if e.route == "human"
        and e.status in ("approved", "edited", "rejected")
        and e.review_time is not None
    ]


def review_figures(
    escalations: Sequence[Escalation], *, now: datetime, sla_minutes: int
) -> ReviewFigures:
    to_people = [e for e in escalations if e.route == "human"]
    statuses = Counter(e.status for e in to_people)
    times = review_times(to_people)
    sla = timedelta(minutes=sla_minutes)
    breaches = sum(1 for e in to_people if (e.decided_at or now) - e.created_at > sla)
    return ReviewFigures(
        escalations=len(to_people),
        approved=statuses["approved"],
        edited=statuses["edited"],
        rejected=statuses["rejected"],
        expired=statuses["expired"],
        pending=statuses["pending"],
        median_minutes=statistics.median(times) if times else None,
        p90_minutes=nearest_rank(times, REVIEW_PERCENTILE),
        sla_minutes=sla_minutes,
        sla_breaches=breaches,
    )


def token_figures(usage: Iterable[TokenUsage], tier: str) -> TokenFigures:
    totals = TokenFigures()
    for row in usage:
        if row.tier != tier:
            continue
        totals = TokenFigures(
            calls=totals.calls + row.calls,
            input_tokens=totals.input_tokens + row.input_tokens,
            output_tokens=totals.output_tokens + row.output_tokens,
            cache_read_tokens=totals.cache_read_tokens + row.cache_read_tokens,
            cache_write_tokens=totals.cache_write_tokens + row.cache_write_tokens,
        )
    return totals


def frontier_question_costs(
    frontier_calls: Mapping[str, Sequence[ModelCall]], prices: FrontierPrices
) -> list[float]:
    """The frontier cost of each question that reached the frontier model."""
    return [
        sum(
            prices.cost(
                input_tokens=c.input_tokens,
                output_tokens=c.output_tokens,
                cache_read_tokens=c.cache_read_tokens,
                cache_write_tokens=c.cache_write_tokens,
            )
            for c in calls
            if c.tier == FRONTIER_TIER
        )
        for calls in frontier_calls.values()
        if any(c.tier == FRONTIER_TIER for c in calls)
    ]


def cost_figures(
    records: DayRecords, prices: FrontierPrices, *, window_cost_per_question: float | None
) -> CostFigures:
    frontier = token_figures(records.token_usage, FRONTIER_TIER)
    spent = prices.cost(
        input_tokens=frontier.input_tokens,
        output_tokens=frontier.output_tokens,
        cache_read_tokens=frontier.cache_read_tokens,
        cache_write_tokens=frontier.cache_write_tokens,
    )
    costs = frontier_question_costs(records.frontier_calls, prices)
    basis: EstimateBasis
    if costs:
        per_question: float | None = sum(costs) / len(costs)
        basis = "day"
    elif window_cost_per_question is not None:
        per_question, basis = window_cost_per_question, "window"
    else:
        per_question, basis = None, "none"
    everything = None if per_question is None else per_question * len(records.questions)
    return CostFigures(
        frontier_tokens=frontier,
        open_model_tokens=token_figures(records.token_usage, EXECUTOR_TIER),
        frontier_cost_usd=spent,
        frontier_questions=len(costs),
        cost_per_frontier_question_usd=per_question,
        estimate_basis=basis,
        all_frontier_cost_usd=everything,
        saved_usd=None if everything is None else everything - spent,
    )


def busiest_channels(questions: Iterable[Question], limit: int) -> list[ChannelCount]:
    counter = Counter(q.channel for q in questions if q.channel)
    ranked = sorted(counter.items(), key=lambda item: (-item[1], item[0]))
    return [ChannelCount(channel=name, questions=n) for name, n in ranked[:limit]]


def day_figures(
    records: DayRecords,
    *,
    now: datetime,
    sla_minutes: int,
    prices: FrontierPrices,
    window_cost_per_question: float | None = None,
    max_channels: int = 5,
) -> DayFigures:
    """Every figure of one day (see the module docstring for what each one means)."""
    questions = list(records.questions)
    asked = len(questions)
    routes = Counter(q.route for q in questions if is_escalated(q))
    escalated = routes["frontier"] + routes["human"]
    declined = sum(1 for q in questions if q.status == "declined")
    votes = Counter(f.value for f in records.feedback)
    return DayFigures(
        date=records.day,
        questions=asked,
        outcomes=outcomes(questions),
        escalated=escalated,
        escalated_to_frontier=routes["frontier"],
        escalated_to_people=routes["human"],
        escalation_rate=ratio(escalated, asked),
        declined_rate=ratio(declined, asked),
        by_reason=escalations_by_reason(questions),
        by_category=escalations_by_category(questions),
        reviews=review_figures(records.escalations, now=now, sla_minutes=sla_minutes),
        thumbs_up=votes["up"],
        thumbs_down=votes["down"],
        cost=cost_figures(records, prices, window_cost_per_question=window_cost_per_question),
        busiest_channels=busiest_channels(questions, max_channels),
    )


def window_figures(
    days: Sequence[DayRecords],
    *,
    now: datetime,
    sla_minutes: int,
    prices: FrontierPrices,
    max_channels: int = 5,
) -> list[DayFigures]:
    """The figures of several days; a day whose questions never reached the frontier model
    estimates the all-frontier cost from the average over all of ``days``."""
    pooled = [c for d in days for c in frontier_question_costs(d.frontier_calls, prices)]
    window_cost = sum(pooled) / len(pooled) if pooled else None
    return [
        day_figures(
            d,
            now=now,
            sla_minutes=sla_minutes,
            prices=prices,
            window_cost_per_question=window_cost,
            max_channels=max_channels,
        )
        for d in days
    ]


def baseline(days: Sequence[DayFigures], review_minutes: Sequence[float]) -> Baseline:
    """Per-day averages over ``days`` (rates pooled); ``review_minutes`` are their reviews."""
    n = len(days)
    asked = sum(d.questions for d in days)

    def per_day(total: float) -> float:
        return total / n if n else 0.0

    return Baseline(
        days=n,
        questions_per_day=per_day(asked),
        escalation_rate=ratio(sum(d.escalated for d in days), asked),
        frontier_rate=ratio(sum(d.escalated_to_frontier for d in days), asked),
        people_rate=ratio(sum(d.escalated_to_people for d in days), asked),
        declined_rate=ratio(sum(d.outcomes.declined for d in days), asked),
        median_review_minutes=statistics.median(review_minutes) if review_minutes else None,
        sla_breaches_per_day=per_day(sum(d.reviews.sla_breaches for d in days)),
        thumbs_up_per_day=per_day(sum(d.thumbs_up for d in days)),
        thumbs_down_per_day=per_day(sum(d.thumbs_down for d in days)),
        frontier_cost_per_day_usd=per_day(sum(d.cost.frontier_cost_usd for d in days)),
    )


def chart_day(day: date, questions: Iterable[Question]) -> ChartDay:
    listed = list(questions)
    return ChartDay(
        date=day,
        questions=len(listed),
        frontier=sum(1 for q in listed if q.route == "frontier"),
        human=sum(1 for q in listed if q.route == "human"),
        declined=sum(1 for q in listed if q.status == "declined"),
    )


def by_local_day(
    items: Iterable[T], moment: Callable[[T], datetime], zone: ZoneInfo
) -> dict[date, list[T]]:
    """``items`` grouped by the local date of ``moment(item)``, keeping their order."""
    grouped: dict[date, list[T]] = {}
    for item in items:
        grouped.setdefault(local_date(moment(item), zone), []).append(item)
    return grouped
