"""The router: pure functions from what is known about a question to a :class:`Decision`.

No I/O and no models in here: every input is a value (the question, the retrieval result,
the policy, the category match, the executor's outcome, the budget, the channel). Routes only
ever go up — ``answer`` < ``frontier`` < ``human`` — so a category that needs a person keeps
needing one whatever the later stages say. Every decision carries the reasons that fired,
including those that did not change the route, each with a stable signal name:

==========================  =====================================================  ========
signal                      fires when                                             route
==========================  =====================================================  ========
``policy_category``         the question matches a category by meaning: its        category
                            prototype, its own source pages or a near-paraphrase
                            of an example (or the executor classified it)
``keyword``                 one of a category's keywords is in the question        category
``routine_example``         a match by meaning was held back: the question is      (none)
                            closer to one of the category's routine examples
                            than to any of its examples (recorded, routes nothing)
``weak_retrieval``          top retrieval score < ``min_retrieval_score`` (but     policy
                            the question is not off-topic)
``conflicting_evidence``    relevant passages from different documents state       policy
                            different values for one quantity (see ``conflicts``)
``channel_rule``            the channel's rule escalates every question            rule
``user_requested``          the asker asks for a person                            human
``off_topic``               unrelated to the knowledge base, the scope and every   answer,
                            category: a polite decline, not an escalation          declined
``executor_flag``           the executor set ``escalate``                          policy
``low_confidence``          executor confidence < ``min_confidence``               policy
``invalid_output``          the executor's output did not validate                 policy
``invented_citation``       the executor quoted text not in the passages           policy
``model_failure``           ``max_model_failures`` consecutive executor failures,  policy
                            or no draft at all
``budget_exhausted``        frontier route, but today's frontier calls are used    human
``frontier_unavailable``    frontier route, but no frontier model is configured    human
``frontier_needs_human``    the frontier model decided a person must answer        human
``frontier_failure``        the frontier call failed                               human
==========================  =====================================================  ========

"policy" routes come from :class:`~supportbot.routing.policy.Routing` (defaults: weak
retrieval to ``human``, conflicts and executor signals to ``frontier``).

The pipeline calls :func:`before_model` (may decide ``frontier``/``human`` or decline), runs the
executor unless the question was declined (a human-bound question still gets a draft for the
reviewer), calls :func:`after_model`, calls the frontier model when the route is
``frontier``, then :func:`after_frontier`.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field

from supportbot.llm.types import EscalatorOutcome, ExecutorOutcome
from supportbot.retrieval.types import RetrievalResult
from supportbot.routing.categories import CategoryEvidence, CategoryMatch
from supportbot.routing.conflicts import find_conflicts
from supportbot.routing.keywords import Keyword, question_words
from supportbot.routing.policy import ChannelRule, Policy
from supportbot.routing.types import Decision, Reason, Route


class Signal(StrEnum):
    """Stable names of the router's signals (stored, counted in the digest)."""

    POLICY_CATEGORY = "policy_category"
    KEYWORD = "keyword"
    ROUTINE_EXAMPLE = "routine_example"
    WEAK_RETRIEVAL = "weak_retrieval"
    CONFLICTING_EVIDENCE = "conflicting_evidence"
    CHANNEL_RULE = "channel_rule"
    USER_REQUESTED = "user_requested"
    OFF_TOPIC = "off_topic"
    EXECUTOR_FLAG = "executor_flag"
    LOW_CONFIDENCE = "low_confidence"
    INVALID_OUTPUT = "invalid_output"
    INVENTED_CITATION = "invented_citation"
    MODEL_FAILURE = "model_failure"
    BUDGET_EXHAUSTED = "budget_exhausted"
    FRONTIER_UNAVAILABLE = "frontier_unavailable"
    FRONTIER_NEEDS_HUMAN = "frontier_needs_human"
    FRONTIER_FAILURE = "frontier_failure"


SIGNALS: tuple[str, ...] = tuple(s.value for s in Signal)

_RANK: dict[Route, int] = {"answer": 0, "frontier": 1, "human": 2}


class Channel(BaseModel):
    """Where the question was asked (both optional: ``ask`` on the command line has none)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str | None = None
    name: str | None = None


class BudgetState(BaseModel):
    """Frontier calls already made in the current budget day."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    frontier_calls_today: int = Field(0, ge=0)


class FrontierState(BaseModel):
    """Whether the frontier tier can be called at all, and how much budget is used."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    configured: bool
    budget: BudgetState = Field(default_factory=BudgetState)


def _higher(a: Route, b: Route) -> Route:
    return a if _RANK[a] >= _RANK[b] else b


def _reason(signal: Signal, detail: str) -> Reason:
    return Reason(signal=signal.value, detail=detail)


def _meaning_grounds(evidence: CategoryEvidence, routine_score: float, policy: Policy) -> str:
    """The grounds of a match by meaning, in words (see ``routing.categories``)."""
    lane = evidence.lane_score if evidence.lane_score is not None else routine_score
    elsewhere = " outside the category's own pages" if evidence.own_passage else ""
    lane_from = f" ({evidence.lane_source})" if evidence.lane_source else ""
    grounds = []
    basis = evidence.basis or ["prototype"]
    if "prototype" in basis:
        example = evidence.nearest_example or evidence.closest_example
        example_score = (
            evidence.example_score if evidence.example_score is not None else evidence.closest_score
        )
        grounds.append(
            f"similarity {evidence.score:.2f} vs best knowledge-base passage{elsewhere} "
            f"{lane:.2f}{lane_from}; closest example: {example!r}, {example_score:.2f}"
        )
    own = evidence.own_passage
    if "source" in basis and own is not None:
        heading = f" > {own.heading}" if own.heading else ""
        how = "ranked first by the retriever" if own.first_ranked else "the best-scoring passage"
        grounds.append(
            f"the best evidence is {own.source}{heading} ({own.score:.2f}, {how}), a page the "
            f"policy assigns to this category (sources: {own.pattern!r}); best passage "
            f"elsewhere {lane:.2f}{lane_from}"
        )
    if "paraphrase" in basis:
        grounds.append(
            f"near-paraphrase of {evidence.closest_example!r} ({evidence.closest_score:.2f} >= "
            f"category_strong_score {policy.thresholds.category_strong_score:.2f})"
        )
    return "; and ".join(grounds)


def _category_reasons(
    evidence: CategoryEvidence, routine_score: float, policy: Policy
) -> list[Reason]:
    reasons = []
    if evidence.by_meaning:
        reasons.append(
            _reason(
                Signal.POLICY_CATEGORY,
                f"matches category {evidence.name!r} by meaning "
                f"({_meaning_grounds(evidence, routine_score, policy)}) "
                f"-> {evidence.escalate_to}",
            )
        )
    if evidence.by_keyword:
        words = ", ".join(repr(k) for k in evidence.keywords)
        reasons.append(
            _reason(
                Signal.KEYWORD,
                f"keyword {words} of category {evidence.name!r} -> {evidence.escalate_to}",
            )
        )
    return reasons


def _held_back_reason(evidence: CategoryEvidence) -> Reason:
    return _reason(
        Signal.ROUTINE_EXAMPLE,
        f"category {evidence.name!r} not matched by meaning: the question is closer to its "
        f"routine example {evidence.routine_example!r} ({evidence.routine_example_score or 0:.2f})"
        f" than to any of its examples (closest {evidence.nearest_example!r}, "
        f"{evidence.example_score or 0:.2f})",
    )


@lru_cache(maxsize=32)
def _compiled(phrases: tuple[str, ...]) -> tuple[Keyword, ...]:
    return tuple(Keyword.compile(p) for p in phrases)


def user_requested_human(question: str, policy: Policy) -> str | None:
    """The human-request phrase found in the question, if any."""
    found = question_words(question)
    for keyword in _compiled(tuple(policy.routing.human_request_phrases)):
        if keyword.found_in(found):
            return keyword.text
    return None


def before_model(
    question: str,
    retrieval: RetrievalResult,
    policy: Policy,
    match: CategoryMatch,
    *,
    channel: Channel | None = None,
) -> Decision:
    """Stage 1, before any model call: categories, retrieval, conflicts, channel, off-topic."""
    thresholds = policy.thresholds
    route: Route = "answer"
    reasons: list[Reason] = []

    for evidence in match.matched:
        reasons.extend(_category_reasons(evidence, match.routine_score, policy))
        route = _higher(route, evidence.escalate_to)
    # A held-back category that matched by keyword escalates anyway: nothing to explain.
    reasons.extend(
        _held_back_reason(c) for c in match.categories if c.held_back and not c.by_keyword
    )
    requested = user_requested_human(question, policy)
    rule = policy.channel_rule(channel.id, channel.name) if channel else None

    if not match.matched and requested is None:
        declined = _off_topic(retrieval, policy, match, rule)
        if declined is not None:
            return declined

    if requested is not None:
        reasons.append(
            _reason(Signal.USER_REQUESTED, f"the asker asks for a person ({requested!r}) -> human")
        )
        route = "human"

    minimum = rule[1].minimum_route if rule is not None else None
    if rule is not None and minimum is not None:
        key, channel_rule = rule
        note = f" ({channel_rule.note})" if channel_rule.note else ""
        reasons.append(
            _reason(
                Signal.CHANNEL_RULE,
                f"every question in channel {key!r} goes at least to {minimum}{note}",
            )
        )
        route = _higher(route, minimum)

    if retrieval.top_score < thresholds.min_retrieval_score:
        to = policy.routing.weak_retrieval_to
        reasons.append(
            _reason(
                Signal.WEAK_RETRIEVAL,
                f"best knowledge-base passage scores {retrieval.top_score:.2f}, below "
                f"min_retrieval_score {thresholds.min_retrieval_score:.2f}: no grounded "
                f"answer possible -> {to}",
            )
        )
        route = _higher(route, to)

    for conflict in find_conflicts(
        question, retrieval.passages, min_score=thresholds.conflict_floor
    ):
        to = policy.routing.conflicting_evidence_to
        reasons.append(_reason(Signal.CONFLICTING_EVIDENCE, f"{conflict.describe()} -> {to}"))
        route = _higher(route, to)

    best = match.best
    return Decision(route=route, category=best.name if best else None, reasons=reasons)


def _off_topic(
    retrieval: RetrievalResult,
    policy: Policy,
    match: CategoryMatch,
    rule: tuple[str, ChannelRule] | None,
) -> Decision | None:
    """The decline (or, if the channel says so, the hand-off) of an unrelated question."""
    below = policy.thresholds.off_topic_below
    if match.relatedness >= below:
        return None
    scope = f" and the scope ({match.scope_score:.2f})" if match.scope_score is not None else ""
    detail = (
        f"unrelated to the knowledge base (best passage {retrieval.top_score:.2f}) and to "
        f"every policy category (best {match.best_score:.2f}){scope}; all below {below:.2f}"
    )
    if rule is not None and not rule[1].decline_off_topic:
        reason = _reason(Signal.OFF_TOPIC, f"{detail}; channel {rule[0]!r} sends it to a person")
        return Decision(route="human", reasons=[reason])
    reason = _reason(Signal.OFF_TOPIC, f"{detail}; politely declined")
    return Decision(route="answer", reasons=[reason], declined=True)


def after_model(
    before: Decision,
    outcome: ExecutorOutcome,
    policy: Policy,
    *,
    frontier: FrontierState,
) -> Decision:
    """Stage 2, after the executor: its flag, confidence, output, citations, failures, budget."""
    thresholds = policy.thresholds
    to = policy.routing.executor_escalation_to
    route: Route = before.route
    category = before.category
    reasons = list(before.reasons)

    def escalate(signal: Signal, detail: str, target: Route = to) -> None:
        nonlocal route
        reasons.append(_reason(signal, f"{detail} -> {target}"))
        route = _higher(route, target)

    if outcome.invalid_output:
        escalate(
            Signal.INVALID_OUTPUT,
            "the executor's output did not validate"
            + (f": {outcome.error}" if outcome.error else ""),
        )
    failures = outcome.consecutive_failures
    if failures >= thresholds.max_model_failures:
        escalate(
            Signal.MODEL_FAILURE,
            f"{failures} consecutive executor failures (max_model_failures "
            f"{thresholds.max_model_failures})" + (f": {outcome.error}" if outcome.error else ""),
        )
    elif outcome.draft is None and not outcome.invalid_output:
        escalate(
            Signal.MODEL_FAILURE,
            "the executor produced no draft" + (f": {outcome.error}" if outcome.error else ""),
        )

    if outcome.invented_citations:
        quotes = "; ".join(f"{e.source}: {e.quote[:80]!r}" for e in outcome.invented_citations)
        escalate(
            Signal.INVENTED_CITATION,
            f"{len(outcome.invented_citations)} quote(s) not found in the retrieved passages "
            f"were dropped ({quotes})",
        )

    draft = outcome.draft
    if draft is not None:
        if draft.escalate:
            escalate(
                Signal.EXECUTOR_FLAG,
                "the executor asked to escalate"
                + (f": {draft.escalate_reason}" if draft.escalate_reason else ""),
            )
        if draft.confidence < thresholds.min_confidence:
            escalate(
                Signal.LOW_CONFIDENCE,
                f"executor confidence {draft.confidence:.2f} is below min_confidence "
                f"{thresholds.min_confidence:.2f}",
            )
        classified = policy.categories.get(draft.classification.strip())
        if classified is not None and not _has_category_reason(reasons, draft.classification):
            escalate(
                Signal.POLICY_CATEGORY,
                f"the executor classified the question as category "
                f"{draft.classification.strip()!r}",
                classified.escalate_to,
            )
            category = category or draft.classification.strip()

    decision = Decision(route=route, category=category, reasons=reasons)
    return resolve_frontier(decision, policy, frontier)


def _has_category_reason(reasons: Iterable[Reason], name: str) -> bool:
    needle = f"category {name.strip()!r}"
    return any(
        r.signal in (Signal.POLICY_CATEGORY.value, Signal.KEYWORD.value) and needle in r.detail
        for r in reasons
    )


def resolve_frontier(decision: Decision, policy: Policy, frontier: FrontierState) -> Decision:
    """A ``frontier`` route the frontier tier cannot take becomes ``human``, with the reason."""
    if decision.route != "frontier":
        return decision
    if not frontier.configured:
        reason = _reason(
            Signal.FRONTIER_UNAVAILABLE,
            "no frontier model is configured (ANTHROPIC_API_KEY is not set) -> human",
        )
    else:
        limit = policy.budget.frontier_calls_per_day
        used = frontier.budget.frontier_calls_today
        if used < limit:
            return decision
        reason = _reason(
            Signal.BUDGET_EXHAUSTED,
            f"frontier budget exhausted ({used} of {limit} calls today) -> human",
        )
    return decision.model_copy(update={"route": "human", "reasons": [*decision.reasons, reason]})


def after_frontier(decision: Decision, outcome: EscalatorOutcome) -> Decision:
    """Stage 3, after the frontier model: its own verdict, or its failure, may need a person."""
    if decision.route != "frontier":
        return decision
    result = outcome.result
    if result is None:
        reason = _reason(
            Signal.FRONTIER_FAILURE,
            "the frontier model call failed"
            + (f": {outcome.error}" if outcome.error else "")
            + " -> human",
        )
    elif result.decision == "needs_human":
        reason = _reason(
            Signal.FRONTIER_NEEDS_HUMAN,
            f"the frontier model says a person must decide: {result.rationale} -> human",
        )
    else:
        return decision
    return decision.model_copy(update={"route": "human", "reasons": [*decision.reasons, reason]})
