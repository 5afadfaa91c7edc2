"""Routing quality: metrics for ``supportbot eval routing`` and the pre-model evaluation.

Labelled rows are ``{"text", "escalate": bool, "category"}`` (more keys are ignored). A row
counts as *escalated* when its route is ``frontier`` or ``human``; a declined (off-topic)
row is not escalated. Over all rows:

* ``recall`` - escalated rows among those labelled ``escalate: true``;
* ``precision`` - rows labelled ``escalate: true`` among the escalated ones;
* ``false_escalation_rate`` - escalated rows among those labelled ``escalate: false``;
* ``per_category[NAME]`` - keyed by the data's ``category``: ``n`` and ``recall``, the
  share of the category's rows routed *as their label says* (escalated when
  ``escalate: true``, not escalated when false), plus ``declined``, the share declined;
* ``confusion[CATEGORY][ROUTE]`` - row counts by label category and route, where declined
  rows count under ``declined`` and not under ``answer``;
* ``seconds_per_question`` - wall time of the evaluated stages divided by ``n``.

A rate whose denominator is empty is ``null``.
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from supportbot.retrieval.evaluation import EvalDataError
from supportbot.retrieval.types import Embedder, RetrievalResult, Retriever
from supportbot.routing.categories import CategoryMatcher
from supportbot.routing.policy import Policy
from supportbot.routing.router import Channel, before_model
from supportbot.routing.types import ROUTES, Decision

CONFUSION_COLUMNS: tuple[str, ...] = (*ROUTES, "declined")


class LabelledQuestion(BaseModel):
    model_config = ConfigDict(extra="allow")

    text: str = Field(min_length=1)
    escalate: bool
    category: str = Field(min_length=1)


class CategoryMetrics(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n: int
    recall: float  # share routed as the label says (see the module docstring)
    declined: float  # share declined as off-topic


class RoutingMetrics(BaseModel):
    """The ``eval routing --json`` document."""

    model_config = ConfigDict(extra="forbid")

    n: int
    recall: float | None
    precision: float | None
    false_escalation_rate: float | None
    per_category: dict[str, CategoryMetrics]
    confusion: dict[str, dict[str, int]]
    declined_rate: float  # share of all rows declined as off-topic
    seconds_per_question: float
    stage: str = "pre_model"  # which routing was evaluated: "pre_model" or "pipeline"


def load_labelled_questions(path: Path) -> list[LabelledQuestion]:
    """JSON lines ``{"text", "escalate", "category"}``; blank lines are skipped."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalDataError(Path(path), 0, f"cannot read: {exc}") from None
    rows: list[LabelledQuestion] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rows.append(LabelledQuestion.model_validate(json.loads(line)))
        except json.JSONDecodeError as exc:
            raise EvalDataError(Path(path), number, f"not JSON: {exc.msg}") from None
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'line'}: {e['msg']}" for e in exc.errors()
            )
            raise EvalDataError(Path(path), number, problems) from None
    if not rows:
        raise EvalDataError(Path(path), 0, "no labelled questions")
    return rows


def _rate(numerator: int, denominator: int) -> float | None:
    return None if denominator == 0 else round(numerator / denominator, 4)


def routing_metrics(
    rows: Sequence[LabelledQuestion],
    decisions: Sequence[Decision],
    *,
    seconds: float,
    stage: str = "pre_model",
) -> RoutingMetrics:
    """Score ``decisions`` (one per row, same order) against the labels."""
    if len(rows) != len(decisions):
        raise ValueError(f"{len(rows)} rows but {len(decisions)} decisions")
    positives = sum(r.escalate for r in rows)
    escalated = sum(d.escalated for d in decisions)
    true_positives = sum(r.escalate and d.escalated for r, d in zip(rows, decisions, strict=True))
    false_positives = escalated - true_positives
    negatives = len(rows) - positives

    by_category: dict[str, list[tuple[LabelledQuestion, Decision]]] = defaultdict(list)
    for row, decision in zip(rows, decisions, strict=True):
        by_category[row.category].append((row, decision))
    per_category: dict[str, CategoryMetrics] = {}
    confusion: dict[str, dict[str, int]] = {}
    for name in sorted(by_category):
        pairs = by_category[name]
        correct = sum(d.escalated == r.escalate for r, d in pairs)
        declined = sum(d.declined for _, d in pairs)
        per_category[name] = CategoryMetrics(
            n=len(pairs),
            recall=round(correct / len(pairs), 4),
            declined=round(declined / len(pairs), 4),
        )
        counts = Counter("declined" if d.declined else d.route for _, d in pairs)
        confusion[name] = {column: counts.get(column, 0) for column in CONFUSION_COLUMNS}

    n = len(rows)
    return RoutingMetrics(
        n=n,
        recall=_rate(true_positives, positives),
        precision=_rate(true_positives, escalated),
        false_escalation_rate=_rate(false_positives, negatives),
        per_category=per_category,
        confusion=confusion,
        declined_rate=round(sum(d.declined for d in decisions) / n, 4) if n else 0.0,
        seconds_per_question=round(seconds / n, 6) if n else 0.0,
        stage=stage,
    )


def route_pre_model(
    questions: Sequence[str],
    *,
    retriever: Retriever,
    matcher: CategoryMatcher,
    k: int = 5,
    channel: Channel | None = None,
) -> tuple[list[RetrievalResult], list[Decision]]:
    """Stage 1 of the router (no model calls) for many questions."""
    results = [retriever.retrieve(q, k) for q in questions]
    matches = matcher.match_many(questions, results)
    decisions = [
        before_model(q, result, matcher.policy, match, channel=channel)
        for q, result, match in zip(questions, results, matches, strict=True)
    ]
    return results, decisions


def evaluate_pre_model(
    rows: Sequence[LabelledQuestion],
    *,
    retriever: Retriever,
    embedder: Embedder,
    policy: Policy,
    k: int = 5,
    timer: Callable[[], float] = time.perf_counter,
) -> tuple[RoutingMetrics, list[Decision]]:
    """``eval routing --no-model``: retrieval plus the router's first stage, timed."""
    started = timer()
    matcher = CategoryMatcher(policy, embedder)
    _, decisions = route_pre_model(
        [r.text for r in rows], retriever=retriever, matcher=matcher, k=k
    )
    seconds = timer() - started
    return routing_metrics(rows, decisions, seconds=seconds, stage="pre_model"), decisions
