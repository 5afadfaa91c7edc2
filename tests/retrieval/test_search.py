"""Search quality and semantics on the real MiniLM embedder and the real Chroma."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from retrieval_helpers import write_kb

from supportbot.retrieval.embedders import MiniLMEmbedder
from supportbot.retrieval.index import KnowledgeIndex
from supportbot.retrieval.search import KnowledgeRetriever, SearchMode


@pytest.fixture
def index(
    kb: Path, make_index: Callable[..., KnowledgeIndex], embedder: MiniLMEmbedder
) -> KnowledgeIndex:
    built = make_index(embedder)
    built.update(kb)
    return built


def test_the_same_passage_scores_the_same_whichever_mode_ranked_it(index: KnowledgeIndex) -> None:
    query = "are annual plans refunded within 30 days of purchase"
    by_mode = {
        mode: {
            p.chunk_id: p.score
            for p in KnowledgeRetriever(index, mode=mode).retrieve(query, 6).passages
        }
        for mode in SearchMode
    }

    shared = set(by_mode[SearchMode.VECTOR]) & set(by_mode[SearchMode.LEXICAL])
    assert shared
    for cid in shared:
        assert by_mode[SearchMode.VECTOR][cid] == pytest.approx(
            by_mode[SearchMode.LEXICAL][cid], abs=1e-4
        )
        assert by_mode[SearchMode.HYBRID][cid] == pytest.approx(
            by_mode[SearchMode.VECTOR][cid], abs=1e-4
        )


def test_score_matches_a_direct_cosine(index: KnowledgeIndex, embedder: MiniLMEmbedder) -> None:
    query = "the SAML signing certificate has expired"
    top = KnowledgeRetriever(index).retrieve(query, 1).passages[0]
    chunk = next(c for c in index.read(index.current_chunks)[0] if c.chunk_id == top.chunk_id)
    embed_text = f"Single sign-on > Troubleshooting\n{chunk.text}"

    expected = float(embedder.embed_documents([embed_text])[0] @ embedder.embed_query(query))

    assert top.heading == "Single sign-on > Troubleshooting"
    assert top.score == pytest.approx(expected, abs=1e-3)


def test_unrelated_questions_score_low_and_related_ones_high(index: KnowledgeIndex) -> None:
    retriever = KnowledgeRetriever(index)

    related = retriever.retrieve("can we get a refund on our annual subscription", 3)
    unrelated = retriever.retrieve("what is the best pizza topping", 3)

    assert related.top_score > 0.5
    assert unrelated.top_score < 0.3
    assert related.passages[0].source == "billing/refunds.md"


def test_hybrid_finds_an_exact_error_code(index: KnowledgeIndex) -> None:
    passages = KnowledgeRetriever(index).retrieve("SSO-402", 2).passages

    assert (passages[0].source, passages[0].heading) == (
        "accounts/sso.md",
        "Single sign-on > Troubleshooting",
    )
    assert (passages[0].line_start, passages[0].line_end) == (8, 10)


def test_passages_per_document_are_capped_and_documents_ranked_once(index: KnowledgeIndex) -> None:
    capped = KnowledgeRetriever(index, max_per_document=1).retrieve("refund invoice", 3).passages
    docs = KnowledgeRetriever(index).rank_documents("refund invoice", 3)

    assert len({p.doc_id for p in capped}) == len(capped) == 3
    assert docs[0].doc_id == "billing/refunds"
    assert len({d.doc_id for d in docs}) == len(docs) == 3
    assert all(0.0 <= d.score <= 1.0 for d in docs)


def test_a_retriever_sees_a_reindex_done_in_the_same_process(
    index: KnowledgeIndex, kb: Path
) -> None:
    retrievers = [KnowledgeRetriever(index, mode=mode) for mode in SearchMode]
    query = "how do I enable the audit log export to our SIEM"
    before = [r.retrieve(query, 1).passages[0].source for r in retrievers]

    audit = "# Audit log\n\nStream the audit log to your SIEM (Splunk, Datadog) from Settings.\n"
    write_kb(kb, {"security/audit-log.md": audit})
    index.update(kb)

    assert "security/audit-log.md" not in before
    after = [r.retrieve(query, 1).passages[0].source for r in retrievers]
    assert after == ["security/audit-log.md"] * 3


def test_empty_query_returns_nothing(index: KnowledgeIndex) -> None:
    assert KnowledgeRetriever(index).retrieve("   ", 5).passages == []
    assert np.isfinite(KnowledgeRetriever(index).retrieve("?", 5).top_score)
