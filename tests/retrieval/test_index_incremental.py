"""Incremental indexing on the real (embedded) Chroma: add, change, delete, rename, bad files."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from retrieval_helpers import EXPORT, SAMPLE_KB, write_kb

from supportbot.errors import EmbedderMismatch
from supportbot.retrieval.embedders import HashingEmbedder
from supportbot.retrieval.index import (
    IndexHooks,
    IndexNotBuilt,
    IndexSchemaMismatch,
    KnowledgeIndex,
    parse_chunk_id,
)
from supportbot.retrieval.search import KnowledgeRetriever

MakeIndex = Callable[..., KnowledgeIndex]


def stored(index: KnowledgeIndex) -> dict[str, set[str]]:
    """doc id -> content hashes of every chunk physically in the collection."""
    with index.connection.client() as client:
        ids = client.get_collection(index.collection_name).get(include=[])["ids"]
    out: dict[str, set[str]] = {}
    for cid in ids:
        parsed = parse_chunk_id(cid)
        assert parsed is not None
        out.setdefault(parsed[0], set()).add(parsed[1])
    return out


def sources(index: KnowledgeIndex, query: str = "refund invoice SSO export") -> set[str]:
    result = KnowledgeRetriever(index, mode="lexical", max_per_document=None).retrieve(query, 50)
    return {p.source for p in result.passages}


def test_first_run_indexes_everything_and_second_run_embeds_nothing(
    kb: Path, make_index: MakeIndex, hashing: HashingEmbedder
) -> None:
    index = make_index(hashing)

    first = index.update(kb)
    second = index.update(kb)

    assert (first.added, first.updated, first.removed, first.unchanged) == (3, 0, 0, 0)
    assert first.chunks == first.embedded_chunks == 6
    assert (second.added, second.updated, second.removed, second.unchanged) == (0, 0, 0, 3)
    assert second.embedded_chunks == 0
    assert second.chunks == 6
    assert index.snapshot().generation == 1  # nothing changed: no new commit
    assert set(stored(index)) == {"billing/refunds", "accounts/sso", "data/export"}


def test_changed_file_replaces_its_chunks(
    kb: Path, make_index: MakeIndex, hashing: HashingEmbedder
) -> None:
    index = make_index(hashing)
    index.update(kb)
    before = stored(index)["data/export"]

    (kb / "data/export.md").write_text(EXPORT + "\n## Limits\n\nOne export per hour.\n")
    report = index.update(kb)

    assert (report.added, report.updated, report.unchanged) == (0, 1, 2)
    assert report.updated_paths == ["data/export.md"]
    assert report.embedded_chunks == 2
    after = stored(index)["data/export"]
    assert len(after) == 1
    assert after != before
    passages = KnowledgeRetriever(index, mode="lexical").retrieve("export per hour", 1).passages
    assert passages[0].heading == "Exporting data > Limits"
    assert passages[0].line_start == 6


def test_deleted_file_leaves_nothing_behind(
    kb: Path, make_index: MakeIndex, hashing: HashingEmbedder
) -> None:
    index = make_index(hashing)
    index.update(kb)

    (kb / "accounts/sso.md").unlink()
    report = index.update(kb)

    assert report.removed == 1
    assert report.removed_paths == ["accounts/sso.md"]
    assert "accounts/sso" not in stored(index)
    assert "accounts/sso" not in index.snapshot().manifest
    assert "accounts/sso.md" not in sources(index)
    assert report.chunks == 4


def test_renamed_file_moves_without_re_embedding(
    kb: Path, make_index: MakeIndex, hashing: HashingEmbedder
) -> None:
    index = make_index(hashing)
    index.update(kb)

    (kb / "billing/refunds.md").rename(kb / "billing/refund-policy.md")
    report = index.update(kb)

    assert (report.added, report.removed) == (1, 1)
    assert report.embedded_chunks == 0  # the vectors of the identical content are reused
    assert "billing/refunds" not in stored(index)
    assert "billing/refund-policy" in stored(index)
    assert "billing/refund-policy.md" in sources(index)
    assert "billing/refunds.md" not in sources(index)


def test_bad_files_are_reported_and_skipped_while_the_rest_index(
    kb: Path, make_index: MakeIndex, hashing: HashingEmbedder
) -> None:
    write_kb(
        kb,
        {
            "bad/empty.md": "",
            "bad/latin1.md": "# Caf\xe9\n".encode("latin-1"),
            "bad/binary.md": b"\x89PNG\r\n\x1a\n\x00\x00",
            "bad/front-matter.md": "---\ntitle: [oops\n---\n# A\ntext\n",
        },
    )
    os.symlink(kb / "nowhere.md", kb / "bad/unreadable.md")
    (kb / "notes.txt").write_text("not markdown, not indexed")
    index = make_index(hashing)

    report = index.update(kb)

    failed = {f.path: f.error for f in report.failed}
    assert set(failed) == {
        "bad/empty.md",
        "bad/latin1.md",
        "bad/binary.md",
        "bad/front-matter.md",
        "bad/unreadable.md",
    }
    assert failed["bad/empty.md"] == "empty file"
    assert "UTF-8" in failed["bad/latin1.md"]
    assert "binary" in failed["bad/binary.md"]
    assert "front matter" in failed["bad/front-matter.md"]
    assert "broken symbolic link" in failed["bad/unreadable.md"]
    assert report.added == 3
    assert set(stored(index)) == {"billing/refunds", "accounts/sso", "data/export"}


def test_a_file_that_breaks_keeps_its_last_good_version(
    kb: Path, make_index: MakeIndex, hashing: HashingEmbedder
) -> None:
    index = make_index(hashing)
    index.update(kb)

    (kb / "data/export.md").write_bytes(b"\xff\xfe broken")
    report = index.update(kb)

    assert [f.path for f in report.failed] == ["data/export.md"]
    assert report.removed == 0
    assert "data/export.md" in sources(index)


def test_embedder_mismatch_is_an_error_until_a_full_rebuild(
    kb: Path, make_index: MakeIndex, hashing: HashingEmbedder
) -> None:
    make_index(hashing).update(kb)
    other = HashingEmbedder(dimension=128, tag="other")
    index = make_index(other)

    with pytest.raises(EmbedderMismatch, match="supportbot index --full"):
        index.snapshot()
    with pytest.raises(EmbedderMismatch):
        KnowledgeRetriever(index).retrieve("refund", 3)
    with pytest.raises(EmbedderMismatch):
        index.update(kb)

    report = index.update(kb, full=True)

    assert report.added == 3
    assert report.embedded_chunks == 6
    assert index.snapshot().embedder == other.name
    assert KnowledgeRetriever(index).retrieve("refund", 3).passages
    with pytest.raises(EmbedderMismatch):
        make_index(hashing).snapshot()


def test_full_rebuild_with_the_same_embedder_re_embeds_everything(
    kb: Path, make_index: MakeIndex, hashing: HashingEmbedder
) -> None:
    index = make_index(hashing)
    index.update(kb)

    report = index.update(kb, full=True)

    assert report.updated == 3
    assert report.embedded_chunks == 6
    assert report.chunks == 6
    assert sum(len(h) for h in stored(index).values()) == 3


def test_orphans_of_a_crashed_run_are_ignored_then_cleaned(
    kb: Path, make_index: MakeIndex, hashing: HashingEmbedder
) -> None:
    index = make_index(hashing)
    index.update(kb)
    (kb / "data/export.md").write_text(EXPORT.replace("CSV", "Parquet"))

    def crash() -> None:
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        index.update(kb, hooks=IndexHooks(after_add=crash))

    assert len(stored(index)["data/export"]) == 2  # the uncommitted version is there...
    hits = KnowledgeRetriever(index, mode="lexical").retrieve("Parquet export", 5).passages
    assert all("Parquet" not in p.text for p in hits)  # ...but invisible
    report = index.update(kb)
    assert report.updated == 1
    assert len(stored(index)["data/export"]) == 1


def test_reading_before_the_first_index_says_so(
    make_index: MakeIndex, hashing: HashingEmbedder
) -> None:
    with pytest.raises(IndexNotBuilt, match="supportbot index"):
        make_index(hashing).snapshot()


def test_unchanged_content_with_another_chunker_is_re_embedded(
    kb: Path, make_index: MakeIndex, hashing: HashingEmbedder
) -> None:
    from supportbot.retrieval.chunking import MarkdownChunker

    make_index(hashing).update(kb)
    index = make_index(hashing)
    index.chunker = MarkdownChunker(hashing.count_tokens, max_tokens=256, target_tokens=64)

    report = index.update(kb)

    assert report.updated == 3
    assert SAMPLE_KB  # the same files, only the chunking changed


def test_progress_reports_chunks_embedded(
    kb: Path, make_index: MakeIndex, hashing: HashingEmbedder
) -> None:
    calls: list[tuple[int, int]] = []
    index = make_index(hashing)
    index._embed_batch_size = 4  # two batches for the six sample chunks

    index.update(kb, progress=lambda done, total: calls.append((done, total)))

    assert calls == [(0, 6), (4, 6), (6, 6)]


def test_a_foreign_collection_of_the_same_name_is_replaced_only_by_full(
    kb: Path, make_index: MakeIndex, hashing: HashingEmbedder
) -> None:
    index = make_index(hashing)
    with index.connection.client() as client:
        client.create_collection(index.collection_name, embedding_function=None)

    with pytest.raises(IndexSchemaMismatch, match="--full"):
        index.update(kb)
    report = index.update(kb, full=True)

    assert report.added == 3
    assert index.snapshot().chunk_count == 6
