"""Knowledge gaps: questions the knowledge base could not ground, grouped by meaning.

A question has *weak retrieval* when its best passage scored below the policy's
``min_retrieval_score`` or the router gave it the ``weak_retrieval`` signal. Off-topic
questions (the ``off_topic`` signal: unrelated to the knowledge base *and* to every policy
category) are left out: they are not something the knowledge base should cover.

The questions are embedded with the configured :class:`Embedder` and grouped by
agglomerative clustering with **average linkage** on cosine similarity: the two groups whose
members are on average most similar merge, until no two groups reach the threshold
(``SUPPORTBOT_GAP_SIMILARITY``, default 0.55). Average linkage keeps a group together when
its phrasings are related to each other as a whole, without the chaining of single linkage
(A like B, B like C, so A with C). With the bundled MiniLM, paraphrases of one question
typically score 0.55-0.95 against each other and unrelated support questions below 0.35.
Each group is shown with a representative (its medoid: the member most similar, on average,
to the others) and its size.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict

from supportbot.retrieval.types import Embedder
from supportbot.store.records import Question

WEAK_RETRIEVAL = "weak_retrieval"
OFF_TOPIC = "off_topic"
#: At most this many weak questions of a day are grouped (the earliest ones); the clustering
#: is quadratic in memory and cubic at worst in time.
MAX_GAP_QUESTIONS = 500
#: Other phrasings kept per gap, besides the representative.
MAX_EXAMPLES = 3

_MENTION = re.compile(r"<[@!#][^>]*>")


class KnowledgeGap(BaseModel):
    model_config = ConfigDict(extra="forbid")

    representative: str
    count: int
    question_ids: list[str]
    examples: list[str]
    """Up to three other phrasings of the group, in the order they were asked."""


def question_text(question: Question) -> str:
    """The question without Slack mentions (``<@U123>``, ``<!here>``) and extra spaces."""
    return " ".join(_MENTION.sub(" ", question.text).split())


def has_weak_retrieval(question: Question, min_retrieval_score: float) -> bool:
    signals = {reason.signal for reason in question.reasons}
    if OFF_TOPIC in signals:
        return False
    if WEAK_RETRIEVAL in signals:
        return True
    return question.top_score is not None and question.top_score < min_retrieval_score


def group_by_similarity(vectors: npt.NDArray[np.floating], threshold: float) -> list[list[int]]:
    """Average-linkage agglomerative clustering of L2-normalised ``vectors``.

    Returns groups of row indices, largest first (ties: the group whose first member comes
    first), each in ascending order. Deterministic: ties between pairs go to the first pair.
    """
    n = len(vectors)
    if n == 0:
        return []
    matrix = np.asarray(vectors, dtype=np.float64)
    similarity = matrix @ matrix.T
    np.fill_diagonal(similarity, -np.inf)
    sizes = np.ones(n)
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    while len(members) > 1:
        flat = int(np.argmax(similarity))
        a, b = divmod(flat, n)
        if similarity[a, b] < threshold:
            break
        a, b = min(a, b), max(a, b)
        # Lance-Williams update for average linkage: the mean similarity of the merged group
        # to every other group is the size-weighted mean of the two.
        merged = (sizes[a] * similarity[a] + sizes[b] * similarity[b]) / (sizes[a] + sizes[b])
        similarity[a, :] = merged
        similarity[:, a] = merged
        similarity[a, a] = -np.inf
        similarity[b, :] = -np.inf
        similarity[:, b] = -np.inf
        sizes[a] += sizes[b]
        members[a].extend(members.pop(b))
    groups = [sorted(group) for group in members.values()]
    return sorted(groups, key=lambda g: (-len(g), g[0]))


def medoid(vectors: npt.NDArray[np.floating], group: Sequence[int]) -> int:
    """The member of ``group`` with the highest mean similarity to the others."""
    if len(group) == 1:
        return group[0]
    subset = np.asarray(vectors[list(group)], dtype=np.float64)
    totals = (subset @ subset.T).sum(axis=1)
    return group[int(np.argmax(totals))]


def find_knowledge_gaps(
    questions: Sequence[Question],
    embedder: Embedder,
    *,
    min_retrieval_score: float,
    similarity: float,
    limit: int = 5,
) -> tuple[int, list[KnowledgeGap]]:
    """How many questions had weak retrieval, and the ``limit`` largest groups of them."""
    weak = [q for q in questions if has_weak_retrieval(q, min_retrieval_score)]
    considered = [q for q in weak if question_text(q)][:MAX_GAP_QUESTIONS]
    if not considered:
        return len(weak), []
    texts = [question_text(q) for q in considered]
    vectors = embedder.embed_documents(texts)
    gaps: list[KnowledgeGap] = []
    for group in group_by_similarity(vectors, similarity)[:limit]:
        centre = medoid(vectors, group)
        others = [i for i in group if i != centre]
        gaps.append(
            KnowledgeGap(
                representative=texts[centre],
                count=len(group),
                question_ids=[considered[i].id for i in group],
                examples=[texts[i] for i in others[:MAX_EXAMPLES]],
            )
        )
    return len(weak), gaps
