"""The digest's figures equal those worked out by hand from the seeded history.

See ``digest_scenario.py`` for the records; each expected number below is derived there in
a comment. Both store backends (SQLite, PostgreSQL) give the same digest.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from digest_scenario import DAY, NOW, digest_config

from supportbot.clock import FakeClock
from supportbot.jobs.digest import build_digest
from supportbot.jobs.digest_data import Count, Digest, Outcomes, TokenFigures
from supportbot.retrieval.embedders import MiniLMEmbedder
from supportbot.store import SqlStore
from supportbot.store.records import ChannelCount


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def digest(
    request: pytest.FixtureRequest, scenario_data_dir: Path, embedder: MiniLMEmbedder
) -> Digest:
    if request.param == "sqlite":
        url = f"sqlite:///{scenario_data_dir / 'supportbot.db'}"
    else:
        url = request.getfixturevalue("scenario_postgres_url")
    with SqlStore.open(url, clock=FakeClock(NOW)) as store:
        return build_digest(store, embedder, digest_config(Path("unused")), day=DAY, now=NOW)


def test_questions_and_where_they_went(digest: Digest) -> None:
    day = digest.day
    # 13 questions from 09:00 to 23:30 local (03:30 UTC on the 11th); not the 23:59 one of
    # the 9th (03:59 UTC on the 10th) nor the 00:30 one of the 11th
    assert day.date == DAY
    assert day.questions == 13
    assert day.outcomes == Outcomes(
        open_model=3,  # reset, invoices, teammate
        frontier=2,  # iphone, eu
        people=3,  # csv (approved), spreadsheet (edited), refund (approved)
        with_people=3,  # csv_short (rejected), offline (pending), trial (expired)
        declined=1,  # weather
        failed=1,  # api
        unfinished=0,
    )
    assert (day.escalated, day.escalated_to_frontier, day.escalated_to_people) == (8, 2, 6)
    assert day.escalation_rate == 8 / 13
    assert day.declined_rate == 1 / 13


def test_escalations_by_reason_and_category(digest: Digest) -> None:
    assert digest.day.by_reason == [
        Count(name="weak_retrieval", count=4, share=4 / 13),  # csv, spreadsheet, csv_short, offline
        Count(name="policy_category", count=2, share=2 / 13),  # refund, eu
        Count(name="executor_flag", count=1, share=1 / 13),  # trial
        Count(name="keyword", count=1, share=1 / 13),  # refund
        Count(name="low_confidence", count=1, share=1 / 13),  # iphone
    ]
    assert digest.day.by_category == [
        Count(name="(no category)", count=6, share=6 / 13),
        Count(name="compliance", count=1, share=1 / 13),
        Count(name="refund_exception", count=1, share=1 / 13),
    ]


def test_reviews_and_sla(digest: Digest) -> None:
    reviews = digest.day.reviews
    assert (reviews.escalations, reviews.approved, reviews.edited) == (6, 2, 1)
    assert (reviews.rejected, reviews.expired, reviews.pending) == (1, 1, 1)
    # review times 10, 20, 50, 90 min: median 35, p90 by nearest rank = the 4th = 90
    assert reviews.median_minutes == 35.0
    assert reviews.p90_minutes == 90.0
    # over 60 min: csv_short (90), trial (expired after 240), offline (pending for 22 h)
    assert (reviews.sla_minutes, reviews.sla_breaches) == (60, 3)


def test_feedback_tokens_cost_and_channels(digest: Digest) -> None:
    day = digest.day
    assert (day.thumbs_up, day.thumbs_down) == (3, 1)
    cost = day.cost
    assert cost.frontier_tokens == TokenFigures(
        calls=2, input_tokens=5000, output_tokens=900, cache_read_tokens=1000
    )
    assert cost.open_model_tokens == TokenFigures(
        calls=12, input_tokens=12 * 800, output_tokens=12 * 150
    )
    # iphone 2000*3 + 400*15 = 12,000; eu 3000*3 + 500*15 + 1000*0.3 = 16,800 (per million)
    assert cost.frontier_cost_usd == pytest.approx(0.0288, abs=1e-12)
    assert cost.frontier_questions == 2
    assert cost.estimate_basis == "day"
    assert cost.cost_per_frontier_question_usd == pytest.approx(0.0144, abs=1e-12)
    assert cost.all_frontier_cost_usd == pytest.approx(13 * 0.0144, abs=1e-12)
    assert cost.saved_usd == pytest.approx(13 * 0.0144 - 0.0288, abs=1e-12)
    assert day.busiest_channels == [
        ChannelCount(channel="C0SUPPORT", questions=9),
        ChannelCount(channel="C0GENERAL", questions=3),
        ChannelCount(channel="D0ALICE", questions=1),
    ]


def test_trend_over_the_seven_days_before(digest: Digest) -> None:
    previous = {d.date: d for d in digest.previous}
    assert list(previous) == [DAY - timedelta(days=n) for n in range(7, 0, -1)]
    assert {d: f.questions for d, f in previous.items()} == {
        date(2026, 3, 3): 4,
        date(2026, 3, 4): 0,
        date(2026, 3, 5): 2,
        date(2026, 3, 6): 0,
        date(2026, 3, 7): 0,
        date(2026, 3, 8): 2,  # 01:30 EST and 23:30 EDT on the 23-hour day
        date(2026, 3, 9): 1,  # the decline at 23:59 local = 03:59 UTC on the 10th
    }
    march_3, march_5 = previous[date(2026, 3, 3)], previous[date(2026, 3, 5)]
    assert march_3.reviews.median_minutes == 30.0
    assert previous[date(2026, 3, 8)].reviews.median_minutes == 45.0  # across the DST jump
    assert previous[date(2026, 3, 9)].thumbs_down == 1  # the 👎 at 23:59:30 local
    assert previous[date(2026, 3, 4)].escalation_rate is None
    # the 2nd's frontier call (04:30 UTC on the 3rd) is not the 3rd's
    assert march_3.cost.frontier_tokens == TokenFigures()
    # no frontier question on the 3rd: the per-question cost is the 8 days' average of
    # 0.006 (5 Mar), 0.012 (iphone), 0.0168 (eu) = 0.0116
    assert march_3.cost.estimate_basis == "window"
    assert march_3.cost.all_frontier_cost_usd == pytest.approx(4 * 0.0116, abs=1e-12)
    assert march_5.cost.estimate_basis == "day"
    assert march_5.cost.frontier_cost_usd == pytest.approx(0.006, abs=1e-12)
    assert march_5.cost.all_frontier_cost_usd == pytest.approx(2 * 0.006, abs=1e-12)

    base = digest.baseline
    assert base.days == 7
    assert base.questions_per_day == 9 / 7
    assert base.escalation_rate == 3 / 9
    assert (base.frontier_rate, base.people_rate, base.declined_rate) == (1 / 9, 2 / 9, 2 / 9)
    assert base.median_review_minutes == 37.5  # 30 and 45
    assert base.sla_breaches_per_day == 0.0
    assert (base.thumbs_up_per_day, base.thumbs_down_per_day) == (0.0, 1 / 7)
    assert base.frontier_cost_per_day_usd == pytest.approx(0.006 / 7, abs=1e-12)


def test_chart_series_covers_fourteen_local_days(digest: Digest) -> None:
    days = {d.date: d for d in digest.chart_days}
    assert list(days) == [DAY - timedelta(days=n) for n in range(13, -1, -1)]
    busy = {
        d: (c.questions, c.frontier, c.human, c.declined) for d, c in days.items() if c.questions
    }
    assert busy == {
        date(2026, 3, 2): (1, 1, 0, 0),  # 23:30 EST = 04:30 UTC on the 3rd
        date(2026, 3, 3): (4, 0, 1, 0),
        date(2026, 3, 5): (2, 1, 0, 1),
        date(2026, 3, 8): (2, 0, 1, 0),
        date(2026, 3, 9): (1, 0, 0, 1),
        date(2026, 3, 10): (13, 2, 6, 1),
    }


def test_knowledge_gaps_group_the_weak_questions(digest: Digest) -> None:
    # weak: csv, spreadsheet, csv_short, offline (signal) and iphone (top score 0.28 < 0.3);
    # the off-topic weather question is not a gap
    assert digest.weak_retrieval_questions == 5
    groups = [(g.count, {g.representative, *g.examples}) for g in digest.knowledge_gaps]
    assert groups == [
        (
            3,
            {
                "How do I export my invoices as CSV?",
                "Can I download all my invoices in a spreadsheet?",
                "export invoices csv",
            },
        ),
        (
            2,
            {
                "Does the mobile app work offline?",
                "Can I use the iPhone app without an internet connection?",
            },
        ),
    ]
