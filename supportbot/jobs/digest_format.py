"""How the digest writes its numbers; shared by the Slack blocks and the terminal output."""

from __future__ import annotations

from datetime import date

from supportbot.jobs.digest_data import CostFigures, DayFigures, Digest

DASH = "—"


def day_label(day: date) -> str:
    """``Tue 10 Mar 2026``."""
    return f"{day:%a} {day.day} {day:%b %Y}"


def short_day(day: date) -> str:
    """``Tue 10 Mar``."""
    return f"{day:%a} {day:%d %b}"


def pct(rate: float | None) -> str:
    return DASH if rate is None else f"{rate * 100:.1f}%"


def number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def minutes(value: float | None) -> str:
    if value is None:
        return DASH
    if value < 10:
        return f"{value:.1f} min"
    if value < 120:
        return f"{value:.0f} min"
    hours, rest = divmod(round(value), 60)
    return f"{hours} h {rest:02d} min"


def usd(value: float | None) -> str:
    if value is None:
        return DASH
    if value == 0:
        return "$0"
    if abs(value) < 1:
        return f"${value:.4f}"
    return f"${value:,.2f}"


def count_change(value: float, average: float) -> str:
    """``▲ 30%``: the change against an average (``new`` when the average is 0)."""
    if average == 0:
        return "=" if value == 0 else "new"
    change = (value - average) / average
    if abs(change) < 0.005:
        return "="
    return f"{'▲' if change > 0 else '▼'} {abs(change) * 100:.0f}%"


def rate_change(rate: float | None, base: float | None) -> str:
    """``▲ 4.2 pts``: the change of a rate in percentage points."""
    if rate is None or base is None:
        return ""
    points = (rate - base) * 100
    if abs(points) < 0.05:
        return "="
    return f"{'▲' if points > 0 else '▼'} {abs(points):.1f} pts"


def count_trend(value: float, average: float) -> str:
    """``▲ 30% vs 7-day avg 18.4``."""
    change = count_change(value, average)
    if change == "new":
        return "none in the 7 days before"
    if change == "=":
        return f"= 7-day avg {number(average)}"
    return f"{change} vs 7-day avg {number(average)}"


def rate_trend(rate: float | None, base: float | None) -> str:
    """``▲ 4.2 pts vs 25.0% in the 7 days before``."""
    change = rate_change(rate, base)
    if not change:
        return f"7 days before: {pct(base)}"
    if change == "=":
        return f"= {pct(base)} in the 7 days before"
    return f"{change} vs {pct(base)} in the 7 days before"


def estimate_basis(cost: CostFigures) -> str:
    """How the all-frontier estimate was made, in a sentence."""
    if cost.estimate_basis == "none":
        return "no question reached the frontier model in the last 8 days, so there is no estimate"
    source = (
        f"the {_questions(cost.frontier_questions)} that reached it that day"
        if cost.estimate_basis == "day"
        else "the last 8 days (no question reached it that day)"
    )
    return (
        f"questions asked × {usd(cost.cost_per_frontier_question_usd)}, the average frontier "
        f"cost of a question, from {source}"
    )


def _questions(n: int) -> str:
    return "1 question" if n == 1 else f"{n} questions"


def cost_summary(day: DayFigures) -> str:
    cost = day.cost
    tokens = cost.frontier_tokens
    parts = [
        f"{tokens.calls} frontier calls, {tokens.input_tokens:,} input / "
        f"{tokens.output_tokens:,} output tokens"
    ]
    if tokens.cache_read_tokens or tokens.cache_write_tokens:
        parts.append(
            f"{tokens.cache_read_tokens:,} cache-read / {tokens.cache_write_tokens:,} cache-write"
        )
    line = "; ".join(parts) + f" → {usd(cost.frontier_cost_usd)}"
    if cost.all_frontier_cost_usd is None:
        return line + "."
    saved = cost.saved_usd or 0.0
    share = (
        f" ({saved / cost.all_frontier_cost_usd * 100:.0f}%)" if cost.all_frontier_cost_usd else ""
    )
    return (
        f"{line}. Everything to the frontier model: ≈ {usd(cost.all_frontier_cost_usd)}, "
        f"so the open model saved ≈ {usd(saved)}{share}."
    )


def trend_rows(digest: Digest) -> list[tuple[str, ...]]:
    """The trend table: the seven days before, then the day itself."""
    rows: list[tuple[str, ...]] = []
    for day in [*digest.previous, digest.day]:
        rows.append(
            (
                short_day(day.date),
                str(day.questions),
                pct(day.escalation_rate),
                str(day.escalated_to_frontier),
                str(day.escalated_to_people),
                str(day.outcomes.declined),
                minutes(day.reviews.median_minutes),
                str(day.reviews.sla_breaches),
                f"{day.thumbs_up}/{day.thumbs_down}",
                usd(day.cost.frontier_cost_usd),
            )
        )
    return rows


TREND_COLUMNS = (
    "day",
    "asked",
    "escalated",
    "frontier",
    "people",
    "declined",
    "review p50",
    "SLA",
    "up/down",
    "frontier $",
)
#: The same columns, short enough for an 80-column terminal.
TREND_COLUMNS_SHORT = (
    "day",
    "asked",
    "esc.",
    "front.",
    "people",
    "decl.",
    "p50",
    "SLA",
    "👍/👎",
    "cost",
)
TREND_LEGEND = (
    "esc. = escalated, front. = to the frontier model, people = to people, decl. = declined "
    "as off-topic, p50 = median time to review, SLA = breaches, cost = frontier spend"
)
