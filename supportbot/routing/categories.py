"""Which policy categories a question belongs to: by meaning and by keywords.

**By meaning.** Each category gets a *prototype* vector: the normalised sum of its
description's embedding and the normalised mean of its examples' embeddings. The description
states the rule in document language (comparable with knowledge-base passages); the examples
show how askers phrase it; the prototype weighs both equally. The question's cosine
similarity to the prototype is the category's ``score``.

The knowledge base is the routine lane, so the category is compared with the best retrieval
score (``routine_score``): a category matches by meaning when

* ``score >= routine_score + thresholds.category_margin`` (closer to the risk topic than to
  anything the knowledge base says; with the default margin 0 a tie escalates, because the
  cheap tier is never punished for escalating) and ``score >= thresholds.category_floor``
  (at least as related as an answerable question is to the knowledge base), or
* the question is a near-paraphrase of one of the category's examples (closest example
  similarity ``>= thresholds.category_strong_score``), whatever the knowledge base holds.

**By keyword.** Any of the category's keywords in the question (see
:mod:`supportbot.routing.keywords`) matches it: an explicit, explainable trigger.

The policy's texts are embedded once per (embedder, policy content) and cached.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from supportbot.retrieval.types import Embedder, RetrievalResult, Vectors
from supportbot.routing.keywords import Keyword, question_stems
from supportbot.routing.policy import EscalateTo, Policy


class CategoryEvidence(BaseModel):
    """How one policy category relates to a question, and why it matched (if it did)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    escalate_to: EscalateTo
    score: float  # cosine similarity to the category prototype
    closest_example: str  # the example (or the description) most similar to the question
    closest_score: float
    keywords: list[str] = Field(default_factory=list)  # matched keywords, as in the policy
    by_meaning: bool = False
    by_keyword: bool = False

    @property
    def matched(self) -> bool:
        return self.by_meaning or self.by_keyword


class CategoryMatch(BaseModel):
    """Per-category evidence for one question, most relevant first."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    categories: list[CategoryEvidence]
    routine_score: float  # top retrieval score the categories were compared with
    scope_score: float | None = None  # similarity to the policy's scope texts, if any

    @property
    def matched(self) -> list[CategoryEvidence]:
        return [c for c in self.categories if c.matched]

    @property
    def best(self) -> CategoryEvidence | None:
        """The matched category with the highest score (keyword-only matches after)."""
        matched = self.matched
        return matched[0] if matched else None

    @property
    def best_score(self) -> float:
        return max((c.score for c in self.categories), default=0.0)

    @property
    def relatedness(self) -> float:
        """How related the question is to anything the bot knows: the knowledge base, the
        scope, or a category (by prototype; one similar example alone is not enough)."""
        return max(self.routine_score, self.best_score, self.scope_score or 0.0)

    def get(self, name: str) -> CategoryEvidence | None:
        return next((c for c in self.categories if c.name == name), None)


@dataclass(frozen=True)
class CategoryVectors:
    """The embedded texts of one category."""

    name: str
    texts: tuple[str, ...]  # description first, then the examples
    vectors: Vectors  # one row per text
    prototype: Vectors
    keywords: tuple[Keyword, ...]


@dataclass(frozen=True)
class PolicyVectors:
    """Everything of a policy the matcher compares questions with."""

    categories: tuple[CategoryVectors, ...]
    scope: Vectors | None  # one row per scope text


_CACHE: dict[tuple[str, str], PolicyVectors] = {}
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 16


def _normalise(vector: Vectors) -> Vectors:
    norm = float(np.linalg.norm(vector))
    out: Vectors = (vector / norm if norm > 0 else vector).astype(np.float32)
    return out


def _embed_policy(policy: Policy, embedder: Embedder) -> PolicyVectors:
    texts: list[str] = []
    spans: list[tuple[str, int, int]] = []
    for name, category in policy.categories.items():
        start = len(texts)
        texts.append(category.description)
        texts.extend(category.examples)
        spans.append((name, start, len(texts)))
    scope_texts = policy.scope.texts if policy.scope else []
    all_vectors = embedder.embed_documents([*texts, *scope_texts])
    categories = []
    for name, start, end in spans:
        vectors = all_vectors[start:end]
        prototype = _normalise(vectors[0] + _normalise(vectors[1:].mean(axis=0)))
        categories.append(
            CategoryVectors(
                name=name,
                texts=tuple(texts[start:end]),
                vectors=vectors,
                prototype=prototype,
                keywords=tuple(Keyword.compile(k) for k in policy.categories[name].keywords),
            )
        )
    scope = all_vectors[len(texts) :] if scope_texts else None
    return PolicyVectors(categories=tuple(categories), scope=scope)


def policy_vectors(policy: Policy, embedder: Embedder) -> PolicyVectors:
    """The policy's embedded texts, computed once per (embedder, policy content)."""
    key = (embedder.name, policy.fingerprint)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
    if cached is not None:
        return cached
    computed = _embed_policy(policy, embedder)
    with _CACHE_LOCK:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = computed
    return computed


class CategoryMatcher:
    """Matches questions to a policy's categories (see the module docstring)."""

    def __init__(self, policy: Policy, embedder: Embedder) -> None:
        self.policy = policy
        self._embedder = embedder
        self._vectors = policy_vectors(policy, embedder)

    def match(
        self,
        question: str,
        retrieval: RetrievalResult | None = None,
        *,
        question_vector: Vectors | None = None,
    ) -> CategoryMatch:
        """Evidence for every category; ``retrieval`` supplies the routine lane's score."""
        vector = (
            question_vector if question_vector is not None else self._embedder.embed_query(question)
        )
        routine_score = retrieval.top_score if retrieval is not None else 0.0
        return score_categories(
            self.policy, self._vectors, question, vector, routine_score=routine_score
        )

    def match_many(
        self, questions: Sequence[str], routine_scores: Sequence[float]
    ) -> list[CategoryMatch]:
        """Batch form for evaluation: one embedding call for all questions."""
        vectors = self._embedder.embed_documents(list(questions))
        return [
            score_categories(self.policy, self._vectors, q, v, routine_score=s)
            for q, v, s in zip(questions, vectors, routine_scores, strict=True)
        ]


def score_categories(
    policy: Policy,
    vectors: PolicyVectors,
    question: str,
    question_vector: Vectors,
    *,
    routine_score: float,
) -> CategoryMatch:
    thresholds = policy.thresholds
    stems = question_stems(question)
    evidence: list[CategoryEvidence] = []
    for category in vectors.categories:
        config = policy.categories[category.name]
        score = float(category.prototype @ question_vector)
        similarities = category.vectors @ question_vector
        closest = int(np.argmax(similarities))
        closest_score = float(similarities[closest])
        keywords = [k.text for k in category.keywords if k.found_in(stems)]
        by_meaning = (
            score >= thresholds.category_floor
            and score >= routine_score + thresholds.category_margin
        ) or closest_score >= thresholds.category_strong_score
        evidence.append(
            CategoryEvidence(
                name=category.name,
                escalate_to=config.escalate_to,
                score=round(score, 4),
                closest_example=category.texts[closest],
                closest_score=round(closest_score, 4),
                keywords=keywords,
                by_meaning=by_meaning,
                by_keyword=bool(keywords),
            )
        )
    evidence.sort(key=lambda c: (not c.matched, not c.by_meaning, -c.score))
    scope_score = (
        float(np.max(vectors.scope @ question_vector)) if vectors.scope is not None else None
    )
    return CategoryMatch(
        categories=evidence,
        routine_score=round(routine_score, 4),
        scope_score=None if scope_score is None else round(scope_score, 4),
    )
