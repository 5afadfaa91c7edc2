"""Builders for router tests, and a small in-memory retriever (the Retriever protocol)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np

from supportbot.llm.types import Draft, Evidence, ExecutorOutcome
from supportbot.retrieval.types import Embedder, Passage, RetrievalResult, Vectors
from supportbot.routing.categories import CategoryEvidence, CategoryMatch
from supportbot.routing.policy import EscalateTo, Policy, parse_policy

POLICY_YAML = """
scope:
  description: "Acme, a project tracking app: accounts, billing, plans and integrations."
categories:
  refund_exception:
    description: "Refunds outside the standard window, partial refunds, chargebacks."
    examples: ["I was charged twice, I want my money back", "Can I get a refund after 60 days?"]
    keywords: ["chargeback"]
    escalate_to: human
  enterprise_contract:
    description: "Enterprise contract terms, the MSA, custom pricing."
    examples: ["Does our MSA override the refund policy?"]
    keywords: ["MSA"]
    escalate_to: frontier
thresholds:
  min_retrieval_score: 0.3
  min_confidence: 0.6
  max_model_failures: 2
budget:
  frontier_calls_per_day: 10
channels:
  C0LEGAL: {escalate_to: human, note: "legal answers only"}
  vip: {auto_answer: false}
  sales: {escalate_to: frontier, decline_off_topic: false}
"""


def policy(yaml_text: str = POLICY_YAML) -> Policy:
    return parse_policy(yaml_text, "test-policy.yaml")


def passage(
    text: str = "Refunds are possible within 30 days of the first payment.",
    *,
    doc: str = "billing/refunds",
    score: float = 0.7,
    index: int = 0,
) -> Passage:
    return Passage(
        chunk_id=f"{doc}#{index}",
        doc_id=doc,
        source=f"{doc}.md",
        heading="",
        line_start=1,
        line_end=3,
        text=text,
        score=score,
    )


def retrieval(*passages: Passage, query: str = "q") -> RetrievalResult:
    return RetrievalResult(query=query, passages=list(passages))


def evidence(
    name: str,
    escalate_to: EscalateTo,
    *,
    score: float = 0.2,
    by_meaning: bool = False,
    keywords: tuple[str, ...] = (),
) -> CategoryEvidence:
    return CategoryEvidence(
        name=name,
        escalate_to=escalate_to,
        score=score,
        closest_example="an example",
        closest_score=score,
        keywords=list(keywords),
        by_meaning=by_meaning,
        by_keyword=bool(keywords),
    )


def category_match(
    *categories: CategoryEvidence, routine_score: float = 0.7, scope_score: float | None = None
) -> CategoryMatch:
    if not categories:
        categories = (
            evidence("refund_exception", "human"),
            evidence("enterprise_contract", "frontier"),
        )
    ordered = sorted(categories, key=lambda c: (not c.matched, -c.score))
    return CategoryMatch(categories=ordered, routine_score=routine_score, scope_score=scope_score)


def draft(
    *,
    confidence: float = 0.9,
    escalate: bool = False,
    escalate_reason: str | None = None,
    classification: str = "billing",
) -> Draft:
    return Draft(
        classification=classification,
        evidence=[Evidence(source="billing/refunds.md", quote="Refunds are possible")],
        draft_response="You can get a refund within 30 days.",
        confidence=confidence,
        escalate=escalate,
        escalate_reason=escalate_reason,
    )


def outcome(d: Draft | None = None, **fields: object) -> ExecutorOutcome:
    return ExecutorOutcome.model_validate({"draft": d, **fields})


class InMemoryRetriever:
    """Cosine search over Markdown sections (one chunk per heading), for tests."""

    def __init__(self, embedder: Embedder, documents: Mapping[str, str]) -> None:
        self._embedder = embedder
        self._chunks: list[tuple[str, str, str]] = []  # doc_id, heading, text
        for doc_id, markdown in documents.items():
            for heading, text in _sections(markdown):
                self._chunks.append((doc_id, heading, text))
        texts = [f"{heading}\n{text}" for _, heading, text in self._chunks]
        self._vectors = embedder.embed_documents(texts)

    def retrieve(self, query: str, k: int) -> RetrievalResult:
        scores = self._vectors @ self._embedder.embed_query(query)
        order = np.argsort(-scores)[:k]
        passages = [
            Passage(
                chunk_id=f"{self._chunks[i][0]}#{i}",
                doc_id=self._chunks[i][0],
                source=f"{self._chunks[i][0]}.md",
                heading=self._chunks[i][1],
                line_start=1,
                line_end=1,
                text=self._chunks[i][2],
                score=float(min(1.0, max(0.0, scores[i]))),
            )
            for i in order
        ]
        return RetrievalResult(query=query, passages=passages)


def _sections(markdown: str) -> list[tuple[str, str]]:
    sections: list[tuple[str, str]] = []
    heading, lines = "", []
    for line in markdown.splitlines():
        found = re.match(r"#+\s+(.*)", line)
        if found:
            if any(x.strip() for x in lines):
                sections.append((heading, " ".join(x.strip() for x in lines if x.strip())))
            heading, lines = found.group(1), []
        else:
            lines.append(line)
    if any(x.strip() for x in lines):
        sections.append((heading, " ".join(x.strip() for x in lines if x.strip())))
    return sections


class TableEmbedder:
    """An embedder with hand-made vectors: each known text maps to a given direction.

    Lets tests set exact similarities between a question, a category's texts and passages.
    """

    def __init__(self, table: Mapping[str, Sequence[float]], name: str = "table") -> None:
        self._table = {text: _unit(vector) for text, vector in table.items()}
        self._name = name
        self._dimension = len(next(iter(self._table.values())))

    @property
    def name(self) -> str:
        return f"{self._name}-{id(self)}"  # never share the policy cache between tables

    @property
    def dimension(self) -> int:
        return self._dimension

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        return np.stack([self._table[t] for t in texts]).astype(np.float32)

    def embed_query(self, text: str) -> Vectors:
        return self._table[text]


def _unit(vector: Sequence[float]) -> Vectors:
    array = np.asarray(vector, dtype=np.float32)
    out: Vectors = (array / np.linalg.norm(array)).astype(np.float32)
    return out
