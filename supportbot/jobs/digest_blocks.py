"""The digest as a Slack message: pure Block Kit builders from a :class:`Digest`.

Within Slack's limits by construction (see :mod:`supportbot.jobs.blocks`): lists are capped,
user text is escaped and cut, long text is split into several sections, and the message
never has more than 50 blocks.
"""

from __future__ import annotations

from collections.abc import Sequence

from supportbot.jobs.blocks import (
    Block,
    JobMessage,
    bullet_list,
    context,
    divider,
    escape,
    fields,
    fit,
    header,
    sections,
    truncate,
)
from supportbot.jobs.digest_data import Count, Digest
from supportbot.jobs.digest_format import (
    TREND_COLUMNS,
    cost_summary,
    count_trend,
    day_label,
    estimate_basis,
    minutes,
    number,
    pct,
    rate_trend,
    trend_rows,
)
from supportbot.store.records import ChannelCount

#: Reasons and categories listed (the rest is counted).
MAX_BREAKDOWN_LINES = 8
#: A signal or category name is cut to this many characters (so eight fit in a field).
MAX_NAME_CHARS = 80
#: A question quoted in the digest is cut to this many characters.
MAX_QUESTION_CHARS = 240

CHART_TITLE = "Daily escalation rate by route, last 14 days"


def digest_message(digest: Digest) -> JobMessage:
    """The digest message (the chart goes into its thread, see :func:`chart_comment`)."""
    day = digest.day
    blocks: list[Block] = [
        header(f"Escalation digest · {day_label(digest.date)}"),
        context(
            f"Questions received 00:00-24:00 {escape(digest.timezone)}, compared with the "
            "7 days before."
        ),
    ]
    if digest.empty:
        blocks.extend(
            sections(
                f"*No questions were asked on {day_label(digest.date)}.* "
                f"(7-day average: {number(digest.baseline.questions_per_day)} a day.)"
            )
        )
    else:
        blocks.extend(_summary(digest))
        blocks.append(divider())
        blocks.extend(
            fields(
                [
                    _breakdown("Why they escalated", day.by_reason, code=True),
                    _breakdown("By category", day.by_category, code=False),
                ]
            )
        )
        blocks.extend(_reviews(digest))
        blocks.extend(sections(f"*Frontier model cost*\n{cost_summary(day)}"))
        blocks.extend(_gaps(digest))
        if day.busiest_channels:
            blocks.extend(sections("*Busiest channels*\n" + _channels(day.busiest_channels)))
    blocks.append(divider())
    blocks.extend(sections(_trend_table(digest)))
    footnotes = [f"The chart ({CHART_TITLE.lower()}) is in the thread."]
    if not digest.empty:
        footnotes.append(f"All-frontier estimate: {estimate_basis(day.cost)}.")
    blocks.append(context(*footnotes))
    return JobMessage(text=_notification(digest), blocks=fit(blocks))


def chart_comment(digest: Digest) -> str:
    return f"{CHART_TITLE} (to {day_label(digest.date)}, {digest.timezone})"


def _notification(digest: Digest) -> str:
    day = digest.day
    if digest.empty:
        return f"Escalation digest for {day_label(digest.date)}: no questions were asked."
    return (
        f"Escalation digest for {day_label(digest.date)}: {day.questions} questions, "
        f"{day.escalated} escalated ({pct(day.escalation_rate)})"
    )


def _summary(digest: Digest) -> list[Block]:
    day, base = digest.day, digest.baseline
    outcomes = day.outcomes
    declined_failed = f"{outcomes.declined} declined as off-topic · {outcomes.failed} failed"
    if outcomes.unfinished:
        declined_failed += f" · {outcomes.unfinished} unfinished"
    return fields(
        [
            f"*Questions*\n{day.questions}  ({count_trend(day.questions, base.questions_per_day)})",
            f"*Escalated*\n{day.escalated} · {pct(day.escalation_rate)}  "
            f"({rate_trend(day.escalation_rate, base.escalation_rate)})",
            f"*Answered by the open model*\n{outcomes.open_model}",
            f"*Answered by the frontier model*\n{outcomes.frontier} "
            f"(escalated to it: {day.escalated_to_frontier})",
            f"*Answered by people*\n{outcomes.people} "
            f"(escalated to people: {day.escalated_to_people}; "
            f"still with them: {outcomes.with_people})",
            f"*Not answered*\n{declined_failed}",
        ]
    )


def _breakdown(title: str, counts: Sequence[Count], *, code: bool) -> str:
    if not counts:
        return f"*{title}*\nnothing escalated"
    lines = bullet_list(
        (f"{_name(c.name, code=code)} {c.count} ({pct(c.share)})" for c in counts),
        limit=MAX_BREAKDOWN_LINES,
    )
    return f"*{title}* (share of all questions)\n" + "\n".join(lines)


def _name(name: str, *, code: bool) -> str:
    cut = escape(truncate(name, MAX_NAME_CHARS))
    return f"`{cut}`" if code else cut


def _reviews(digest: Digest) -> list[Block]:
    reviews = digest.day.reviews
    if reviews.escalations == 0:
        return sections("*Reviews*\nNo question was escalated to people.")
    return fields(
        [
            f"*Reviews* ({reviews.escalations} escalated to people)\n"
            f"{reviews.approved} approved · {reviews.edited} edited · "
            f"{reviews.rejected} rejected · {reviews.expired} expired · "
            f"{reviews.pending} pending",
            f"*Time to review*\nmedian {minutes(reviews.median_minutes)} · "
            f"p90 {minutes(reviews.p90_minutes)} "
            f"(7 days before: median {minutes(digest.baseline.median_review_minutes)})",
            f"*SLA breaches*\n{reviews.sla_breaches} waited more than "
            f"{reviews.sla_minutes} min for a decision",
            f"*Feedback*\n👍 {digest.day.thumbs_up} · 👎 {digest.day.thumbs_down}",
        ]
    )


def _gaps(digest: Digest) -> list[Block]:
    if not digest.weak_retrieval_questions:
        return []
    lines = [
        f"*Top knowledge gaps* ({digest.weak_retrieval_questions} questions with weak "
        "retrieval, grouped by meaning)"
    ]
    for rank, gap in enumerate(digest.knowledge_gaps, start=1):
        asked = "asked once" if gap.count == 1 else f"asked {gap.count}×"
        lines.append(
            f"{rank}. “{escape(truncate(gap.representative, MAX_QUESTION_CHARS))}” — {asked}"
        )
    return sections("\n".join(lines))


def _channels(channels: Sequence[ChannelCount]) -> str:
    return " · ".join(f"{_channel_ref(c.channel)} {c.questions}" for c in channels)


def _channel_ref(channel: str) -> str:
    if channel[:1] in ("C", "G"):
        return f"<#{escape(channel)}>"
    if channel[:1] == "D":
        return "direct messages"
    return escape(channel)


def _trend_table(digest: Digest) -> str:
    rows = [TREND_COLUMNS, *trend_rows(digest)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(TREND_COLUMNS))]
    lines = [
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    return "*The last 8 days*\n```\n" + "\n".join(lines) + "\n```"
