"""Category matching by meaning (prototype vs. the knowledge base) and by keywords."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from routing_support import POLICY_YAML, InMemoryRetriever, policy

from supportbot.retrieval.embedders import MiniLMEmbedder
from supportbot.retrieval.types import Vectors
from supportbot.routing.categories import CategoryEvidence, CategoryMatcher
from supportbot.routing.policy import load_policy

KNOWLEDGE = {
    "billing/refunds": (
        "# Refunds\nCancel within 30 days of your first payment for a full refund.\n"
        "## How to cancel\nOpen Settings, Billing, Cancel subscription."
    ),
    "product/export": (
        "# Export your data\nExport tasks and projects as CSV or JSON from Settings, Export."
    ),
    "accounts/password": (
        "# Reset your password\nUse the Forgot password link on the sign-in page."
    ),
}


class CountingEmbedder:
    """Wraps the shared embedder and counts document embedding calls."""

    def __init__(self, inner: MiniLMEmbedder, name: str) -> None:
        self._inner = inner
        self._name = name
        self.document_calls = 0

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        return self._inner.dimension

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        self.document_calls += 1
        return self._inner.embed_documents(texts)

    def embed_query(self, text: str) -> Vectors:
        return self._inner.embed_query(text)


@pytest.fixture(scope="module")
def retriever(embedder: MiniLMEmbedder) -> InMemoryRetriever:
    return InMemoryRetriever(embedder, KNOWLEDGE)


@pytest.fixture(scope="module")
def matcher(embedder: MiniLMEmbedder) -> CategoryMatcher:
    return CategoryMatcher(policy(), embedder)


def test_a_risky_question_matches_by_meaning(
    matcher: CategoryMatcher, retriever: InMemoryRetriever
) -> None:
    question = "I was billed two times this month and want the money returned"
    match = matcher.match(question, retriever.retrieve(question, 5))
    best = match.best
    assert best is not None
    assert best.name == "refund_exception"
    assert best.by_meaning
    assert not best.by_keyword
    assert best.score >= match.routine_score
    assert best.closest_example == "I was charged twice, I want my money back"


def test_a_routine_question_answered_by_the_knowledge_base_does_not_match(
    matcher: CategoryMatcher, retriever: InMemoryRetriever
) -> None:
    question = "How can I export my projects as CSV?"
    match = matcher.match(question, retriever.retrieve(question, 5))
    assert match.matched == []
    assert match.best is None
    assert match.routine_score > max(c.score for c in match.categories)


def test_keyword_match_names_the_keyword(matcher: CategoryMatcher) -> None:
    match = matcher.match("What happens to my workspace after CHARGEBACKS?")
    refund = match.get("refund_exception")
    assert refund is not None
    assert refund.by_keyword
    assert refund.keywords == ["chargeback"]
    assert match.matched[0].name == "refund_exception"


def test_matches_are_listed_first(matcher: CategoryMatcher) -> None:
    match = matcher.match("Does the MSA change anything for us?")
    assert next(c.name for c in match.categories) == "enterprise_contract"
    assert match.best is not None
    assert match.best.name == "enterprise_contract"


def test_near_paraphrase_of_an_example_matches_whatever_the_knowledge_base_says(
    embedder: MiniLMEmbedder,
) -> None:
    matcher = CategoryMatcher(policy(), embedder)
    question = "Can I get a refund after 60 days?"
    strict_kb = matcher.match(question, question_vector=embedder.embed_query(question))
    refund = strict_kb.get("refund_exception")
    assert refund is not None
    assert refund.closest_score > 0.99
    # Even against a (hypothetical) perfect knowledge-base passage it still matches.
    from routing_support import passage, retrieval

    perfect = matcher.match(question, retrieval(passage(score=1.0)))
    refund = perfect.get("refund_exception")
    assert refund is not None
    assert refund.by_meaning


def test_margin_and_strong_score_come_from_the_policy(embedder: MiniLMEmbedder) -> None:
    question = "I was billed two times this month and want the money returned"
    strict = policy(
        POLICY_YAML.replace(
            "  max_model_failures: 2",
            "  max_model_failures: 2\n  category_margin: 0.9\n  category_strong_score: 0.99",
        )
    )
    assert CategoryMatcher(policy(), embedder).match(question).matched != []
    assert CategoryMatcher(strict, embedder).match(question).matched == []


def test_floor_keeps_unrelated_questions_out(matcher: CategoryMatcher) -> None:
    match = matcher.match("What is the capital of Mongolia?")  # no retrieval: routine score 0
    assert match.routine_score == 0.0
    assert match.matched == []
    assert match.relatedness < 0.3


def test_scope_score_when_the_policy_has_a_scope(matcher: CategoryMatcher) -> None:
    related = matcher.match("How do I add a project to my workspace?")
    unrelated = matcher.match("Best pizza topping?")
    assert related.scope_score is not None
    assert unrelated.scope_score is not None
    assert related.scope_score > unrelated.scope_score


def test_policy_texts_are_embedded_once_per_policy_content(embedder: MiniLMEmbedder) -> None:
    counting = CountingEmbedder(embedder, name="counting-for-cache-test")
    first = CategoryMatcher(policy(), counting)
    CategoryMatcher(policy(), counting)  # same content: cached
    assert counting.document_calls == 1
    changed = policy(POLICY_YAML.replace("after 60 days", "after 90 days"))
    CategoryMatcher(changed, counting)
    assert counting.document_calls == 2
    first.match("hello")
    assert counting.document_calls == 2


def test_match_many_agrees_with_match(matcher: CategoryMatcher) -> None:
    questions = ["we filed a chargeback", "how do I reset my password?"]
    many = matcher.match_many(questions, [0.4, 0.6])
    from routing_support import passage, retrieval

    single = [
        matcher.match(q, retrieval(passage(score=s)))
        for q, s in zip(questions, [0.4, 0.6], strict=True)
    ]
    for a, b in zip(many, single, strict=True):
        assert [c.name for c in a.matched] == [c.name for c in b.matched]
        assert [c.score for c in a.categories] == pytest.approx(
            [c.score for c in b.categories], abs=1e-3
        )


REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("policies_dir", "question", "category"),
    [
        ("policies", "refund me now or we start a chargeback", "refund_exception"),
        ("policies", "we will sue if this continues", "compliance_legal"),
        ("policies", "I think my account got hacked last night", "security_incident"),
        ("policies", "what does section 4 of our MSA mean for renewals?", "enterprise_contract"),
        ("scripts/eval/banking/policies", "my visa got stolen on the train", "lost_or_stolen_card"),
        ("scripts/eval/banking/policies", "report fraudulent charges", "suspected_fraud"),
        ("scripts/eval/banking/policies", "why is my account frozen", "account_restricted"),
    ],
)
def test_shipped_policies_trigger_on_their_keywords(
    embedder: MiniLMEmbedder, policies_dir: str, question: str, category: str
) -> None:
    matcher = CategoryMatcher(load_policy(REPO / policies_dir), embedder)
    match = matcher.match(question)
    found = match.get(category)
    assert found is not None
    assert found.by_keyword


def test_the_sample_policy_claims_a_question_answered_from_its_own_page(
    embedder: MiniLMEmbedder,
) -> None:
    """A security incident whose best evidence is the takeover page, and routine neighbours.

    The question is far from every example of ``security_incident`` (no paraphrase) and
    scores low against its prototype; what places it is the page that answers it, which the
    sample policy lists among the category's ``sources``.
    """
    documents = [
        "security/suspected-account-takeover",
        "security/leaked-api-keys",
        "accounts/password-reset",
        "accounts/two-factor-authentication",
        "troubleshooting/login-issues",
        "product/api-and-webhooks",
    ]
    knowledge = {d: (REPO / "knowledge" / f"{d}.md").read_text(encoding="utf-8") for d in documents}
    retriever = InMemoryRetriever(embedder, knowledge)
    matcher = CategoryMatcher(load_policy(REPO / "policies"), embedder)

    def security(question: str) -> CategoryEvidence:
        found = matcher.match(question, retriever.retrieve(question, 5)).get("security_incident")
        assert found is not None
        return found

    incident = security("a teammate says I sent them messages I never wrote")
    assert incident.by_meaning
    assert incident.basis == ["source"]
    assert incident.own_passage is not None
    assert incident.own_passage.source == "security/suspected-account-takeover.md"
    for routine in ["How do I change my password?", "how do I create an api key"]:
        assert not security(routine).matched
