"""Readers during a reindex see a file's old chunks or its new ones: never a mix, never none.

The writer runs in a real thread against the real embedded Chroma and is held between its
phases (add -> commit -> delete) by events, so each reader check happens at a known point.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from retrieval_helpers import write_kb

from supportbot.retrieval.embedders import HashingEmbedder
from supportbot.retrieval.index import IndexHooks, IndexSnapshot, KnowledgeIndex
from supportbot.retrieval.search import KnowledgeRetriever
from supportbot.retrieval.types import IndexReport
from supportbot.settings import Settings

WAIT = 30.0


def guide(version: str) -> str:
    return (
        f"# Export guide\n\n## Formats\n\nExports use format {version} for every table.\n\n"
        f"## Schedule\n\nThe {version} export runs nightly for each workspace.\n\n"
        f"## Limits\n\nA {version} export is limited to two gigabytes per file.\n"
    )


def versions_seen(retriever: KnowledgeRetriever) -> list[str]:
    passages = retriever.retrieve("export format schedule limits nightly", 10).passages
    seen = []
    for p in passages:
        if p.doc_id != "guide":
            continue
        seen.append("old" if "alpha" in p.text else "new" if "beta" in p.text else "?")
    return seen


class PausedWriter:
    """Runs ``index.update`` in a thread that stops after each phase until released."""

    def __init__(self, index: KnowledgeIndex, kb: Path) -> None:
        self.reached = {name: threading.Event() for name in ("add", "commit", "cleanup")}
        self.release = {name: threading.Event() for name in ("add", "commit", "cleanup")}
        self.report: IndexReport | None = None
        self.error: BaseException | None = None
        hooks = IndexHooks(
            after_add=lambda: self._pause("add"),
            after_commit=lambda: self._pause("commit"),
            after_cleanup=lambda: self._pause("cleanup"),
        )

        def run() -> None:
            try:
                self.report = index.update(kb, hooks=hooks)
            except BaseException as exc:  # surfaced by the test
                self.error = exc

        self.thread = threading.Thread(target=run, name="writer", daemon=True)

    def _pause(self, phase: str) -> None:
        self.reached[phase].set()
        assert self.release[phase].wait(WAIT)

    def start(self) -> None:
        self.thread.start()

    def wait_for(self, phase: str) -> None:
        assert self.reached[phase].wait(WAIT), f"writer never reached {phase}"

    def go(self, phase: str) -> None:
        self.release[phase].set()

    def finish(self) -> IndexReport:
        for event in self.release.values():
            event.set()
        self.thread.join(WAIT)
        assert not self.thread.is_alive()
        if self.error is not None:
            raise self.error
        assert self.report is not None
        return self.report


def test_retrieve_between_each_writer_phase_sees_one_whole_version(
    tmp_path: Path, make_index: Callable[..., KnowledgeIndex]
) -> None:
    kb = write_kb(
        tmp_path / "knowledge",
        {"guide.md": guide("alpha"), "other.md": "# Other\n\nUnrelated text about invoices.\n"},
    )
    index = make_index(HashingEmbedder())
    index.update(kb)
    readers = [
        KnowledgeRetriever(index, mode=m, max_per_document=None)
        for m in ("hybrid", "vector", "lexical")
    ]
    assert all(versions_seen(r) == ["old"] * 3 for r in readers)

    (kb / "guide.md").write_text(guide("beta"))
    writer = PausedWriter(index, kb)
    writer.start()

    writer.wait_for("add")  # new chunks stored, manifest not yet committed
    assert [versions_seen(r) for r in readers] == [["old"] * 3] * 3
    writer.go("add")

    writer.wait_for("commit")  # committed; the old chunks are still stored
    assert [versions_seen(r) for r in readers] == [["new"] * 3] * 3
    writer.go("commit")

    writer.wait_for("cleanup")  # old chunks deleted
    assert [versions_seen(r) for r in readers] == [["new"] * 3] * 3
    report = writer.finish()
    assert report.updated == 1


def test_a_read_that_overlaps_a_commit_is_retried_against_the_new_state(
    tmp_path: Path, make_index: Callable[..., KnowledgeIndex]
) -> None:
    kb = write_kb(tmp_path / "knowledge", {"guide.md": guide("alpha")})
    index = make_index(HashingEmbedder())
    index.update(kb)
    retriever = KnowledgeRetriever(index, mode="vector", max_per_document=None)
    (kb / "guide.md").write_text(guide("beta"))
    writer = PausedWriter(index, kb)
    writer.start()
    writer.wait_for("add")
    generations: list[int] = []

    def query_while_the_writer_commits_and_deletes(
        collection: object, snapshot: IndexSnapshot
    ) -> list[str]:
        generations.append(snapshot.generation)
        if len(generations) == 1:  # the writer commits and deletes the old chunks meanwhile
            writer.go("add")
            writer.wait_for("commit")
            writer.go("commit")
            writer.wait_for("cleanup")
        return versions_seen_in(collection, snapshot)

    def versions_seen_in(collection: object, snapshot: IndexSnapshot) -> list[str]:
        from supportbot.retrieval.search import _vector_search

        vector = index.embedder.embed_query("export format schedule limits")
        hits = _vector_search(collection, snapshot, vector, 10)  # type: ignore[arg-type]
        return ["old" if "alpha" in c.text else "new" for c, _ in hits]

    seen, snapshot = index.read(query_while_the_writer_commits_and_deletes)

    writer.finish()
    assert generations == [1, 2]  # the first attempt (which found nothing current) was retried
    assert seen == ["new"] * 3
    assert snapshot.generation == 2
    assert versions_seen(retriever) == ["new"] * 3


def test_a_reindex_by_another_process_is_seen_by_a_running_retriever(
    tmp_path: Path,
    make_settings: Callable[..., Settings],
    make_index: Callable[..., KnowledgeIndex],
) -> None:
    kb = write_kb(tmp_path / "knowledge", {"guide.md": guide("alpha")})
    settings = make_settings(embedder="hashing")
    index = make_index(HashingEmbedder())
    index.update(kb)
    retriever = KnowledgeRetriever(index, mode="vector", max_per_document=None)
    assert versions_seen(retriever) == ["old"] * 3

    (kb / "guide.md").write_text(guide("beta"))
    write_kb(kb, {"faq.md": "# FAQ\n\nThe export format question comes up nightly.\n"})
    cli = Path(sys.executable).with_name("supportbot")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SUPPORTBOT_", "CHROMA_"))}
    env["SUPPORTBOT_EMBEDDER"] = "hashing"
    done = subprocess.run(
        [str(cli), "index", "--json", "--knowledge", str(kb), "--data-dir", str(settings.data_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr

    assert versions_seen(retriever) == ["new"] * 3
    docs = {p.doc_id for p in retriever.retrieve("export format nightly", 10).passages}
    assert docs == {"guide", "faq"}
    assert index.connection.reopened == 1
