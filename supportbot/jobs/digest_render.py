"""The digest for the terminal (``supportbot digest``): rich renderables from a :class:`Digest`.

Rich prints colour on a terminal and plain text when piped, so this is also the plain-text
form of the digest.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from supportbot.jobs.digest_data import Count, Digest
from supportbot.jobs.digest_format import (
    TREND_COLUMNS_SHORT,
    TREND_LEGEND,
    cost_summary,
    count_change,
    day_label,
    estimate_basis,
    minutes,
    number,
    pct,
    rate_change,
    short_day,
    trend_rows,
)


def render_digest(digest: Digest) -> RenderableType:
    day = digest.day
    parts: list[RenderableType] = [
        Text(f"Escalation digest · {day_label(digest.date)}", style="bold"),
        Text(
            f"Questions received 00:00-24:00 {digest.timezone}, compared with the 7 days before.",
            style="dim",
        ),
        Text(""),
    ]
    if digest.empty:
        parts.append(
            Text(
                f"No questions were asked on {day_label(digest.date)}. "
                f"(7-day average: {number(digest.baseline.questions_per_day)} a day.)",
                style="bold",
            )
        )
    else:
        parts.extend(_summary(digest))
        parts.append(_breakdowns(day.by_reason, day.by_category))
        parts.extend(_reviews(digest))
        parts.append(Text(f"Frontier model cost: {cost_summary(day)}"))
        parts.append(Text(f"  All-frontier estimate: {estimate_basis(day.cost)}.", style="dim"))
        parts.extend(_gaps(digest))
        if day.busiest_channels:
            parts.append(
                Text(
                    "Busiest channels: "
                    + ", ".join(f"{c.channel} {c.questions}" for c in day.busiest_channels)
                )
            )
    parts.append(Text(""))
    parts.append(_trend(digest))
    return Group(*parts)


def _summary(digest: Digest) -> list[RenderableType]:
    day, base = digest.day, digest.baseline
    o = day.outcomes
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("")
    table.add_column(short_day(day.date), justify="right")
    table.add_column("7 days before", justify="right", style="dim")
    table.add_column("change", justify="right")

    def rate_row(label: str, count: int, rate: float | None, before: float | None) -> None:
        table.add_row(label, f"{count} ({pct(rate)})", pct(before), rate_change(rate, before))

    table.add_row(
        "Questions",
        str(day.questions),
        f"{number(base.questions_per_day)} a day",
        count_change(day.questions, base.questions_per_day),
    )
    rate_row("Escalated", day.escalated, day.escalation_rate, base.escalation_rate)
    rate_row(
        "  to the frontier model",
        day.escalated_to_frontier,
        _share(day.escalated_to_frontier, day.questions),
        base.frontier_rate,
    )
    rate_row(
        "  to people",
        day.escalated_to_people,
        _share(day.escalated_to_people, day.questions),
        base.people_rate,
    )
    rate_row("Declined (off-topic)", o.declined, day.declined_rate, base.declined_rate)
    table.add_row("Answered by the open model", str(o.open_model), "", "")
    table.add_row("Answered by the frontier model", str(o.frontier), "", "")
    table.add_row("Answered by people", str(o.people), "", "")
    table.add_row("  still with people", str(o.with_people), "", "")
    table.add_row("Failed", str(o.failed), "", "")
    if o.unfinished:
        table.add_row("Unfinished", str(o.unfinished), "", "")
    table.add_row(
        "👍 / 👎",
        f"{day.thumbs_up} / {day.thumbs_down}",
        f"{number(base.thumbs_up_per_day)} / {number(base.thumbs_down_per_day)} a day",
        "",
    )
    return [table]


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _breakdowns(reasons: Sequence[Count], categories: Sequence[Count]) -> RenderableType:
    table = Table(title="Escalations (share of all questions)", title_justify="left")
    table.add_column("reason (signal)")
    table.add_column("n", justify="right")
    table.add_column("share", justify="right")
    table.add_column("category")
    table.add_column("n", justify="right")
    table.add_column("share", justify="right")
    for i in range(max(len(reasons), len(categories), 1)):
        left = _cells(reasons, i) if reasons else ("nothing escalated", "", "")
        right = _cells(categories, i)
        table.add_row(*left, *right)
    return table


def _cells(counts: Sequence[Count], i: int) -> tuple[str, str, str]:
    if i >= len(counts):
        return ("", "", "")
    c = counts[i]
    return (c.name, str(c.count), pct(c.share))


def _reviews(digest: Digest) -> list[RenderableType]:
    r = digest.day.reviews
    if r.escalations == 0:
        return [Text("Reviews: no question was escalated to people.")]
    return [
        Text(
            f"Reviews ({r.escalations} escalated to people): {r.approved} approved, "
            f"{r.edited} edited, {r.rejected} rejected, {r.expired} expired, {r.pending} pending"
        ),
        Text(
            f"  time to review: median {minutes(r.median_minutes)}, p90 {minutes(r.p90_minutes)} "
            f"(7 days before: median {minutes(digest.baseline.median_review_minutes)})"
        ),
        Text(
            f"  SLA breaches: {r.sla_breaches} waited more than {r.sla_minutes} min for a decision"
        ),
    ]


def _gaps(digest: Digest) -> list[RenderableType]:
    if not digest.weak_retrieval_questions:
        return [Text("Knowledge gaps: no question had weak retrieval.")]
    title = Text(
        f"Top knowledge gaps ({digest.weak_retrieval_questions} questions with weak "
        "retrieval, grouped by meaning)",
        style="italic",
    )
    table = Table()
    table.add_column("#", justify="right")
    table.add_column("asked", justify="right")
    table.add_column("representative question", overflow="fold")
    for rank, gap in enumerate(digest.knowledge_gaps, start=1):
        table.add_row(str(rank), str(gap.count), gap.representative)
    return [title, table]


def _trend(digest: Digest) -> RenderableType:
    table = Table(
        title="The last 8 days",
        title_justify="left",
        caption=TREND_LEGEND,
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        padding=(0, 1, 0, 0),
    )
    for i, column in enumerate(TREND_COLUMNS_SHORT):
        table.add_column(column, justify="left" if i == 0 else "right", no_wrap=True)
    rows = trend_rows(digest)
    for i, row in enumerate(rows):
        table.add_row(*row, style="bold" if i == len(rows) - 1 else None)
    return table
