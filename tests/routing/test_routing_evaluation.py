"""Routing metrics (pure) and the pre-model evaluation over a retriever and a policy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from routing_support import InMemoryRetriever, policy

from supportbot.retrieval.embedders import MiniLMEmbedder
from supportbot.retrieval.evaluation import EvalDataError
from supportbot.routing.evaluation import (
    LabelledQuestion,
    evaluate_pre_model,
    load_labelled_questions,
    routing_metrics,
)
from supportbot.routing.types import Decision, Route


def row(category: str, escalate: bool, text: str = "q") -> LabelledQuestion:
    return LabelledQuestion(text=text, escalate=escalate, category=category)


def decided(route: Route, declined: bool = False) -> Decision:
    return Decision(route=route, declined=declined)


def test_metrics_by_hand() -> None:
    rows = [
        row("security", True),  # escalated: true positive
        row("security", True),  # answered: miss
        row("compliance", True),  # human: true positive
        row("routine", False),  # frontier: false escalation
        row("routine", False),  # answered: fine
        row("routine", False),  # answered: fine
        row("out_of_scope", False),  # declined: fine, not escalated
        row("out_of_scope", False),  # human: false escalation
    ]
    decisions = [
        decided("human"),
        decided("answer"),
        decided("human"),
        decided("frontier"),
        decided("answer"),
        decided("answer"),
        decided("answer", declined=True),
        decided("human"),
    ]
    metrics = routing_metrics(rows, decisions, seconds=2.0)
    assert metrics.n == 8
    assert metrics.recall == pytest.approx(2 / 3, abs=1e-4)
    assert metrics.precision == pytest.approx(2 / 4)
    assert metrics.false_escalation_rate == pytest.approx(2 / 5)
    assert metrics.seconds_per_question == pytest.approx(0.25)
    assert metrics.declined_rate == pytest.approx(1 / 8)
    assert metrics.per_category["security"].recall == pytest.approx(0.5)
    assert metrics.per_category["security"].n == 2
    assert metrics.per_category["compliance"].recall == 1.0
    assert metrics.per_category["routine"].recall == pytest.approx(2 / 3, abs=1e-4)
    assert metrics.per_category["out_of_scope"].recall == pytest.approx(0.5)
    assert metrics.per_category["out_of_scope"].declined == pytest.approx(0.5)
    assert metrics.confusion["out_of_scope"] == {
        "answer": 0,
        "frontier": 0,
        "human": 1,
        "declined": 1,
    }
    assert metrics.confusion["routine"] == {"answer": 2, "frontier": 1, "human": 0, "declined": 0}
    document = json.loads(metrics.model_dump_json())
    for key in ("n", "recall", "precision", "false_escalation_rate", "per_category"):
        assert key in document
    assert set(document["per_category"]["security"]) >= {"n", "recall"}


def test_empty_denominators_are_null() -> None:
    metrics = routing_metrics([row("routine", False)], [decided("answer")], seconds=0.1)
    assert metrics.recall is None
    assert metrics.precision is None
    assert metrics.false_escalation_rate == 0.0


def test_rows_and_decisions_must_align() -> None:
    with pytest.raises(ValueError, match="2 rows but 1 decisions"):
        routing_metrics([row("a", True), row("b", False)], [decided("human")], seconds=0)


def test_load_labelled_questions(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text(
        '{"text": "lost my card", "escalate": true, "category": "security", "intent": "x"}\n'
        "\n"
        '{"text": "balance?", "escalate": false, "category": "routine"}\n',
        encoding="utf-8",
    )
    rows = load_labelled_questions(path)
    assert [(r.category, r.escalate) for r in rows] == [("security", True), ("routine", False)]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("not json\n", ":1: not JSON"),
        ('{"text": "x", "category": "a"}\n', ":1: escalate: Field required"),
        ('{"text": "", "escalate": true, "category": "a"}\n', ":1: text:"),
        ("\n\n", "no labelled questions"),
    ],
)
def test_load_errors_name_the_line(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(EvalDataError) as caught:
        load_labelled_questions(path)
    assert problem in str(caught.value)


def test_evaluate_pre_model_end_to_end(embedder: MiniLMEmbedder) -> None:
    knowledge = {
        "billing/refunds": "# Refunds\nCancel within 30 days of your first payment for a refund.",
        "product/export": "# Export\nExport tasks and projects as CSV or JSON from Settings.",
        "accounts/password": "# Password\nUse the Forgot password link on the sign-in page.",
    }
    retriever = InMemoryRetriever(embedder, knowledge)
    rows = [
        row("refunds", True, "We filed a chargeback with our bank"),
        row("refunds", True, "I was billed twice and I want my money returned"),
        row("routine", False, "How do I export my tasks as CSV?"),
        row("routine", False, "I forgot my password, how do I reset it?"),
        row("out_of_scope", False, "What's the best recipe for banana bread?"),
    ]
    ticks = iter([10.0, 12.5])
    metrics, decisions = evaluate_pre_model(
        rows, retriever=retriever, embedder=embedder, policy=policy(), timer=lambda: next(ticks)
    )
    assert [d.route for d in decisions] == ["human", "human", "answer", "answer", "answer"]
    assert decisions[-1].declined
    assert metrics.recall == 1.0
    assert metrics.false_escalation_rate == 0.0
    assert metrics.seconds_per_question == pytest.approx(0.5)
    assert metrics.per_category["out_of_scope"].declined == 1.0
    assert metrics.stage == "pre_model"
