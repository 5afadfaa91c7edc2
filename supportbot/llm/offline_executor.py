"""The embedded default executor: deterministic and extractive, no language model.

Used when no ``OLLAMA_HOST`` is configured. It reads the top passages, picks the sentences
closest in meaning to the question (cosine similarity of the configured embedder's vectors)
and returns them verbatim as the answer and as the evidence, with their sources. It never
writes a sentence of its own about the subject, so it cannot invent anything; the answer says
plainly that it was assembled from the knowledge base without a language model.

Confidence. The extractive executor cannot judge an answer, so it reports how well the
knowledge base matched the question: the retrieval scores of the passages it quotes, weighted
by how close each quoted sentence is to the question::

    confidence = sum(max(sim_i, 0) * score(passage_i)) / sum(max(sim_i, 0))

over the chosen sentences i (``sim_i`` is the sentence's cosine similarity to the question,
``score`` the retrieval score in [0, 1]). With every similarity at or below zero it is the
plain mean of those scores. It rises and falls with the retrieval scores, so the policy's
``min_confidence`` acts as a second retrieval threshold for this executor.

With no passages, or no quotable sentence in them, it escalates with a reason.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from supportbot.llm.sentences import split_sentences
from supportbot.llm.types import ConversationTurn, Draft, Evidence, ExecutorOutcome, ModelCall
from supportbot.retrieval.types import Embedder, Passage

NO_MODEL_NOTE = (
    "This answer was assembled automatically from our knowledge base without a language "
    "model: the sentences above are quoted as written in the sources."
)
HOLDING_REPLY = (
    "I could not find this in our knowledge base, so I have passed your question on to "
    "the support team; someone will follow up here."
)


@dataclass(frozen=True)
class _Candidate:
    passage_rank: int
    position: int
    passage: Passage
    sentence: str
    similarity: float


class OfflineExecutor:
    """Extractive drafts from the top passages (see the module docstring)."""

    provider = "offline"

    def __init__(
        self,
        embedder: Embedder,
        *,
        max_passages: int = 3,
        max_sentences: int = 3,
        relative_floor: float = 0.8,
    ) -> None:
        """``relative_floor``: a sentence joins the best one when its similarity to the
        question is at least this fraction of the best sentence's."""
        self._embedder = embedder
        self._max_passages = max_passages
        self._max_sentences = max_sentences
        self._relative_floor = relative_floor

    @property
    def name(self) -> str:
        return f"offline/extractive+{self._embedder.name}"

    def draft(
        self,
        question: str,
        passages: Sequence[Passage],
        *,
        history: Sequence[ConversationTurn] = (),
    ) -> ExecutorOutcome:
        started = time.perf_counter()
        draft = self._draft(question, passages)
        call = ModelCall(
            tier="executor",
            provider=self.provider,
            model=self.name,
            outcome="ok",
            latency_ms=(time.perf_counter() - started) * 1000,
        )
        return ExecutorOutcome(draft=draft, calls=[call])

    def _draft(self, question: str, passages: Sequence[Passage]) -> Draft:
        top = sorted(passages, key=lambda p: p.score, reverse=True)[: self._max_passages]
        if not top:
            return _escalation("no knowledge-base passages were retrieved for this question")
        candidates = self._candidates(question, top)
        if not candidates:
            return _escalation("the retrieved passages contain no quotable sentences")
        chosen = self._choose(candidates)
        evidence = [Evidence(source=c.passage.source, quote=c.sentence) for c in chosen]
        return Draft(
            classification=chosen[0].passage.doc_id,
            evidence=evidence,
            draft_response=_answer(chosen),
            confidence=confidence([(c.similarity, c.passage.score) for c in chosen]),
            escalate=False,
            escalate_reason=None,
        )

    def _candidates(self, question: str, passages: Sequence[Passage]) -> list[_Candidate]:
        units = [
            (rank, position, passage, sentence)
            for rank, passage in enumerate(passages)
            for position, sentence in enumerate(split_sentences(passage.text))
        ]
        if not units:
            return []
        vectors = self._embedder.embed_documents([u[3] for u in units])
        query = self._embedder.embed_query(question)
        similarities = np.asarray(vectors @ query, dtype=np.float64)
        return [
            _Candidate(rank, position, passage, sentence, float(similarity))
            for (rank, position, passage, sentence), similarity in zip(
                units, similarities, strict=True
            )
        ]

    def _choose(self, candidates: list[_Candidate]) -> list[_Candidate]:
        ranked = sorted(candidates, key=lambda c: (-c.similarity, c.passage_rank, c.position))
        best = ranked[0].similarity
        floor = best * self._relative_floor if best > 0 else best
        chosen = [c for c in ranked[: self._max_sentences] if c.similarity >= floor]
        return sorted(chosen, key=lambda c: (c.passage_rank, c.position))


def confidence(pairs: Sequence[tuple[float, float]]) -> float:
    """Similarity-weighted mean retrieval score of the quoted passages (module docstring)."""
    if not pairs:
        return 0.0
    weights = [max(similarity, 0.0) for similarity, _ in pairs]
    total = sum(weights)
    if total == 0:
        value = sum(score for _, score in pairs) / len(pairs)
    else:
        value = sum(w * score for w, (_, score) in zip(weights, pairs, strict=True)) / total
    return round(min(max(value, 0.0), 1.0), 4)


def _answer(chosen: Sequence[_Candidate]) -> str:
    """The quoted sentences and the note; the sources travel as the draft's evidence (every
    surface — Slack, ``ask``, the review post — lists them once, from there)."""
    quoted = "\n".join(f"> {c.sentence}" for c in chosen)
    return f"Here is what our knowledge base says:\n\n{quoted}\n\n_{NO_MODEL_NOTE}_"


def _escalation(reason: str) -> Draft:
    return Draft(
        classification="unknown",
        evidence=[],
        draft_response=HOLDING_REPLY,
        confidence=0.0,
        escalate=True,
        escalate_reason=reason,
    )
