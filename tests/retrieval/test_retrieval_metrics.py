"""Retrieval metrics are pure functions of rankings and labels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from supportbot.retrieval.evaluation import (
    EvalDataError,
    evaluate_rankings,
    hit_at_k,
    load_labelled_queries,
    percentile,
    recall_at_k,
    reciprocal_rank,
    summarise,
)


def test_recall_hit_and_reciprocal_rank() -> None:
    ranked = ["a", "b", "c", "d"]

    assert recall_at_k(ranked, ["b", "d"], 2) == 0.5
    assert recall_at_k(ranked, ["b", "d"], 4) == 1.0
    assert hit_at_k(ranked, ["d"], 3) == 0.0
    assert hit_at_k(ranked, ["d", "a"], 1) == 1.0
    assert reciprocal_rank(ranked, ["c", "d"]) == pytest.approx(1 / 3)
    assert reciprocal_rank(ranked, ["x"]) == 0.0


def test_percentile_interpolates() -> None:
    assert percentile([], 50) == 0.0
    assert percentile([5.0], 95) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([float(i) for i in range(1, 101)], 95) == pytest.approx(95.05)


def test_summarise_means_over_questions_and_cuts_mrr_at_k() -> None:
    metrics = summarise(
        rankings=[["a", "b", "c"], ["x", "y", "z"]],
        relevants=[["b"], ["z", "q"]],
        k=2,
        latencies_ms=[10.0, 30.0],
    )

    assert (metrics.n, metrics.k) == (2, 2)
    assert metrics.recall_at_k == 0.5  # (1 + 0) / 2
    assert metrics.hit_at_k == 0.5
    assert metrics.mrr == 0.25  # (1/2 + 0) / 2: "z" at rank 3 is beyond k
    assert (metrics.latency_ms.p50, metrics.latency_ms.p95) == (20.0, 29.0)


def test_evaluate_rankings_times_each_call_and_normalises_labels(tmp_path: Path) -> None:
    path = tmp_path / "eval.jsonl"
    path.write_text(
        json.dumps({"query": "q1", "relevant": ["docs/a.md"]})
        + "\n\n"
        + json.dumps({"query": "q2", "relevant": ["./docs/b"], "note": "extra keys are fine"})
        + "\n"
    )
    ticks = iter([0.0, 0.010, 1.0, 1.030])

    metrics = evaluate_rankings(
        lambda query, k: ["docs/a", "docs/b"][:k] if query == "q1" else ["docs/c", "docs/b"],
        load_labelled_queries(path),
        k=2,
        timer=lambda: next(ticks),
    )

    assert metrics.n == 2
    assert metrics.hit_at_k == 1.0
    assert metrics.mrr == 0.75
    assert metrics.latency_ms.p50 == pytest.approx(20.0)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json}\n", ":1: not JSON"),
        ('{"query": "q"}\n', ":1: relevant: Field required"),
        ('{"query": "q", "relevant": []}\n', "relevant"),
        ("\n\n", "no labelled queries"),
    ],
)
def test_bad_eval_files_name_the_line(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "eval.jsonl"
    path.write_text(content)

    with pytest.raises(EvalDataError, match=problem):
        load_labelled_queries(path)
