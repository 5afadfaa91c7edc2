"""The knowledge index: Markdown chunks and their vectors in one Chroma collection.

Incremental by content hash
    Each file's hash (of its bytes and the chunker's settings) is kept in a *manifest*
    ``{doc_id: [hash, chunk count]}``. An unchanged file costs a read and a hash, no
    embedding; a file whose content already exists under another name (a rename or a
    copy) reuses the stored vectors; a changed file replaces its chunks; a file that is
    gone (deleted or renamed) leaves nothing behind. ``full=True`` re-chunks and re-embeds
    everything and recreates the collection when the embedder changed.

What readers see while the index changes
    A chunk's id carries its file's content hash (``"{doc_id}@{hash}#{n}"``), so new
    and old versions of a file live side by side. The manifest and a *generation*
    counter are the collection's metadata, replaced in one atomic write. The writer

    1. adds the chunks of new and changed files (old versions stay),
    2. commits: writes the new manifest with generation + 1 (a single metadata write),
    3. deletes every chunk that the new manifest does not name (superseded versions,
       removed files, and orphans of an earlier run that crashed before committing).

    A reader reads the manifest, queries, keeps only chunks whose ``(doc_id, hash)``
    the manifest names, and re-reads the generation: if it moved, a commit (and maybe
    deletions) happened during the query and the read is retried. So every answer is
    computed from exactly one committed manifest: a file's old chunks or its new ones,
    never a mix, never none. A failed run leaves the last commit in force.

One writer at a time
    Writers take an exclusive file lock in the data dir (and a process lock), so two
    ``index`` runs sharing a data dir queue up instead of interleaving.

The embedder's ``name`` and ``dimension`` are recorded; opening the index with another
embedder raises :class:`~supportbot.errors.EmbedderMismatch`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from supportbot.errors import EmbedderMismatch, KnowledgeIndexError, SupportBotError
from supportbot.retrieval.chroma import ChromaConnection, IndexState
from supportbot.retrieval.chunking import Chunk, DocumentError, MarkdownChunker
from supportbot.retrieval.sources import KnowledgeFile, read_bytes, scan_knowledge_dir
from supportbot.retrieval.types import Embedder, FailedFile, IndexReport, Vectors

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

T = TypeVar("T")

SCHEMA_VERSION = 1
_META_SCHEMA = "supportbot_schema"
_META_EMBEDDER = "embedder"
_META_DIMENSION = "dimension"
_META_GENERATION = "generation"
_META_MANIFEST = "manifest"
_META_CHUNKER = "chunker"
_READ_ATTEMPTS = 8


class IndexSchemaMismatch(KnowledgeIndexError):
    """The collection exists but was not written by this version of supportbot."""


class IndexNotBuilt(KnowledgeIndexError):
    """There is no index yet at the configured location."""

    def __init__(self, location: str) -> None:
        super().__init__(f"no knowledge index at {location} yet; run `supportbot index` first")
        self.location = location


@dataclass(frozen=True)
class ManifestEntry:
    hash: str
    chunks: int


@dataclass(frozen=True)
class IndexSnapshot:
    """One committed state of the index."""

    collection_id: str
    generation: int
    manifest: Mapping[str, ManifestEntry]
    embedder: str
    dimension: int

    @property
    def state(self) -> IndexState:
        return (self.collection_id, self.generation)

    @property
    def chunk_count(self) -> int:
        return sum(e.chunks for e in self.manifest.values())

    def is_current(self, metadata: Mapping[str, Any] | None) -> bool:
        """Whether a stored chunk belongs to this state (and not to an older or newer one)."""
        if not metadata:
            return False
        entry = self.manifest.get(str(metadata.get("doc_id", "")))
        return entry is not None and entry.hash == metadata.get("hash")


@dataclass(frozen=True)
class StoredChunk:
    """A chunk as stored in the index."""

    chunk_id: str
    doc_id: str
    source: str
    heading: str
    title: str
    line_start: int
    line_end: int
    text: str

    @classmethod
    def from_record(
        cls, chunk_id: str, document: str | None, meta: Mapping[str, Any]
    ) -> StoredChunk:
        return cls(
            chunk_id=chunk_id,
            doc_id=str(meta["doc_id"]),
            source=str(meta["source"]),
            heading=str(meta.get("heading", "")),
            title=str(meta.get("title", "")),
            line_start=int(meta["line_start"]),
            line_end=int(meta["line_end"]),
            text=document or "",
        )

    @property
    def context(self) -> str:
        """Title and heading path, for lexical search."""
        return " ".join(p for p in (self.title, self.heading) if p)


@dataclass
class IndexHooks:
    """Called between the writer's phases; tests use them to interleave readers."""

    after_add: Callable[[], None] | None = None
    after_commit: Callable[[], None] | None = None
    after_cleanup: Callable[[], None] | None = None


ProgressCallback = Callable[[int, int], None]  # (chunks embedded so far, chunks to embed)


@dataclass
class _Pending:
    file: KnowledgeFile
    hash: str
    chunks: list[Chunk]
    title: str
    vectors: Vectors | None = None  # reused from an identical file already indexed


@dataclass
class _Plan:
    manifest: dict[str, ManifestEntry]
    pending: list[_Pending] = field(default_factory=list)
    report: IndexReport = field(default_factory=IndexReport)


def chunk_id(doc_id: str, content_hash: str, index: int) -> str:
    return f"{doc_id}@{content_hash}#{index}"


def parse_chunk_id(value: str) -> tuple[str, str] | None:
    """(doc_id, hash) of a chunk id, or None for ids this index did not write."""
    head, sep, _ = value.rpartition("#")
    doc_id, sep2, content_hash = head.rpartition("@")
    if not sep or not sep2:
        return None
    return doc_id, content_hash


class KnowledgeIndex:
    """Builds and reads the knowledge collection for one embedder."""

    def __init__(
        self,
        connection: ChromaConnection,
        embedder: Embedder,
        *,
        collection_name: str = "knowledge",
        chunker: MarkdownChunker | None = None,
        lock_dir: Path | None = None,
        embed_batch_size: int = 256,
    ) -> None:
        self.connection = connection
        self.embedder = embedder
        self.collection_name = collection_name
        self.chunker = chunker or default_chunker(embedder)
        self._lock_dir = lock_dir
        self._embed_batch_size = embed_batch_size
        self._write_lock = threading.Lock()
        self._manifest_cache: tuple[str, int, str, dict[str, ManifestEntry]] | None = None

    # -- reading -------------------------------------------------------------------
    def snapshot(self) -> IndexSnapshot:
        """The committed state; raises IndexNotBuilt or EmbedderMismatch."""
        return self.read(lambda _collection, snapshot: snapshot)[0]

    def read(self, operation: Callable[[Collection, IndexSnapshot], T]) -> tuple[T, IndexSnapshot]:
        """Run ``operation`` against one committed state, retrying if a commit interleaved.

        ``operation`` must keep only chunks for which ``snapshot.is_current`` holds.
        """
        for _ in range(_READ_ATTEMPTS):
            with self.connection.client() as client:
                collection = self._get_collection(client)
                snapshot = self._snapshot_of(collection)
                fresh = self.connection.is_current_view(snapshot.state)
                if fresh:
                    self._check_embedder(snapshot)
                    try:
                        result = operation(collection, snapshot)
                    except SupportBotError:
                        raise
                    except Exception as exc:
                        if self._read_state(client) != snapshot.state:
                            continue  # the index changed under the read: try again
                        raise KnowledgeIndexError(
                            f"reading the index at {self.connection.description} failed: {exc}"
                        ) from exc
                    after = self._read_state(client)
            if not fresh:
                self.connection.reopen(snapshot.state)
                continue
            if after == snapshot.state:
                return result, snapshot
        raise KnowledgeIndexError(
            f"the index changed during {_READ_ATTEMPTS} consecutive reads; try again"
        )

    def current_chunks(self, collection: Collection, snapshot: IndexSnapshot) -> list[StoredChunk]:
        """Every chunk of ``snapshot`` (for lexical search), in index order."""
        records = collection.get(include=["documents", "metadatas"])
        chunks = [
            StoredChunk.from_record(cid, doc, meta)
            for cid, doc, meta in zip(
                records["ids"], records["documents"] or [], records["metadatas"] or [], strict=True
            )
            if snapshot.is_current(meta)
        ]
        chunks.sort(key=lambda c: c.chunk_id)
        return chunks

    def _get_collection(self, client: ClientAPI) -> Collection:
        from chromadb.errors import NotFoundError

        try:
            return client.get_collection(self.collection_name, embedding_function=None)
        except NotFoundError:
            raise IndexNotBuilt(
                f"{self.connection.description} (collection {self.collection_name!r})"
            ) from None
        except Exception as exc:
            raise KnowledgeIndexError(
                f"cannot open the index at {self.connection.description}: {exc}"
            ) from exc

    def _read_state(self, client: ClientAPI) -> IndexState:
        collection = self._get_collection(client)
        meta = collection.metadata or {}
        return (str(collection.id), int(meta.get(_META_GENERATION, -1)))

    def _snapshot_of(self, collection: Collection) -> IndexSnapshot:
        meta = collection.metadata or {}
        if meta.get(_META_SCHEMA) != SCHEMA_VERSION:
            raise IndexSchemaMismatch(
                f"collection {self.collection_name!r} at {self.connection.description} was not "
                "written by this version of supportbot; run `supportbot index --full`"
            )
        collection_id = str(collection.id)
        generation = int(meta[_META_GENERATION])
        raw = str(meta.get(_META_MANIFEST, "{}"))
        cache = self._manifest_cache
        if cache is not None and cache[:3] == (collection_id, generation, raw):
            manifest = cache[3]
        else:
            manifest = {doc: ManifestEntry(e[0], int(e[1])) for doc, e in json.loads(raw).items()}
            self._manifest_cache = (collection_id, generation, raw, manifest)
        return IndexSnapshot(
            collection_id=collection_id,
            generation=generation,
            manifest=manifest,
            embedder=str(meta.get(_META_EMBEDDER, "")),
            dimension=int(meta.get(_META_DIMENSION, 0)),
        )

    def _check_embedder(self, snapshot: IndexSnapshot) -> None:
        if snapshot.embedder != self.embedder.name:
            raise EmbedderMismatch(snapshot.embedder, self.embedder.name)
        if snapshot.dimension != self.embedder.dimension:
            raise EmbedderMismatch(
                f"{snapshot.embedder} ({snapshot.dimension} dimensions)",
                f"{self.embedder.name} ({self.embedder.dimension} dimensions)",
            )

    # -- writing -------------------------------------------------------------------
    def update(
        self,
        knowledge_dir: Path,
        *,
        full: bool = False,
        progress: ProgressCallback | None = None,
        hooks: IndexHooks | None = None,
    ) -> IndexReport:
        """Bring the index in line with ``knowledge_dir``; see the module docstring."""
        started = time.perf_counter()
        hooks = hooks or IndexHooks()
        files = scan_knowledge_dir(knowledge_dir)
        with self._exclusive_writer():
            previous = self._open_for_writing(full)
            plan = self._plan(files, previous, full)
            report = plan.report
            total = sum(len(p.chunks) for p in plan.pending if p.vectors is None)
            report.embedded_chunks = self._add(plan.pending, total, progress)
            if hooks.after_add:
                hooks.after_add()
            changed = report.added or report.updated or report.removed or full
            if changed:
                self._commit(previous, plan.manifest)
            if hooks.after_commit:
                hooks.after_commit()
            self._delete_superseded(plan.manifest)
            if hooks.after_cleanup:
                hooks.after_cleanup()
        report.chunks = sum(e.chunks for e in plan.manifest.values())
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    @contextlib.contextmanager
    def _exclusive_writer(self) -> Iterator[None]:
        with self._write_lock:
            if self._lock_dir is None:
                yield
                return
            self._lock_dir.mkdir(parents=True, exist_ok=True)
            with (self._lock_dir / "index.lock").open("a") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)

    def _open_for_writing(self, full: bool) -> IndexSnapshot:
        """The collection to write and its committed state; recreated by ``full`` if needed."""
        try:
            return self.snapshot()
        except IndexNotBuilt:
            return self._create(generation=0)
        except (EmbedderMismatch, IndexSchemaMismatch):
            if not full:
                raise
        # --full with another embedder (or a foreign collection): start afresh.
        with self.connection.client() as client:
            old = client.get_collection(self.collection_name, embedding_function=None)
            generation = int((old.metadata or {}).get(_META_GENERATION, 0)) + 1
            client.delete_collection(self.collection_name)
        return self._create(generation=generation)

    def _create(self, generation: int) -> IndexSnapshot:
        meta = self._metadata({}, generation)
        with self.connection.client() as client:
            collection = client.create_collection(
                self.collection_name,
                metadata=meta,
                configuration={"hnsw": {"space": "cosine"}},
                embedding_function=None,
            )
            snapshot = self._snapshot_of(collection)
        self.connection.remember(snapshot.state)
        return snapshot

    def _metadata(self, manifest: Mapping[str, ManifestEntry], generation: int) -> dict[str, Any]:
        return {
            _META_SCHEMA: SCHEMA_VERSION,
            _META_EMBEDDER: self.embedder.name,
            _META_DIMENSION: int(self.embedder.dimension),
            _META_GENERATION: generation,
            _META_CHUNKER: self.chunker.signature,
            _META_MANIFEST: json.dumps(
                {doc: [e.hash, e.chunks] for doc, e in sorted(manifest.items())},
                separators=(",", ":"),
            ),
        }

    def _plan(self, files: Sequence[KnowledgeFile], previous: IndexSnapshot, full: bool) -> _Plan:
        plan = _Plan(manifest=dict(previous.manifest))
        report = plan.report
        on_disk = {f.doc_id for f in files}
        for file in files:
            old = previous.manifest.get(file.doc_id)
            try:
                raw = read_bytes(file)
                content_hash = self.chunker.content_hash(raw)
                if old is not None and old.hash == content_hash and not full:
                    report.unchanged += 1
                    continue
                parsed = self.chunker.parse(file.source, raw)
            except DocumentError as exc:
                report.failed.append(FailedFile(path=file.source, error=exc.reason))
                continue  # a file that was indexed before keeps its last good version
            except OSError as exc:
                report.failed.append(FailedFile(path=file.source, error=str(exc)))
                continue
            plan.pending.append(_Pending(file, content_hash, parsed.chunks, parsed.title))
            plan.manifest[file.doc_id] = ManifestEntry(content_hash, len(parsed.chunks))
            if old is None:
                report.added += 1
                report.added_paths.append(file.source)
            else:
                report.updated += 1
                report.updated_paths.append(file.source)
        for doc_id in sorted(set(previous.manifest) - on_disk):
            del plan.manifest[doc_id]
            report.removed += 1
            report.removed_paths.append(doc_id + ".md")
        if not full:
            self._reuse_vectors(plan.pending, previous)
        return plan

    def _reuse_vectors(self, pending: list[_Pending], previous: IndexSnapshot) -> None:
        """A file whose exact content is indexed under another name (rename, copy) reuses it."""
        by_hash = {e.hash: doc for doc, e in previous.manifest.items()}
        reusable = [p for p in pending if p.hash in by_hash]
        if not reusable:
            return
        with self.connection.client() as client:
            collection = self._get_collection(client)
            for item in reusable:
                donor = by_hash[item.hash]
                ids = [chunk_id(donor, item.hash, c.index) for c in item.chunks]
                got = collection.get(ids=ids, include=["embeddings"])
                if len(got["ids"]) != len(ids) or got["embeddings"] is None:
                    continue  # incomplete (never committed or already cleaned): embed again
                order = {cid: i for i, cid in enumerate(got["ids"])}
                vectors = np.asarray(got["embeddings"], dtype=np.float32)
                item.vectors = vectors[[order[cid] for cid in ids]]

    def _add(
        self,
        pending: Sequence[_Pending],
        total: int,
        progress: ProgressCallback | None,
    ) -> int:
        """Embed and store the chunks of new and changed files; returns chunks embedded."""
        if progress:
            progress(0, total)
        embedded = 0
        batch: list[tuple[_Pending, Chunk]] = []

        def flush() -> None:
            nonlocal embedded
            vectors = self.embedder.embed_documents([c.embed_text for _, c in batch])
            self._store(batch, vectors)
            embedded += len(batch)
            batch.clear()
            if progress:
                progress(embedded, total)

        for item in pending:
            if item.vectors is not None:
                self._store([(item, c) for c in item.chunks], item.vectors)
                continue
            for chunk in item.chunks:
                batch.append((item, chunk))
                if len(batch) >= self._embed_batch_size:
                    flush()
        if batch:
            flush()
        return embedded

    def _store(self, batch: Sequence[tuple[_Pending, Chunk]], vectors: Vectors) -> None:
        with self.connection.client() as client:
            self._get_collection(client).upsert(
                ids=[chunk_id(p.file.doc_id, p.hash, c.index) for p, c in batch],
                embeddings=vectors,
                documents=[c.text for _, c in batch],
                metadatas=[
                    {
                        "doc_id": p.file.doc_id,
                        "source": p.file.source,
                        "hash": p.hash,
                        "title": p.title,
                        "heading": c.heading,
                        "chunk_index": c.index,
                        "line_start": c.line_start,
                        "line_end": c.line_end,
                    }
                    for p, c in batch
                ],
            )

    def _commit(self, previous: IndexSnapshot, manifest: Mapping[str, ManifestEntry]) -> None:
        generation = previous.generation + 1
        self.connection.remember((previous.collection_id, generation))
        with self.connection.client() as client:
            self._get_collection(client).modify(metadata=self._metadata(manifest, generation))

    def _delete_superseded(self, manifest: Mapping[str, ManifestEntry]) -> None:
        with self.connection.client() as client:
            collection = self._get_collection(client)
            ids = collection.get(include=[])["ids"]
            stale = []
            for cid in ids:
                parsed = parse_chunk_id(cid)
                entry = manifest.get(parsed[0]) if parsed else None
                if parsed is None or entry is None or entry.hash != parsed[1]:
                    stale.append(cid)
            for start in range(0, len(stale), 1000):
                collection.delete(ids=stale[start : start + 1000])


def default_chunker(embedder: Embedder) -> MarkdownChunker:
    """Chunks sized for ``embedder`` (its word-piece window when it exposes one)."""
    count = getattr(embedder, "count_tokens", None)
    max_tokens = getattr(embedder, "max_tokens", None)
    if callable(count) and isinstance(max_tokens, int):
        return MarkdownChunker(count, max_tokens=max_tokens)
    # Unknown tokenizer (e.g. Ollama): ~1.3 word pieces per word is a safe estimate.
    return MarkdownChunker(lambda text: int(len(text.split()) * 1.3) + 1, max_tokens=512)
