"""The grounds of a match by meaning, with hand-made vectors so every similarity is exact.

Directions (before normalising): the description is e1, the two examples are e2+e3 and
e2-e3, so the prototype is e1+e2. A question along e1+e2 is the category's *topic*: similarity
1.0 to the prototype but only 0.5 to each example (and 0.71 to the description).
"""

from __future__ import annotations

import pytest
from routing_support import TableEmbedder, passage, retrieval

from supportbot.retrieval.types import Passage, RetrievalResult
from supportbot.routing.categories import CategoryEvidence, CategoryMatcher
from supportbot.routing.evaluation import LabelledQuestion, evaluate_pre_model
from supportbot.routing.policy import Policy, parse_policy
from supportbot.routing.router import Signal, before_model

TOPIC = "question about the topic"  # e1+e2 (+0.05*e4)
SITUATION = "question in the situation of example one"  # e2+e3 (example one itself)
FAR = "unrelated question"  # e4
LOOKALIKE = "routine look-alike with a refund"  # e1+e2+0.2*e4, equal to the routine example

VECTORS = {
    "the category's description": [1, 0, 0, 0],
    "example one": [0, 1, 1, 0],
    "example two": [0, 1, -1, 0],
    "a routine example": [1, 1, 0, 0.2],
    "a routine twin of example one": [0, 1, 1, 0],
    TOPIC: [1, 1, 0, 0.05],  # a hair off the prototype, so a perfect passage beats it
    SITUATION: [0, 1, 1, 0],
    FAR: [0, 0, 0, 1],
    LOOKALIKE: [1, 1, 0, 0.2],
}


def make_policy(*, sources: str = "", routine: str = "") -> Policy:
    return parse_policy(
        f"""
categories:
  risk:
    description: "the category's description"
    examples: ["example one", "example two"]
    keywords: ["refund"]
    escalate_to: human
{sources}{routine}
"""
    )


OWN_PAGE = '    sources: ["risk/process#Report*"]\n'


def own(score: float) -> Passage:
    return passage(doc="risk/process", score=score).model_copy(
        update={"heading": "Process > Report it"}
    )


def other(score: float) -> Passage:
    return passage(doc="help/other", score=score)


def evidence(policy: Policy, question: str, *passages: Passage) -> CategoryEvidence:
    matcher = CategoryMatcher(policy, TableEmbedder(VECTORS))
    found = matcher.match(question, retrieval(*passages)).get("risk")
    assert found is not None
    return found


def test_without_sources_the_prototype_decides() -> None:
    found = evidence(make_policy(), TOPIC, other(0.6))
    assert found.score == pytest.approx(0.9994, abs=1e-3)
    assert found.example_score == pytest.approx(0.4997, abs=1e-3)
    assert found.closest_score == pytest.approx(0.7067, abs=1e-3)  # the description
    assert found.by_meaning  # the best passage may document the risk: the prototype decides
    assert found.basis == ["prototype"]
    assert not evidence(make_policy(), TOPIC, other(1.0)).by_meaning


def test_with_sources_the_topic_alone_does_not_beat_a_closer_routine_passage() -> None:
    found = evidence(make_policy(sources=OWN_PAGE), TOPIC, other(0.6))
    assert found.score >= 0.6  # the prototype is closer than the passage ...
    assert not found.by_meaning  # ... but no example reaches 0.6
    assert found.basis == []


def test_sources_declared_empty_make_the_whole_lane_routine() -> None:
    found = evidence(make_policy(sources="    sources: []\n"), TOPIC, other(0.6))
    assert found.own_passage is None
    assert not found.by_meaning  # as with sources: an example must be as close as the lane
    assert evidence(make_policy(sources="    sources: []\n"), TOPIC, other(0.45)).by_meaning


def test_with_sources_an_example_as_close_as_the_lane_matches() -> None:
    found = evidence(make_policy(sources=OWN_PAGE), TOPIC, other(0.45))
    assert found.by_meaning
    assert found.basis == ["prototype"]
    assert found.nearest_example in ("example one", "example two")
    assert found.lane_score == pytest.approx(0.45)
    assert found.lane_source == "help/other.md"


def test_a_near_paraphrase_matches_whatever_the_knowledge_base_says() -> None:
    found = evidence(make_policy(), SITUATION, other(1.0))
    assert found.basis == ["paraphrase"]
    assert found.closest_example == "example one"


def test_the_category_pages_are_not_the_routine_lane() -> None:
    passages = (own(1.0), other(0.45))
    without = evidence(make_policy(), TOPIC, *passages)
    with_sources = evidence(make_policy(sources=OWN_PAGE), TOPIC, *passages)
    assert without.lane_score == pytest.approx(1.0)
    assert not without.by_meaning  # the help page "answers" it as well as the category
    assert with_sources.lane_score == pytest.approx(0.45)
    assert with_sources.by_meaning
    assert with_sources.basis == ["prototype", "source"]


def test_an_own_page_ranked_first_is_the_best_evidence() -> None:
    found = evidence(make_policy(sources=OWN_PAGE), TOPIC, own(0.55), other(0.6))
    assert found.basis == ["source"]  # prototype fails: no example reaches 0.6
    assert found.own_passage is not None
    assert found.own_passage.first_ranked
    assert found.own_passage.pattern == "risk/process#Report*"
    assert found.own_passage.heading == "Process > Report it"


def test_an_own_page_with_the_best_score_is_the_best_evidence() -> None:
    found = evidence(make_policy(sources=OWN_PAGE), TOPIC, other(0.6), own(0.65))
    assert found.basis == ["source"]
    assert found.own_passage is not None
    assert not found.own_passage.first_ranked


def test_an_own_page_behind_a_better_one_is_not_the_best_evidence() -> None:
    found = evidence(make_policy(sources=OWN_PAGE), TOPIC, other(0.8), own(0.7))
    assert found.own_passage is None
    assert not found.by_meaning


def test_another_section_of_the_page_is_not_owned() -> None:
    elsewhere = passage(doc="risk/process", score=0.9).model_copy(
        update={"heading": "Process > Overview"}
    )
    found = evidence(make_policy(sources=OWN_PAGE), TOPIC, elsewhere, other(0.45))
    assert found.own_passage is None
    assert found.lane_score == pytest.approx(0.9)
    assert not found.by_meaning


def test_an_unrelated_question_nearest_to_an_own_page_does_not_match() -> None:
    found = evidence(make_policy(sources=OWN_PAGE), FAR, own(0.5))
    assert found.score < 0.3  # below the floor (min_retrieval_score)
    assert not found.by_meaning


def test_a_closer_routine_example_holds_back_the_match_by_meaning() -> None:
    routine = '    routine_examples: ["a routine example"]\n'
    found = evidence(make_policy(routine=routine), LOOKALIKE, other(0.4))
    assert found.basis == ["prototype"]
    assert found.held_back
    assert not found.by_meaning
    assert found.routine_example == "a routine example"
    assert found.routine_example_score == pytest.approx(1.0, abs=1e-3)
    assert found.by_keyword  # keywords are explicit triggers, never held back
    assert found.matched


def test_a_tie_with_a_routine_example_goes_to_the_category() -> None:
    routine = '    routine_examples: ["a routine twin of example one"]\n'
    found = evidence(make_policy(routine=routine), SITUATION, other(0.4))
    assert found.routine_example_score == pytest.approx(found.example_score or 0, abs=1e-6)
    assert not found.held_back
    assert found.by_meaning


def test_match_many_uses_the_passages_of_each_retrieval() -> None:
    policy = make_policy(sources=OWN_PAGE)
    matcher = CategoryMatcher(policy, TableEmbedder(VECTORS))
    from_results = matcher.match_many([TOPIC], [retrieval(own(0.55), other(0.6))])
    from_scores = matcher.match_many([TOPIC], [0.6])
    assert from_results[0].categories[0].basis == ["source"]
    assert from_scores[0].categories[0].basis == []


# -- the router's reasons ------------------------------------------------------------------


def decide(policy: Policy, question: str, *passages: Passage) -> tuple[str, list[str], str]:
    matcher = CategoryMatcher(policy, TableEmbedder(VECTORS))
    found = retrieval(*passages)
    decision = before_model(question, found, policy, matcher.match(question, found))
    details = " | ".join(r.detail for r in decision.reasons)
    return decision.route, [r.signal for r in decision.reasons], details


def test_reason_for_an_own_page_names_the_page_the_pattern_and_the_lane() -> None:
    route, signals, details = decide(make_policy(sources=OWN_PAGE), TOPIC, own(0.55), other(0.6))
    assert route == "human"
    assert signals == [Signal.POLICY_CATEGORY.value]
    assert "matches category 'risk' by meaning" in details
    assert "risk/process.md > Process > Report it (0.55, ranked first by the retriever)" in details
    assert "(sources: 'risk/process#Report*')" in details
    assert "best passage elsewhere 0.60 (help/other.md)" in details


def test_reason_for_the_prototype_names_the_closest_example() -> None:
    _, _, details = decide(make_policy(sources=OWN_PAGE), TOPIC, own(0.9), other(0.45))
    assert "similarity 1.00 vs best knowledge-base passage outside the category's own pages" in (
        details
    )
    assert "0.45 (help/other.md)" in details
    assert "closest example: 'example " in details
    assert "; and the best evidence is risk/process.md" in details


def test_reason_for_a_paraphrase_names_the_threshold() -> None:
    _, _, details = decide(make_policy(), SITUATION, other(1.0))
    assert "near-paraphrase of 'example one' (1.00 >= category_strong_score 0.75)" in details


def test_a_held_back_match_is_explained_and_answered() -> None:
    policy = make_policy(routine='    routine_examples: ["a routine example"]\n')
    question = "topic look-alike"
    table = {**VECTORS, question: VECTORS[LOOKALIKE]}
    matcher = CategoryMatcher(policy, TableEmbedder(table))
    found = retrieval(other(0.4))
    decision = before_model(question, found, policy, matcher.match(question, found))
    assert decision.route == "answer"
    assert [r.signal for r in decision.reasons] == [Signal.ROUTINE_EXAMPLE.value]
    assert "category 'risk' not matched by meaning" in decision.reasons[0].detail
    assert "routine example 'a routine example' (1.00)" in decision.reasons[0].detail


class FixedRetriever:
    """Returns the same passages for every query (the Retriever protocol)."""

    def __init__(self, *passages: Passage) -> None:
        self._passages = passages

    def retrieve(self, query: str, k: int) -> RetrievalResult:
        return retrieval(*self._passages[:k], query=query)


def test_the_pre_model_evaluation_routes_with_the_passages() -> None:
    rows = [LabelledQuestion(text=TOPIC, escalate=True, category="risk")]
    metrics, decisions = evaluate_pre_model(
        rows,
        retriever=FixedRetriever(own(0.55), other(0.6)),
        embedder=TableEmbedder(VECTORS),
        policy=make_policy(sources=OWN_PAGE),
    )
    assert decisions[0].route == "human"  # only the passages show the own page ranked first
    assert metrics.recall == 1.0


def test_a_held_back_category_that_matches_by_keyword_escalates_without_a_held_back_reason() -> (
    None
):
    policy = make_policy(routine='    routine_examples: ["a routine example"]\n')
    route, signals, details = decide(policy, LOOKALIKE, other(0.4))
    assert route == "human"
    assert signals == [Signal.KEYWORD.value]
    assert "keyword 'refund' of category 'risk'" in details
