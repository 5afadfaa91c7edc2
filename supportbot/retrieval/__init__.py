"""Indexing and search of the Markdown knowledge base.

Wiring for the rest of the product (the CLI, the pipeline, the Slack app and the jobs)::

    embedder = build_embedder(settings)
    index = open_index(settings, embedder)        # index.update(settings.knowledge_dir)
    retriever = build_retriever(settings, embedder)
    result = retriever.retrieve("how do refunds work?", k=5)

Every index location has one shared connection per process, so a retriever sees a
reindex done by the same process (and, for the embedded Chroma, by other processes) on
its next query.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from supportbot.errors import ConfigurationError

if TYPE_CHECKING:
    from supportbot.retrieval.index import KnowledgeIndex
    from supportbot.retrieval.search import KnowledgeRetriever, SearchMode
    from supportbot.retrieval.types import Embedder
    from supportbot.settings import Settings

__all__ = ["build_embedder", "build_retriever", "open_index"]

MINILM_BATCH_SIZE = 8


def build_embedder(settings: Settings) -> Embedder:
    """The configured embedder: ``minilm`` (bundled, offline), ``ollama`` or ``hashing``."""
    from supportbot.retrieval import embedders

    choice = settings.embedder.strip().lower()
    if choice == "minilm":
        # Small batches: less padding and a far smaller onnxruntime arena (~0.4 GB peak
        # RSS instead of ~0.75 GB at 32) at the same or better throughput on 2 cores.
        return embedders.MiniLMEmbedder(batch_size=MINILM_BATCH_SIZE)
    if choice == "ollama":
        if not settings.ollama_host:
            raise ConfigurationError(
                "SUPPORTBOT_EMBEDDER", "'ollama' needs OLLAMA_HOST (and OLLAMA_EMBED_MODEL)"
            )
        return embedders.OllamaEmbedder(
            settings.ollama_host,
            settings.ollama_embed_model,
            timeout=settings.ollama_timeout_seconds,
        )
    if choice == "hashing":
        return embedders.HashingEmbedder()
    raise ConfigurationError(
        "SUPPORTBOT_EMBEDDER", f"unknown embedder {settings.embedder!r}; use minilm or ollama"
    )


def open_index(settings: Settings, embedder: Embedder) -> KnowledgeIndex:
    """The knowledge index at the configured location (embedded Chroma or a server)."""
    from supportbot.retrieval.chroma import connect
    from supportbot.retrieval.index import KnowledgeIndex

    return KnowledgeIndex(
        connect(settings),
        embedder,
        collection_name=settings.chroma_collection,
        lock_dir=settings.data_dir,
    )


def build_retriever(
    settings: Settings, embedder: Embedder, *, mode: SearchMode | str = "hybrid"
) -> KnowledgeRetriever:
    """The default retriever (hybrid BM25 + vector); ``mode`` picks a variant."""
    from supportbot.retrieval.search import KnowledgeRetriever

    return KnowledgeRetriever(open_index(settings, embedder), mode=mode)
