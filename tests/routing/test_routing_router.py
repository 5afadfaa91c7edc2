"""The router's pure stages: one test (at least) per signal, and the route rules."""

from __future__ import annotations

import pytest
from routing_support import (
    category_match,
    draft,
    evidence,
    outcome,
    passage,
    policy,
    retrieval,
)

from supportbot.llm.types import EscalatorOutcome, Evidence, FrontierAnswer
from supportbot.routing import router
from supportbot.routing.router import (
    SIGNALS,
    BudgetState,
    Channel,
    FrontierState,
    Signal,
    after_frontier,
    after_model,
    before_model,
    resolve_frontier,
)
from supportbot.routing.types import Decision

POLICY = policy()
GOOD = retrieval(passage(score=0.7))
READY = FrontierState(configured=True)
QUESTION = "How do I export my tasks?"


def signals(decision: Decision) -> list[str]:
    return [r.signal for r in decision.reasons]


def detail(decision: Decision, signal: Signal) -> str:
    return next(r.detail for r in decision.reasons if r.signal == signal.value)


def routine_before() -> Decision:
    return before_model(QUESTION, GOOD, POLICY, category_match())


# -- before the model -------------------------------------------------------------------


def test_routine_question_stays_in_the_answer_lane_without_reasons() -> None:
    decision = routine_before()
    assert decision == Decision(route="answer", category=None, reasons=[], declined=False)


def test_policy_category_by_meaning_human() -> None:
    match = category_match(evidence("refund_exception", "human", score=0.72, by_meaning=True))
    decision = before_model("refund after 90 days?", GOOD, POLICY, match)
    assert decision.route == "human"
    assert decision.category == "refund_exception"
    assert signals(decision) == ["policy_category"]
    text = detail(decision, Signal.POLICY_CATEGORY)
    assert "'refund_exception' by meaning" in text
    assert "0.72 vs best knowledge-base passage 0.70" in text
    assert "closest example: 'an example'" in text


def test_policy_category_by_meaning_frontier() -> None:
    match = category_match(evidence("enterprise_contract", "frontier", score=0.6, by_meaning=True))
    decision = before_model("our contract terms?", GOOD, POLICY, match)
    assert (decision.route, decision.category) == ("frontier", "enterprise_contract")


def test_keyword_signal_names_the_keyword() -> None:
    match = category_match(evidence("refund_exception", "human", keywords=("chargeback",)))
    decision = before_model("we filed a chargeback", GOOD, POLICY, match)
    assert decision.route == "human"
    assert signals(decision) == ["keyword"]
    assert "keyword 'chargeback' of category 'refund_exception'" in detail(decision, Signal.KEYWORD)


def test_strictest_matched_category_sets_the_route_best_sets_the_category() -> None:
    match = category_match(
        evidence("enterprise_contract", "frontier", score=0.8, by_meaning=True),
        evidence("refund_exception", "human", score=0.5, keywords=("chargeback",)),
    )
    decision = before_model("MSA chargeback", GOOD, POLICY, match)
    assert decision.route == "human"
    assert decision.category == "enterprise_contract"
    assert signals(decision) == ["policy_category", "keyword"]


def test_weak_retrieval_escalates_a_related_question() -> None:
    weak = retrieval(passage(score=0.25))
    match = category_match(routine_score=0.25, scope_score=0.45)
    decision = before_model("Do you support punch cards?", weak, POLICY, match)
    assert decision.route == "human"  # policy.routing.weak_retrieval_to defaults to human
    assert not decision.declined
    assert signals(decision) == ["weak_retrieval"]
    assert "0.25, below min_retrieval_score 0.30" in detail(decision, Signal.WEAK_RETRIEVAL)


def test_weak_retrieval_route_comes_from_the_policy() -> None:
    custom = policy(router_yaml("routing: {weak_retrieval_to: frontier}"))
    weak = retrieval(passage(score=0.25))
    decision = before_model("q", weak, custom, category_match(routine_score=0.25, scope_score=0.4))
    assert decision.route == "frontier"


def test_conflicting_evidence() -> None:
    conflicting = retrieval(
        passage("Refunds are available within 14 days of purchase.", doc="billing/refunds"),
        passage("You can request a refund within 30 days of purchase.", doc="billing/faq"),
    )
    decision = before_model(
        "How many days do I have for a refund?", conflicting, POLICY, category_match()
    )
    assert decision.route == "frontier"
    assert signals(decision) == ["conflicting_evidence"]
    assert "'14 days'" in detail(decision, Signal.CONFLICTING_EVIDENCE)


def test_channel_rule_by_id() -> None:
    decision = before_model(
        QUESTION, GOOD, POLICY, category_match(), channel=Channel(id="C0LEGAL", name="legal")
    )
    assert decision.route == "human"
    assert signals(decision) == ["channel_rule"]
    assert "'C0LEGAL' goes at least to human (legal answers only)" in detail(
        decision, Signal.CHANNEL_RULE
    )


def test_channel_rule_never_auto_answer_by_name() -> None:
    decision = before_model(
        QUESTION, GOOD, POLICY, category_match(), channel=Channel(id="C9", name="vip")
    )
    assert decision.route == "human"
    assert signals(decision) == ["channel_rule"]


def test_channel_without_rule_changes_nothing() -> None:
    decision = before_model(
        QUESTION, GOOD, POLICY, category_match(), channel=Channel(id="C1", name="general")
    )
    assert decision.route == "answer"


def test_user_requested_a_person() -> None:
    decision = before_model("Can I talk to a real person please?", GOOD, POLICY, category_match())
    assert decision.route == "human"
    assert signals(decision) == ["user_requested"]


def test_user_request_phrases_come_from_the_policy() -> None:
    custom = policy(router_yaml("routing: {human_request_phrases: ['get me a manager']}"))
    asked = before_model("Get me a manager now", GOOD, custom, category_match())
    default_phrase = before_model("talk to a human", GOOD, custom, category_match())
    assert asked.route == "human"
    assert default_phrase.route == "answer"


def test_off_topic_is_politely_declined_not_escalated() -> None:
    unrelated = retrieval(passage(score=0.12))
    match = category_match(routine_score=0.12, scope_score=0.05)
    decision = before_model("What's a good pizza place?", unrelated, POLICY, match)
    assert decision.route == "answer"
    assert decision.declined
    assert not decision.escalated
    assert signals(decision) == ["off_topic"]
    assert "politely declined" in detail(decision, Signal.OFF_TOPIC)


def test_off_topic_uses_the_scope_to_keep_related_questions() -> None:
    unrelated = retrieval(passage(score=0.12))
    decision = before_model(
        "q", unrelated, POLICY, category_match(routine_score=0.12, scope_score=0.5)
    )
    assert not decision.declined
    assert signals(decision) == ["weak_retrieval"]


def test_off_topic_in_a_channel_that_sends_it_to_a_person() -> None:
    unrelated = retrieval(passage(score=0.1))
    decision = before_model(
        "pizza?",
        unrelated,
        POLICY,
        category_match(routine_score=0.1),
        channel=Channel(name="sales"),
    )
    assert decision.route == "human"
    assert not decision.declined
    assert "channel 'sales' sends it to a person" in detail(decision, Signal.OFF_TOPIC)


def test_a_keyword_hit_is_never_off_topic() -> None:
    unrelated = retrieval(passage(score=0.1))
    match = category_match(
        evidence("refund_exception", "human", score=0.1, keywords=("chargeback",)),
        routine_score=0.1,
    )
    decision = before_model("chargeback!!", unrelated, POLICY, match)
    assert decision.route == "human"
    assert not decision.declined
    assert signals(decision) == ["keyword", "weak_retrieval"]


def test_a_request_for_a_person_is_never_off_topic() -> None:
    unrelated = retrieval(passage(score=0.1))
    decision = before_model(
        "I want to speak to a human", unrelated, POLICY, category_match(routine_score=0.1)
    )
    assert decision.route == "human"
    assert not decision.declined


# -- after the model --------------------------------------------------------------------


def test_clean_draft_is_answered() -> None:
    decision = after_model(routine_before(), outcome(draft()), POLICY, frontier=READY)
    assert decision.route == "answer"
    assert decision.reasons == []


def test_executor_flag() -> None:
    flagged = outcome(draft(escalate=True, escalate_reason="asks about a contract"))
    decision = after_model(routine_before(), flagged, POLICY, frontier=READY)
    assert decision.route == "frontier"
    assert signals(decision) == ["executor_flag"]
    assert "asks about a contract" in detail(decision, Signal.EXECUTOR_FLAG)


def test_low_confidence() -> None:
    decision = after_model(routine_before(), outcome(draft(confidence=0.4)), POLICY, frontier=READY)
    assert decision.route == "frontier"
    assert signals(decision) == ["low_confidence"]
    assert "0.40 is below min_confidence 0.60" in detail(decision, Signal.LOW_CONFIDENCE)


def test_confidence_at_the_threshold_is_enough() -> None:
    decision = after_model(routine_before(), outcome(draft(confidence=0.6)), POLICY, frontier=READY)
    assert decision.route == "answer"


def test_invalid_output() -> None:
    bad = outcome(None, invalid_output=True, consecutive_failures=1, error="confidence: > 1")
    decision = after_model(routine_before(), bad, POLICY, frontier=READY)
    assert decision.route == "frontier"
    assert signals(decision) == ["invalid_output"]
    assert "confidence: > 1" in detail(decision, Signal.INVALID_OUTPUT)


def test_invented_citation() -> None:
    invented = outcome(
        draft(),
        invented_citations=[Evidence(source="billing/refunds.md", quote="Refunds any time")],
    )
    decision = after_model(routine_before(), invented, POLICY, frontier=READY)
    assert decision.route == "frontier"
    assert signals(decision) == ["invented_citation"]
    assert "'Refunds any time'" in detail(decision, Signal.INVENTED_CITATION)


def test_model_failure_after_max_consecutive_failures() -> None:
    failed = outcome(None, consecutive_failures=2, error="timeout after 60s")
    decision = after_model(routine_before(), failed, POLICY, frontier=READY)
    assert decision.route == "frontier"
    assert signals(decision) == ["model_failure"]
    assert "2 consecutive executor failures (max_model_failures 2)" in detail(
        decision, Signal.MODEL_FAILURE
    )


def test_invalid_output_twice_is_also_a_model_failure() -> None:
    failed = outcome(None, consecutive_failures=2, invalid_output=True)
    decision = after_model(routine_before(), failed, POLICY, frontier=READY)
    assert signals(decision) == ["invalid_output", "model_failure"]


def test_no_draft_below_the_failure_limit_still_escalates() -> None:
    failed = outcome(None, consecutive_failures=1, error="connection refused")
    decision = after_model(routine_before(), failed, POLICY, frontier=READY)
    assert decision.route == "frontier"
    assert "no draft: connection refused" in detail(decision, Signal.MODEL_FAILURE)


def test_executor_classifying_a_policy_category() -> None:
    classified = outcome(draft(classification="refund_exception"))
    decision = after_model(routine_before(), classified, POLICY, frontier=READY)
    assert (decision.route, decision.category) == ("human", "refund_exception")
    assert signals(decision) == ["policy_category"]


def test_executor_classification_repeating_a_matched_category_adds_no_reason() -> None:
    match = category_match(evidence("refund_exception", "human", score=0.8, by_meaning=True))
    before = before_model("refund after 90 days", GOOD, POLICY, match)
    decision = after_model(
        before, outcome(draft(classification="refund_exception")), POLICY, frontier=READY
    )
    assert signals(decision) == ["policy_category"]


def test_human_category_is_never_auto_answered_even_with_a_perfect_draft() -> None:
    match = category_match(evidence("refund_exception", "human", score=0.8, by_meaning=True))
    before = before_model("refund after 90 days", GOOD, POLICY, match)
    decision = after_model(before, outcome(draft(confidence=1.0)), POLICY, frontier=READY)
    assert decision.route == "human"
    assert decision.category == "refund_exception"


def test_executor_escalation_route_comes_from_the_policy() -> None:
    custom = policy(router_yaml("routing: {executor_escalation_to: human}"))
    decision = after_model(routine_before(), outcome(draft(confidence=0.1)), custom, frontier=READY)
    assert decision.route == "human"


def test_budget_exhausted_goes_to_a_person() -> None:
    spent = FrontierState(configured=True, budget=BudgetState(frontier_calls_today=10))
    decision = after_model(routine_before(), outcome(draft(confidence=0.1)), POLICY, frontier=spent)
    assert decision.route == "human"
    assert signals(decision) == ["low_confidence", "budget_exhausted"]
    assert "(10 of 10 calls today)" in detail(decision, Signal.BUDGET_EXHAUSTED)


def test_budget_left_keeps_the_frontier_route() -> None:
    some = FrontierState(configured=True, budget=BudgetState(frontier_calls_today=9))
    decision = after_model(routine_before(), outcome(draft(confidence=0.1)), POLICY, frontier=some)
    assert decision.route == "frontier"


def test_no_frontier_model_configured_goes_to_a_person() -> None:
    decision = after_model(
        routine_before(),
        outcome(draft(confidence=0.1)),
        POLICY,
        frontier=FrontierState(configured=False),
    )
    assert decision.route == "human"
    assert signals(decision)[-1] == "frontier_unavailable"


def test_resolve_frontier_leaves_other_routes_alone() -> None:
    human = Decision(route="human")
    answer = Decision(route="answer")
    unavailable = FrontierState(configured=False)
    assert resolve_frontier(human, POLICY, unavailable) is human
    assert resolve_frontier(answer, POLICY, unavailable) is answer


# -- after the frontier model -----------------------------------------------------------

FRONTIER = Decision(route="frontier", category="enterprise_contract")


def test_frontier_answer_keeps_the_frontier_route() -> None:
    result = FrontierAnswer(final_answer="Yes.", decision="answer", rationale="standard terms")
    decision = after_frontier(FRONTIER, EscalatorOutcome(result=result))
    assert decision == FRONTIER


def test_frontier_needs_human() -> None:
    result = FrontierAnswer(final_answer="", decision="needs_human", rationale="custom terms")
    decision = after_frontier(FRONTIER, EscalatorOutcome(result=result))
    assert decision.route == "human"
    assert decision.category == "enterprise_contract"
    assert signals(decision) == ["frontier_needs_human"]
    assert "custom terms" in detail(decision, Signal.FRONTIER_NEEDS_HUMAN)


def test_frontier_failure() -> None:
    decision = after_frontier(FRONTIER, EscalatorOutcome(result=None, error="529 overloaded"))
    assert decision.route == "human"
    assert signals(decision) == ["frontier_failure"]
    assert "529 overloaded" in detail(decision, Signal.FRONTIER_FAILURE)


def test_after_frontier_ignores_decisions_not_on_the_frontier_route() -> None:
    human = Decision(route="human")
    assert after_frontier(human, EscalatorOutcome(result=None)) is human


# -- documentation ------------------------------------------------------------------------


@pytest.mark.parametrize("signal", SIGNALS)
def test_every_signal_is_documented_in_the_module_docstring(signal: str) -> None:
    assert f"``{signal}``" in (router.__doc__ or "")


def router_yaml(extra: str) -> str:
    from routing_support import POLICY_YAML

    return POLICY_YAML + extra + "\n"
