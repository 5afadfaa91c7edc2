"""Knowledge gaps: weak-retrieval questions grouped by meaning (average linkage)."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime

import numpy as np

from supportbot.jobs.gaps import (
    find_knowledge_gaps,
    group_by_similarity,
    has_weak_retrieval,
    medoid,
    question_text,
)
from supportbot.retrieval.embedders import MiniLMEmbedder
from supportbot.routing.types import Reason
from supportbot.store.records import Question

_AT = datetime(2026, 3, 10, 12, tzinfo=UTC)
_IDS = itertools.count(1)


def question(text: str, *, top: float | None = 0.1, signals: tuple[str, ...] = ()) -> Question:
    return Question(
        id=f"q-{next(_IDS)}",
        source="slack",
        text=text,
        channel="C0SUPPORT",
        user="U0ALICE",
        thread_ts=None,
        message_ts=None,
        event_id=None,
        status="escalated",
        attempts=1,
        received_at=_AT,
        started_at=_AT,
        answered_at=None,
        updated_at=_AT,
        route="human",
        category=None,
        reasons=[Reason(signal=s, detail="") for s in signals],
        top_score=top,
        draft=None,
        answer_text=None,
        answer_ts=None,
        error=None,
    )


def test_paraphrases_group_and_unrelated_questions_stay_apart(embedder: MiniLMEmbedder) -> None:
    password = ["How do I reset my password?", "I forgot my password, how can I log in?"]
    rate_limit = [
        "What's the API rate limit?",
        "How many requests per minute can I make to the API?",
    ]
    invite = ["How do I add a teammate to my workspace?", "invite colleague to workspace"]
    loners = [
        "Can I change the color theme of the dashboard?",
        "What is your office address in Berlin?",
    ]
    asked = [password[0], rate_limit[0], invite[0], loners[0], password[1], rate_limit[1]]
    asked += [loners[1], invite[1]]

    weak, gaps = find_knowledge_gaps(
        [question(t) for t in asked], embedder, min_retrieval_score=0.3, similarity=0.55, limit=10
    )

    assert weak == 8
    found = sorted(sorted([g.representative, *g.examples]) for g in gaps)
    assert found == sorted(
        sorted(g) for g in (password, rate_limit, invite, [loners[0]], [loners[1]])
    )
    assert [g.count for g in gaps] == [2, 2, 2, 1, 1]
    assert sum(len(g.question_ids) for g in gaps) == 8


def test_only_weak_retrieval_questions_and_never_off_topic_ones(embedder: MiniLMEmbedder) -> None:
    strong = question("How do I reset my password?", top=0.8)
    weak_by_score = question("How do I export invoices?", top=0.29)
    weak_by_signal = question("Does the app work offline?", top=0.9, signals=("weak_retrieval",))
    off_topic = question("What's the weather?", top=0.02, signals=("off_topic",))
    not_retrieved = question("Anything at all", top=None)

    assert not has_weak_retrieval(strong, 0.3)
    assert has_weak_retrieval(weak_by_score, 0.3)
    assert has_weak_retrieval(weak_by_signal, 0.3)
    assert not has_weak_retrieval(off_topic, 0.3)
    assert not has_weak_retrieval(not_retrieved, 0.3)
    weak, gaps = find_knowledge_gaps(
        [strong, weak_by_score, weak_by_signal, off_topic, not_retrieved],
        embedder,
        min_retrieval_score=0.3,
        similarity=0.55,
    )
    assert weak == 2
    assert sorted(g.representative for g in gaps) == [
        "Does the app work offline?",
        "How do I export invoices?",
    ]


def test_average_linkage_does_not_chain() -> None:
    # b is like a (0.8) and like c (0.8), but a and c are not alike (cos 2θ = 0.28): average
    # linkage keeps c apart (mean 0.54 < 0.6), single linkage would chain all three
    theta = math.acos(0.8)
    vectors = np.array(
        [
            [1.0, 0.0, 0.0],
            [math.cos(theta), math.sin(theta), 0.0],
            [math.cos(2 * theta), math.sin(2 * theta), 0.0],
        ]
    )
    assert group_by_similarity(vectors, 0.6) == [[0, 1], [2]]
    assert group_by_similarity(vectors, 0.5) == [[0, 1, 2]]
    assert group_by_similarity(vectors, 0.9) == [[0], [1], [2]]
    assert group_by_similarity(np.zeros((0, 3)), 0.5) == []
    assert medoid(vectors, [0, 1, 2]) == 1  # the one in the middle


def test_slack_mentions_are_not_part_of_the_question() -> None:
    assert question_text(question("<@U0BOT>  how do I   reset <!here> it?")) == "how do I reset it?"
