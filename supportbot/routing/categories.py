"""Which policy categories a question belongs to: by meaning and by keywords.

**By meaning.** Each category gets a *prototype* vector: the normalised sum of its
description's embedding and the normalised mean of its examples' embeddings. The description
states the rule in document language (comparable with knowledge-base passages); the examples
show how askers phrase it; the prototype weighs both equally. The question's cosine
similarity to the prototype is the category's ``score``.

The knowledge base is the routine lane, so each category is compared with the best retrieved
passage that is *not* one of the category's own ``sources`` (pages or sections the policy says
document the category's process; see :mod:`supportbot.routing.sources`): its ``lane`` score.
A category matches by meaning on any of three grounds (the reason names which):

* **prototype** — ``score >= lane + thresholds.category_margin`` and ``score >=
  thresholds.category_floor``; when the policy gives the category's ``sources`` (even
  ``[]``), also its *closest example* (``example_score >= lane + margin``). That condition
  keeps topic words from matching on their own: the prototype averages the examples, so
  what they share (the topic: "card", "account", "password") dominates it, while each
  example carries a situation ("my card was stolen"); a question that resembles the topic
  but none of the situations ("my card is bent") is left to the knowledge base. It is only
  sound when the lane is routine, and only ``sources`` say so: when they are not given, the
  best passage may be the very page that documents the risky process, and demanding that an
  example beat it would let that page win (measured: recall on risky questions drops when
  the knowledge base documents them; see ``scripts/eval/README.md``). It adds no parameter.
  With the default margin 0 a tie escalates, because the cheap tier is never punished for
  escalating.
* **source** — the best evidence for the question is one of the category's own pages: the
  retriever ranked a passage from its ``sources`` first, or the best such passage scores at
  least ``lane + margin``; and both that passage and the prototype reach the floor (the
  question is related to the category at all, not merely nearest to one of its pages). A
  help page that documents the risky process (what to do after an account takeover) is
  evidence that the question is about that process, not that it is routine. Without
  ``sources`` this ground never fires and the lane is simply the best passage.
* **paraphrase** — the question is a near-paraphrase of one of the category's texts
  (closest similarity ``>= thresholds.category_strong_score``), whatever the knowledge base
  holds.

A match by meaning is **held back** when the category lists ``routine_examples`` (look-alike
questions the help center answers) and one of them is closer to the question than every
example of the category: question against question, the nearest neighbour decides (a tie
goes to the category). The evidence keeps the routine example, and the router reports it.

**By keyword.** Any of the category's keywords in the question (see
:mod:`supportbot.routing.keywords`) matches it: an explicit, explainable trigger that routine
examples do not hold back.

The policy's texts are embedded once per (embedder, policy content) and cached.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from supportbot.retrieval.types import Embedder, Passage, RetrievalResult, Vectors
from supportbot.routing.keywords import Keyword, question_words
from supportbot.routing.policy import EscalateTo, Policy
from supportbot.routing.sources import SourcePatterns

MatchBasis = Literal["prototype", "source", "paraphrase"]


class OwnPassage(BaseModel):
    """A retrieved passage from one of a category's own ``sources`` that is the question's
    best evidence (ranked first by the retriever, or scoring at least the lane)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str  # path relative to the knowledge dir
    heading: str
    score: float
    pattern: str  # the policy's source pattern that claims it
    first_ranked: bool = False  # the retriever ranked it first (else: it has the top score)


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
    nearest_example: str | None = None  # the closest of the examples (not the description)
    example_score: float | None = None  # its similarity to the question
    lane_score: float | None = None  # best passage outside the category's own sources
    lane_source: str | None = None  # where that passage comes from
    own_passage: OwnPassage | None = None  # an own page that is the best evidence, if any
    basis: list[MatchBasis] = Field(default_factory=list)  # grounds of a match by meaning
    routine_example: str | None = None  # closest of the category's routine examples
    routine_example_score: float | None = None
    held_back: bool = False  # a match by meaning withdrawn: a routine example is closer

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
    sources: SourcePatterns = field(default_factory=SourcePatterns)
    lane_is_routine: bool = False  # the policy said which pages are not routine (sources given)
    routine_texts: tuple[str, ...] = ()
    routine_vectors: Vectors | None = None  # one row per routine example


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
    spans: list[tuple[str, int, int, int]] = []  # name, start, end of own texts, end of routine
    for name, category in policy.categories.items():
        start = len(texts)
        texts.append(category.description)
        texts.extend(category.examples)
        own_end = len(texts)
        texts.extend(category.routine_examples)
        spans.append((name, start, own_end, len(texts)))
    scope_texts = policy.scope.texts if policy.scope else []
    all_vectors = embedder.embed_documents([*texts, *scope_texts])
    categories = []
    for name, start, own_end, end in spans:
        vectors = all_vectors[start:own_end]
        prototype = _normalise(vectors[0] + _normalise(vectors[1:].mean(axis=0)))
        config = policy.categories[name]
        categories.append(
            CategoryVectors(
                name=name,
                texts=tuple(texts[start:own_end]),
                vectors=vectors,
                prototype=prototype,
                keywords=tuple(Keyword.compile(k) for k in config.keywords),
                sources=SourcePatterns.compile(config.sources or []),
                lane_is_routine=config.sources is not None,
                routine_texts=tuple(texts[own_end:end]),
                routine_vectors=all_vectors[own_end:end] if end > own_end else None,
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
        """Evidence for every category; ``retrieval`` is the routine lane (its passages)."""
        vector = (
            question_vector if question_vector is not None else self._embedder.embed_query(question)
        )
        passages = retrieval.passages if retrieval is not None else []
        return score_categories(self.policy, self._vectors, question, vector, passages=passages)

    def match_many(
        self,
        questions: Sequence[str],
        retrievals: Sequence[RetrievalResult | float],
    ) -> list[CategoryMatch]:
        """Batch form for evaluation: one embedding call for all questions.

        ``retrievals`` holds each question's retrieval result, or only its top retrieval
        score (then no passage can be one of a category's sources).
        """
        vectors = self._embedder.embed_documents(list(questions))
        matches = []
        for question, vector, retrieval in zip(questions, vectors, retrievals, strict=True):
            if isinstance(retrieval, RetrievalResult):
                found = score_categories(
                    self.policy, self._vectors, question, vector, passages=retrieval.passages
                )
            else:
                found = score_categories(
                    self.policy, self._vectors, question, vector, routine_score=float(retrieval)
                )
            matches.append(found)
        return matches


def _best(passages: Sequence[Passage]) -> Passage | None:
    return max(passages, key=lambda p: p.score, default=None)


def _split_lane(
    sources: SourcePatterns, passages: Sequence[Passage]
) -> tuple[list[tuple[Passage, str]], Passage | None]:
    """The category's own passages (with the pattern that claims each), and the best of the
    others: the routine lane for this category."""
    own: list[tuple[Passage, str]] = []
    lane: list[Passage] = []
    for passage in passages:
        pattern = sources.owner(passage) if sources else None
        if pattern is None:
            lane.append(passage)
        else:
            own.append((passage, pattern))
    return own, _best(lane)


def _nearest_routine(
    category: CategoryVectors, question_vector: Vectors
) -> tuple[str | None, float | None]:
    """The category's routine example closest to the question, and its similarity."""
    if category.routine_vectors is None:
        return None, None
    similarities = category.routine_vectors @ question_vector
    nearest = int(np.argmax(similarities))
    return category.routine_texts[nearest], float(similarities[nearest])


def _own_evidence(
    own: Sequence[tuple[Passage, str]], *, first: Passage | None, lane: float, margin: float
) -> OwnPassage | None:
    """The category's own passage that is the question's best evidence, if one is.

    "Best" in either of the retriever's two views: the passage it ranked first (its hybrid
    ranking weighs exact terms too), or the best-scoring own passage when it scores at least
    ``lane + margin``, like the prototype.
    """
    for passage, pattern in own:
        if passage is first:
            return _own_passage(passage, pattern, first_ranked=True)
    best = max(own, key=lambda item: item[0].score, default=None)
    if best is not None and best[0].score >= lane + margin:
        return _own_passage(best[0], best[1], first_ranked=False)
    return None


def _own_passage(passage: Passage, pattern: str, *, first_ranked: bool) -> OwnPassage:
    return OwnPassage(
        source=passage.source,
        heading=passage.heading,
        score=round(passage.score, 4),
        pattern=pattern,
        first_ranked=first_ranked,
    )


def score_categories(
    policy: Policy,
    vectors: PolicyVectors,
    question: str,
    question_vector: Vectors,
    *,
    passages: Sequence[Passage] = (),
    routine_score: float | None = None,
) -> CategoryMatch:
    """Evidence for every category (see the module docstring for the rules).

    ``passages`` are the retrieved passages (the routine lane); without passages,
    ``routine_score`` stands for the best one (default 0: nothing retrieved).
    """
    thresholds = policy.thresholds
    margin = thresholds.category_margin
    floor = thresholds.category_floor
    top = _best(passages)
    routine = top.score if top is not None else (routine_score or 0.0)
    found_words = question_words(question)
    evidence: list[CategoryEvidence] = []
    for category in vectors.categories:
        config = policy.categories[category.name]
        score = float(category.prototype @ question_vector)
        similarities = category.vectors @ question_vector
        closest = int(np.argmax(similarities))
        closest_score = float(similarities[closest])
        nearest = 1 + int(np.argmax(similarities[1:]))
        example_score = float(similarities[nearest])

        own, lane_best = _split_lane(category.sources, passages)
        lane = lane_best.score if lane_best is not None else (0.0 if passages else routine)
        own_evidence = _own_evidence(
            own, first=passages[0] if passages else None, lane=lane, margin=margin
        )

        basis: list[MatchBasis] = []
        agrees = not category.lane_is_routine or example_score >= lane + margin
        if score >= floor and score >= lane + margin and agrees:
            basis.append("prototype")
        if own_evidence is not None and min(own_evidence.score, score) >= floor:
            basis.append("source")
        if closest_score >= thresholds.category_strong_score:
            basis.append("paraphrase")

        routine_example, routine_example_score = _nearest_routine(category, question_vector)
        held_back = (
            bool(basis)
            and routine_example_score is not None
            and routine_example_score > example_score
        )
        keywords = [k.text for k in category.keywords if k.found_in(found_words)]
        evidence.append(
            CategoryEvidence(
                name=category.name,
                escalate_to=config.escalate_to,
                score=round(score, 4),
                closest_example=category.texts[closest],
                closest_score=round(closest_score, 4),
                keywords=keywords,
                by_meaning=bool(basis) and not held_back,
                by_keyword=bool(keywords),
                nearest_example=category.texts[nearest],
                example_score=round(example_score, 4),
                lane_score=round(lane, 4),
                lane_source=lane_best.source if lane_best is not None else None,
                own_passage=own_evidence,
                basis=basis,
                routine_example=routine_example,
                routine_example_score=(
                    None if routine_example_score is None else round(routine_example_score, 4)
                ),
                held_back=held_back,
            )
        )
    evidence.sort(key=lambda c: (not c.matched, not c.by_meaning, -c.score))
    scope_score = (
        float(np.max(vectors.scope @ question_vector)) if vectors.scope is not None else None
    )
    return CategoryMatch(
        categories=evidence,
        routine_score=round(routine, 4),
        scope_score=None if scope_score is None else round(scope_score, 4),
    )
