"""Eight days (and a bit) of support history in America/New_York, for the digest tests.

The digest day is Tuesday 2026-03-10 (EDT, UTC-4); the clocks went forward on Sunday
2026-03-08 (a 23-hour day). Records sit on purpose at local day edges whose UTC date is
another one: 23:30 local on the 10th is 03:30 UTC on the 11th, and still the 10th's.
The tests state every expected figure by hand from the list below.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from digest_seed import Seeded, StoreSeeder, Tokens, local_time

from supportbot.jobs.digest import DigestConfig
from supportbot.jobs.digest_data import FrontierPrices

REPO_ROOT = Path(__file__).resolve().parents[2]
ZONE = "America/New_York"
DAY = date(2026, 3, 10)
#: When the digest is made: 09:00 local the next morning.
NOW = local_time(ZONE, "2026-03-11 09:00")
SLA_MINUTES = 60
#: Claude Sonnet list prices, as the settings' defaults.
PRICES = FrontierPrices(
    input_per_mtok=3.0, output_per_mtok=15.0, cache_read_per_mtok=0.30, cache_write_per_mtok=3.75
)


def digest_config(chart_dir: Path) -> DigestConfig:
    return DigestConfig(
        timezone=ZONE,
        review_sla_minutes=SLA_MINUTES,
        prices=PRICES,
        min_retrieval_score=0.3,
        gap_similarity=0.55,
        chart_dir=chart_dir,
    )


def at(text: str) -> datetime:
    return local_time(ZONE, text)


@dataclass
class Scenario:
    day: dict[str, Seeded]


def seed_scenario(seed: StoreSeeder) -> Scenario:
    q: dict[str, Seeded] = {}

    # -- outside the windows -----------------------------------------------------------------
    seed.question("Too old for the chart", at=at("2026-02-24 12:00"))
    # in the chart's 14 days (from 2026-02-25), not in the digest's 8 days: 23:30 EST on the
    # 2nd is 04:30 UTC on the 3rd
    seed.question(
        "Can you migrate our data from Asana?",
        at=at("2026-03-02 23:30"),
        route="frontier",
        reasons=["executor_flag"],
        frontier=Tokens(5000, 1000),
    )

    # -- the seven days before ---------------------------------------------------------------
    # Tue 3 Mar: 4 questions, 1 to people (approved after 30 min)
    for hour in ("09:00", "10:00", "11:00"):
        seed.question(f"Routine question at {hour}", at=at(f"2026-03-03 {hour}"))
    prev = seed.question(
        "Where is the audit log?",
        at=at("2026-03-03 12:00"),
        route="human",
        reasons=["weak_retrieval"],
        top_score=0.2,
    )
    seed.review(prev.escalation, "approve", at=at("2026-03-03 12:30"))
    # Thu 5 Mar: 1 answered by the frontier model (1000 in / 200 out = $0.006), 1 declined
    seed.question(
        "Is my data stored in the EU region?",
        at=at("2026-03-05 10:00"),
        route="frontier",
        category="compliance",
        reasons=["policy_category"],
        frontier=Tokens(1000, 200),
        channel="C0GENERAL",
    )
    seed.question(
        "Who won the game last night?",
        at=at("2026-03-05 11:00"),
        outcome="declined",
        reasons=["off_topic"],
        top_score=0.05,
    )
    # Sun 8 Mar (23 hours): 01:30 EST and 23:30 EDT (03:30 UTC on the 9th)
    dst = seed.question(
        "Please let me talk to a person",
        at=at("2026-03-08 01:30"),
        route="human",
        reasons=["user_requested"],
    )
    seed.review(dst.escalation, "approve", at=at("2026-03-08 03:15"))  # 45 min (EST->EDT)
    seed.question("How do I rename a project?", at=at("2026-03-08 23:30"))
    # Mon 9 Mar: a decline at 23:59 local (03:59 UTC on the 10th), and a 👎 at 23:59:30
    late = seed.question(
        "Tell me a joke",
        at=at("2026-03-09 23:59"),
        outcome="declined",
        reasons=["off_topic"],
        top_score=0.04,
    )
    seed.feedback(late.question, "down", at=at("2026-03-09 23:59:30"))

    # -- the digest day: Tue 10 Mar ----------------------------------------------------------
    q["reset"] = seed.question("How do I reset my password?", at=at("2026-03-10 09:00"))
    q["invoices"] = seed.question(
        "Where can I see my invoices?", at=at("2026-03-10 09:30"), top_score=0.77
    )
    q["csv"] = seed.question(
        "How do I export my invoices as CSV?",
        at=at("2026-03-10 10:00"),
        route="human",
        reasons=["weak_retrieval"],
        top_score=0.21,
    )
    seed.review(q["csv"].escalation, "approve", at=at("2026-03-10 10:20"))  # 20 min
    q["spreadsheet"] = seed.question(
        "Can I download all my invoices in a spreadsheet?",
        at=at("2026-03-10 10:15"),
        route="human",
        reasons=["weak_retrieval"],
        top_score=0.24,
        channel="C0GENERAL",
    )
    seed.review(q["spreadsheet"].escalation, "edit", at=at("2026-03-10 11:05"))  # 50 min
    q["csv_short"] = seed.question(
        "export invoices csv",
        at=at("2026-03-10 10:40"),
        route="human",
        reasons=["weak_retrieval"],
        top_score=0.25,
    )
    seed.review(q["csv_short"].escalation, "reject", at=at("2026-03-10 12:10"))  # 90 min
    q["offline"] = seed.question(
        "Does the mobile app work offline?",
        at=at("2026-03-10 11:00"),
        route="human",
        reasons=["weak_retrieval"],
        top_score=0.19,
    )  # still pending at NOW: 22 hours
    q["iphone"] = seed.question(
        "Can I use the iPhone app without an internet connection?",
        at=at("2026-03-10 11:30"),
        route="frontier",
        reasons=["low_confidence"],
        top_score=0.28,  # below min_retrieval_score 0.3 without the weak_retrieval signal
        frontier=Tokens(2000, 400),  # $0.0120
        channel="C0GENERAL",
    )
    q["refund"] = seed.question(
        "I was charged twice, I want my money back",
        at=at("2026-03-10 12:00"),
        route="human",
        category="refund_exception",
        reasons=["policy_category", "keyword"],
        top_score=0.6,
    )
    seed.review(q["refund"].escalation, "approve", at=at("2026-03-10 12:10"))  # 10 min
    q["weather"] = seed.question(
        "What's the weather in Paris?",
        at=at("2026-03-10 13:00"),
        outcome="declined",
        reasons=["off_topic"],
        top_score=0.05,
        channel="C0GENERAL",
    )
    q["eu"] = seed.question(
        "Is my data stored in the EU?",
        at=at("2026-03-10 14:00"),
        route="frontier",
        category="compliance",
        reasons=["policy_category"],
        top_score=0.66,
        frontier=Tokens(3000, 500, cache_read=1000),  # $0.0168
    )
    q["api"] = seed.question(
        "How many API requests per minute can I make?",
        at=at("2026-03-10 15:00"),
        outcome="failed",
        top_score=0.7,
        channel="D0ALICE",
    )
    q["trial"] = seed.question(
        "Can you extend my trial by two weeks?",
        at=at("2026-03-10 16:00"),
        route="human",
        reasons=["executor_flag"],
        top_score=0.55,
    )
    seed.review(q["trial"].escalation, "expire", at=at("2026-03-10 20:00"))  # 240 min
    q["teammate"] = seed.question(
        "How do I add a teammate to my workspace?", at=at("2026-03-10 23:30")
    )
    # A lead trying `supportbot ask` that day: recorded, escalated, but not support traffic.
    seed.question(
        "Testing the bot: can I get a refund after 60 days?",
        at=at("2026-03-10 12:00"),
        route="human",
        category="refund_exception",
        reasons=("keyword",),
        channel=None,
        executor=None,
        source="cli",
    )
    for name, user in (("reset", "U0ALICE"), ("reset", "U0DAVE"), ("invoices", "U0CAROL")):
        seed.feedback(q[name].question, "up", at=at("2026-03-10 17:00"), user=user)
    seed.feedback(q["eu"].question, "down", at=at("2026-03-10 18:00"))

    # -- after the digest day: 00:30 on the 11th ----------------------------------------------
    seed.question("Too new for the digest", at=at("2026-03-11 00:30"))
    return Scenario(day=q)
