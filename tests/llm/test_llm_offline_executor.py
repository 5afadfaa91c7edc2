"""The offline extractive executor: schema-valid, verbatim, grounded in retrieval scores."""

from __future__ import annotations

import pytest

from supportbot.llm.evidence import normalise, verify_evidence
from supportbot.llm.offline_executor import NO_MODEL_NOTE, OfflineExecutor, confidence
from supportbot.llm.sentences import split_sentences
from supportbot.llm.types import Draft
from supportbot.retrieval.embedders import MiniLMEmbedder
from supportbot.retrieval.types import Passage


@pytest.fixture(scope="module")
def offline(embedder: MiniLMEmbedder) -> OfflineExecutor:
    return OfflineExecutor(embedder)


def with_scores(passages: list[Passage], *scores: float) -> list[Passage]:
    return [p.model_copy(update={"score": s}) for p, s in zip(passages, scores, strict=True)]


def test_draft_is_schema_valid_and_quotes_real_passage_sentences(
    offline: OfflineExecutor, passages: list[Passage]
) -> None:
    outcome = offline.draft("How long do I have to ask for a refund?", passages)

    draft = outcome.draft
    assert draft is not None
    assert Draft.model_validate_json(draft.model_dump_json()) == draft
    assert not draft.escalate
    assert draft.evidence
    by_source = {p.source: p for p in passages}
    for item in draft.evidence:
        sentences = [normalise(s) for s in split_sentences(by_source[item.source].text)]
        assert normalise(item.quote) in sentences
        assert normalise(item.quote) in normalise(by_source[item.source].text)
    # The evidence checker the Ollama executor uses finds nothing invented.
    _, invented = verify_evidence(draft, passages)
    assert invented == []
    # The most relevant sentence is the refund window, and the answer says how it was made.
    assert any("within 30 days" in e.quote for e in draft.evidence)
    assert "without a language model" in draft.draft_response
    assert NO_MODEL_NOTE in draft.draft_response
    # Sources travel as evidence (each surface lists them once), not repeated in the text.
    assert "billing/refunds.md" in {e.source for e in draft.evidence}
    assert "billing/refunds.md" not in draft.draft_response
    (call,) = outcome.calls
    assert (call.provider, call.outcome, call.tier) == ("offline", "ok", "executor")


def test_sentences_are_chosen_by_meaning(offline: OfflineExecutor, passages: list[Passage]) -> None:
    # Same passages, same scores; only the question differs.
    outcome = offline.draft("How do I reset my password?", with_scores(passages, 0.5, 0.5, 0.5))

    assert outcome.draft is not None
    quotes = " ".join(e.quote for e in outcome.draft.evidence)
    assert "reset your password" in quotes
    assert "refund" not in quotes.lower()


def test_confidence_rises_with_retrieval_scores(
    offline: OfflineExecutor, passages: list[Passage]
) -> None:
    question = "How long do I have to ask for a refund?"
    levels = [(0.2, 0.1, 0.1), (0.5, 0.3, 0.2), (0.9, 0.6, 0.4)]

    confidences = []
    for scores in levels:
        draft = offline.draft(question, with_scores(passages, *scores)).draft
        assert draft is not None
        confidences.append(draft.confidence)

    assert confidences == sorted(confidences)
    assert len(set(confidences)) == 3
    assert all(0.0 <= c <= 1.0 for c in confidences)


def test_confidence_formula_is_the_similarity_weighted_mean_score() -> None:
    assert confidence([(0.6, 0.9), (0.2, 0.5)]) == pytest.approx((0.6 * 0.9 + 0.2 * 0.5) / 0.8)
    assert confidence([(-0.1, 0.4), (0.0, 0.8)]) == pytest.approx(0.6)  # no positive weight
    assert confidence([]) == 0.0


def test_the_same_input_gives_the_same_draft(
    offline: OfflineExecutor, passages: list[Passage]
) -> None:
    first = offline.draft("Can annual plans be refunded?", passages).draft
    second = offline.draft("Can annual plans be refunded?", list(reversed(passages))).draft

    assert first == second


def test_no_passages_escalates_with_a_reason(offline: OfflineExecutor) -> None:
    draft = offline.draft("What is the meaning of life?", []).draft

    assert draft is not None
    assert draft.escalate
    assert draft.escalate_reason == "no knowledge-base passages were retrieved for this question"
    assert draft.evidence == []
    assert draft.confidence == 0.0


def test_passages_without_quotable_sentences_escalate(
    offline: OfflineExecutor, passages: list[Passage]
) -> None:
    headings_only = passages[0].model_copy(update={"text": "# Refunds\n\n## Window\n\n```\nx\n```"})

    draft = offline.draft("refund?", [headings_only]).draft

    assert draft is not None
    assert draft.escalate
    assert "no quotable sentences" in (draft.escalate_reason or "")


def test_split_sentences_keeps_the_passage_words() -> None:
    text = (
        "# Title\n\nFirst sentence is here. Second one\nwraps a line!\n\n"
        "- A list item with words\n- ok\n\n| Plan | Price |\n|---|---|\n| Pro plan | 10 |\n\n"
        "```\ncode is skipped here\n```\n<!-- a note for editors only -->"
    )

    assert split_sentences(text) == [
        "First sentence is here.",
        "Second one wraps a line!",
        "A list item with words",
        "| Plan | Price |",
        "| Pro plan | 10 |",
    ]
