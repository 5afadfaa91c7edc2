"""Search over the knowledge index: vector, lexical (BM25) and hybrid.

Ranking
    ``hybrid`` (the default) fuses two rankings of the same committed index state with
    reciprocal rank fusion (``sum 1 / (rrf_k + rank)``): the vector ranking from Chroma
    and a BM25 ranking (``bm25s``) over each chunk's title, heading path and text. BM25
    catches exact terms a small embedder blurs (error codes, product names, "SCIM");
    vectors catch paraphrases. ``vector`` and ``lexical`` are kept for comparison
    (``scripts/bench_retrieval.py``).

What ``Passage.score`` means
    The cosine similarity between the query's and the passage's embeddings, clipped to
    [0, 1], whatever mode ranked the passage. It does not depend on the other results or
    on the mode, so it is comparable across queries and usable as an absolute "is there
    any grounded evidence" signal (the router's ``min_retrieval_score``). With the
    bundled MiniLM, an on-topic passage typically scores 0.45-0.8 and unrelated text
    0.0-0.25. Ranking may place a passage with a lower score above one with a higher
    score when BM25 supports it; ``RetrievalResult.top_score`` is the max either way.

Consistency
    Every search runs inside :meth:`KnowledgeIndex.read`: it uses one committed manifest,
    drops chunks the manifest does not name, and is retried when a commit interleaves.
    The BM25 side is rebuilt (reusing token lists of unchanged chunks) whenever the
    committed state changes, so both sides always describe the same state.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from supportbot.retrieval.chroma import IndexState
from supportbot.retrieval.index import IndexSnapshot, KnowledgeIndex, StoredChunk
from supportbot.retrieval.types import Passage, RetrievalResult, Vectors

if TYPE_CHECKING:
    import bm25s
    from chromadb.api.models.Collection import Collection


class SearchMode(StrEnum):
    VECTOR = "vector"
    LEXICAL = "lexical"
    HYBRID = "hybrid"


@dataclass(frozen=True)
class DocumentHit:
    doc_id: str
    score: float  # the best passage score of the document (cosine, see module docstring)


@dataclass(frozen=True)
class _Candidate:
    chunk: StoredChunk
    cosine: float
    fused: float


# -- lexical side ----------------------------------------------------------------------
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return str(_stemmer().stem(word))


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    from nltk.stem.snowball import SnowballStemmer  # pure Python, needs no NLTK data

    return SnowballStemmer("english")


def lexical_tokens(text: str) -> list[str]:
    """Lower-cased, stop-word-free, stemmed words (shared by documents and queries)."""
    stop = _stopwords()
    return [_stem(w) for w in _WORD.findall(text.lower()) if w not in stop]


class _LexicalIndex:
    """BM25 over the chunks of one committed index state."""

    def __init__(
        self, state: IndexState, chunks: list[StoredChunk], tokens: dict[str, list[str]]
    ) -> None:
        import bm25s

        self.state = state
        self.chunks = chunks
        self.tokens = tokens
        corpus = [tokens[c.chunk_id] or [""] for c in chunks]
        self._bm25: bm25s.BM25 | None = None
        if chunks:
            self._bm25 = bm25s.BM25()
            self._bm25.index(corpus, show_progress=False)

    def search(self, query: str, n: int) -> list[tuple[int, float]]:
        """(position in ``chunks``, BM25 score) of the best ``n`` chunks with a match."""
        if self._bm25 is None:
            return []
        vocab = self._bm25.vocab_dict
        terms = [t for t in lexical_tokens(query) if t in vocab]
        if not terms:
            return []
        scores = np.asarray(self._bm25.get_scores(terms), dtype=np.float32)
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]


# -- the retriever ---------------------------------------------------------------------
class KnowledgeRetriever:
    """The :class:`~supportbot.retrieval.types.Retriever` over a :class:`KnowledgeIndex`."""

    def __init__(
        self,
        index: KnowledgeIndex,
        *,
        mode: SearchMode | str = SearchMode.HYBRID,
        candidates: int = 40,
        rrf_k: int = 60,
        max_per_document: int | None = 2,
    ) -> None:
        self.index = index
        self.mode = SearchMode(mode)
        self._candidates = candidates
        self._rrf_k = rrf_k
        self._max_per_document = max_per_document
        self._lexical: _LexicalIndex | None = None
        self._lexical_lock = threading.Lock()

    # -- Retriever protocol ------------------------------------------------------
    def retrieve(self, query: str, k: int) -> RetrievalResult:
        """The ``k`` best passages, at most ``max_per_document`` from one document."""
        started = time.perf_counter()
        ranked = self._ranked(query, max(k, self._candidates))
        passages: list[Passage] = []
        per_doc: dict[str, int] = {}
        for cand in ranked:
            doc = cand.chunk.doc_id
            if self._max_per_document is not None and per_doc.get(doc, 0) >= self._max_per_document:
                continue
            per_doc[doc] = per_doc.get(doc, 0) + 1
            passages.append(_passage(cand))
            if len(passages) == k:
                break
        return RetrievalResult(
            query=query, passages=passages, seconds=time.perf_counter() - started
        )

    def rank_documents(self, query: str, k: int) -> list[DocumentHit]:
        """Documents in order of their best-ranked passage (for evaluation)."""
        hits: dict[str, DocumentHit] = {}
        for cand in self._ranked(query, max(self._candidates, k * 4)):
            doc = cand.chunk.doc_id
            if doc not in hits:
                hits[doc] = DocumentHit(doc_id=doc, score=_clip(cand.cosine))
                if len(hits) == k:
                    break
        return list(hits.values())

    # -- ranking -------------------------------------------------------------------
    def _ranked(self, query: str, n: int) -> list[_Candidate]:
        if not query.strip():
            return []
        vector = self.index.embedder.embed_query(query)

        def search(collection: Collection, snapshot: IndexSnapshot) -> list[_Candidate]:
            return self._search(collection, snapshot, query, vector, n)

        return self.index.read(search)[0]

    def _search(
        self,
        collection: Collection,
        snapshot: IndexSnapshot,
        query: str,
        vector: Vectors,
        n: int,
    ) -> list[_Candidate]:
        dense: list[tuple[StoredChunk, float]] = []
        if self.mode is not SearchMode.LEXICAL:
            dense = _vector_search(collection, snapshot, vector, n)
        lexical: list[StoredChunk] = []
        if self.mode is not SearchMode.VECTOR:
            lex = self._lexical_for(collection, snapshot)
            lexical = [lex.chunks[i] for i, _ in lex.search(query, n)]
        cosine = {chunk.chunk_id: sim for chunk, sim in dense}
        missing = [c.chunk_id for c in lexical if c.chunk_id not in cosine]
        cosine.update(_cosines(collection, missing, vector))
        fused: dict[str, float] = {}
        chunks: dict[str, StoredChunk] = {}
        for ranking in ([c for c, _ in dense], lexical):
            for rank, chunk in enumerate(ranking):
                fused[chunk.chunk_id] = fused.get(chunk.chunk_id, 0.0) + 1.0 / (
                    self._rrf_k + rank + 1
                )
                chunks[chunk.chunk_id] = chunk
        order = sorted(fused, key=lambda cid: (-fused[cid], -cosine.get(cid, 0.0), cid))
        return [
            _Candidate(chunk=chunks[cid], cosine=cosine.get(cid, 0.0), fused=fused[cid])
            for cid in order
        ]

    def _lexical_for(self, collection: Collection, snapshot: IndexSnapshot) -> _LexicalIndex:
        with self._lexical_lock:
            current = self._lexical
            if current is not None and current.state == snapshot.state:
                return current
            chunks = self.index.current_chunks(collection, snapshot)
            known = current.tokens if current is not None else {}
            tokens = {
                c.chunk_id: known.get(c.chunk_id) or lexical_tokens(f"{c.context}\n{c.text}")
                for c in chunks
            }
            self._lexical = _LexicalIndex(snapshot.state, chunks, tokens)
            return self._lexical


def _vector_search(
    collection: Collection, snapshot: IndexSnapshot, vector: Vectors, n: int
) -> list[tuple[StoredChunk, float]]:
    """The ``n`` nearest current chunks; asks for more while stale chunks crowd them out."""
    ask = n
    while True:
        result = collection.query(
            query_embeddings=vector[None, :],
            n_results=ask,
            include=["documents", "metadatas", "distances"],
        )
        ids = result["ids"][0]
        docs = (result["documents"] or [[]])[0]
        metas = (result["metadatas"] or [[]])[0]
        dists = (result["distances"] or [[]])[0]
        hits = [
            (StoredChunk.from_record(cid, doc, meta), 1.0 - float(dist))
            for cid, doc, meta, dist in zip(ids, docs, metas, dists, strict=True)
            if snapshot.is_current(meta)
        ]
        if len(hits) >= n or len(ids) < ask:
            return hits[:n]
        ask *= 2


def _cosines(collection: Collection, ids: Sequence[str], vector: Vectors) -> dict[str, float]:
    if not ids:
        return {}
    got = collection.get(ids=list(ids), include=["embeddings"])
    if got["embeddings"] is None or len(got["ids"]) == 0:
        return {}
    matrix = np.asarray(got["embeddings"], dtype=np.float32)
    sims = matrix @ vector.astype(np.float32)
    return {cid: float(s) for cid, s in zip(got["ids"], sims, strict=True)}


def _clip(value: float) -> float:
    return float(min(1.0, max(0.0, value)))


def _passage(cand: _Candidate) -> Passage:
    chunk = cand.chunk
    return Passage(
        chunk_id=chunk.chunk_id,
        doc_id=chunk.doc_id,
        source=chunk.source,
        heading=chunk.heading,
        line_start=chunk.line_start,
        line_end=chunk.line_end,
        text=chunk.text,
        score=_clip(cand.cosine),
    )
