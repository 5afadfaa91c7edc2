"""Retrieval quality metrics: pure functions over ranked document ids.

A question's ``relevant`` set holds doc ids (paths relative to the knowledge dir, without
``.md``). For one question with ranking ``r`` (best first) cut at ``k``:

* recall@k - the share of its relevant documents found in ``r[:k]``;
* hit@k - 1 if any relevant document is in ``r[:k]``, else 0;
* reciprocal rank - 1 / (position of the first relevant document in ``r``), 0 if none.

The reported numbers are means over questions (MRR is the mean reciprocal rank, over the
same ``k`` documents the other metrics see).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from supportbot.errors import SupportBotError


class LabelledQuery(BaseModel):
    model_config = ConfigDict(extra="allow")

    query: str = Field(min_length=1)
    relevant: list[str] = Field(min_length=1)


class EvalDataError(SupportBotError):
    def __init__(self, path: Path, line: int, problem: str) -> None:
        super().__init__(f"{path}:{line}: {problem}")
        self.path = path
        self.line = line


class LatencySummary(BaseModel):
    model_config = ConfigDict(extra="forbid")

    p50: float
    p95: float


class RetrievalMetrics(BaseModel):
    """The ``eval retrieval --json`` document."""

    model_config = ConfigDict(extra="forbid")

    n: int
    k: int
    recall_at_k: float
    hit_at_k: float
    mrr: float
    latency_ms: LatencySummary


def load_labelled_queries(path: Path) -> list[LabelledQuery]:
    """Lines ``{"query", "relevant": [doc ids]}``; blank lines are skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalDataError(path, 0, f"cannot read: {exc}") from None
    out: list[LabelledQuery] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            out.append(LabelledQuery.model_validate(json.loads(line)))
        except json.JSONDecodeError as exc:
            raise EvalDataError(path, number, f"not JSON: {exc.msg}") from None
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'line'}: {e['msg']}" for e in exc.errors()
            )
            raise EvalDataError(path, number, problems) from None
    if not out:
        raise EvalDataError(path, 0, "no labelled queries")
    return out


def normalise_doc_id(value: str) -> str:
    """Accept ``billing/refunds.md`` and ``./billing/refunds`` for ``billing/refunds``."""
    value = value.strip().removeprefix("./")
    return value[:-3] if value.endswith(".md") else value


def recall_at_k(ranked: Sequence[str], relevant: Iterable[str], k: int) -> float:
    wanted = set(relevant)
    if not wanted:
        return 0.0
    return len(wanted.intersection(ranked[:k])) / len(wanted)


def hit_at_k(ranked: Sequence[str], relevant: Iterable[str], k: int) -> float:
    wanted = set(relevant)
    return 1.0 if any(doc in wanted for doc in ranked[:k]) else 0.0


def reciprocal_rank(ranked: Sequence[str], relevant: Iterable[str]) -> float:
    wanted = set(relevant)
    for position, doc in enumerate(ranked, start=1):
        if doc in wanted:
            return 1.0 / position
    return 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarise(
    rankings: Sequence[Sequence[str]],
    relevants: Sequence[Sequence[str]],
    k: int,
    latencies_ms: Sequence[float],
) -> RetrievalMetrics:
    """Mean recall@k, hit@k and MRR over questions, with latency percentiles."""
    if len(rankings) != len(relevants):
        raise ValueError("one ranking per labelled question")
    n = len(rankings)

    def mean(values: Iterable[float]) -> float:
        return round(sum(values) / n, 4) if n else 0.0

    return RetrievalMetrics(
        n=n,
        k=k,
        recall_at_k=mean(
            recall_at_k(r, rel, k) for r, rel in zip(rankings, relevants, strict=True)
        ),
        hit_at_k=mean(hit_at_k(r, rel, k) for r, rel in zip(rankings, relevants, strict=True)),
        mrr=mean(reciprocal_rank(r[:k], rel) for r, rel in zip(rankings, relevants, strict=True)),
        latency_ms=LatencySummary(
            p50=round(percentile(latencies_ms, 50), 2), p95=round(percentile(latencies_ms, 95), 2)
        ),
    )


def evaluate_rankings(
    rank: Callable[[str, int], Sequence[str]],
    queries: Sequence[LabelledQuery],
    k: int,
    timer: Callable[[], float] = time.perf_counter,
) -> RetrievalMetrics:
    """Run ``rank(query, k) -> doc ids`` over ``queries`` and summarise, timing each call."""
    rankings: list[Sequence[str]] = []
    latencies: list[float] = []
    for item in queries:
        started = timer()
        rankings.append(list(rank(item.query, k)))
        latencies.append((timer() - started) * 1000.0)
    relevants = [[normalise_doc_id(d) for d in item.relevant] for item in queries]
    return summarise(rankings, relevants, k, latencies)
