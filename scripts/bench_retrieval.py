#!/usr/bin/env python
"""Retrieval benchmark: prints numbers, asserts nothing.

    .venv/bin/python scripts/bench_retrieval.py [--docs 700] [--sections 15] [--queries 200]

1. Quality of each retrieval variant (vector, lexical BM25, hybrid RRF) side by side on
   the sample knowledge base and its labelled questions (recall@k, hit@k, MRR, latency).
2. Speed on a synthetic corpus of ~10,000 chunks (700 files x 15 sections):
   full-index throughput as a ratio to the embedder's raw encode throughput measured in
   the same run on a random sample of the same chunk texts (goal >= 0.85); re-index with
   nothing changed (goal < 2 s); re-index after editing one file (goal < 1 s plus that
   file's embedding); retrieval p50/p95 per variant (goal p95 < 30 ms); peak RSS.

Everything runs on the bundled offline MiniLM embedder and an embedded Chroma in a
temporary directory.
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from supportbot.retrieval import MINILM_BATCH_SIZE  # noqa: E402
from supportbot.retrieval.chroma import make_connection  # noqa: E402
from supportbot.retrieval.chunking import MarkdownChunker  # noqa: E402
from supportbot.retrieval.embedders import MiniLMEmbedder  # noqa: E402
from supportbot.retrieval.evaluation import (  # noqa: E402
    evaluate_rankings,
    load_labelled_queries,
    percentile,
)
from supportbot.retrieval.index import KnowledgeIndex, default_chunker  # noqa: E402
from supportbot.retrieval.search import KnowledgeRetriever, SearchMode  # noqa: E402
from supportbot.retrieval.types import Embedder, Vectors  # noqa: E402
from supportbot.settings import Settings  # noqa: E402

MODES = [SearchMode.VECTOR, SearchMode.LEXICAL, SearchMode.HYBRID]


def _words(text: str) -> list[str]:
    return text.split()


_TOPICS = _words(
    "billing invoice refund payment card charge renewal subscription plan seat upgrade "
    "downgrade discount coupon tax vat receipt currency trial cancel account login password "
    "reset sso saml oidc scim provisioning admin role permission owner guest workspace "
    "project dashboard report export import csv api webhook token rate limit integration "
    "slack jira github calendar sync notification email digest mobile app browser cache "
    "upload file attachment storage quota backup restore retention deletion gdpr ccpa "
    "privacy residency region security incident breach vulnerability audit log compliance "
    "sla uptime outage status maintenance credit latency performance timeout error"
)
_GLUE = _words(
    "the a to of and for in on with your you can will be is are when after before if "
    "this that our we it by from within each every may must not only also then"
)


def synthetic_corpus(root: Path, docs: int, sections: int, seed: int = 7) -> None:
    """``docs`` Markdown files of ``sections`` sections (~70 words each), reproducibly."""
    rng = random.Random(seed)
    for d in range(docs):
        topic = rng.sample(_TOPICS, 3)
        lines = [f"# {' '.join(topic).title()} guide {d}", ""]
        for s in range(sections):
            lines += [f"## {rng.choice(_TOPICS).title()} {rng.choice(_TOPICS)} {s}", ""]
            words = [
                rng.choice(_TOPICS) if rng.random() < 0.45 else rng.choice(_GLUE)
                for _ in range(rng.randint(55, 85))
            ]
            words.insert(rng.randrange(len(words)), f"ERR-{d:03d}{s:02d}")
            sentence_lengths = [12, 14, 10, 16, 13, 11, 15]
            out, i = [], 0
            for n in sentence_lengths * 3:
                if i >= len(words):
                    break
                out.append(" ".join(words[i : i + n]).capitalize() + ".")
                i += n
            lines += [" ".join(out), ""]
        path = root / f"area-{d % 12:02d}" / f"doc-{d:04d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines), encoding="utf-8")


def synthetic_queries(n: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        words = rng.sample(_TOPICS, rng.randint(3, 6)) + rng.sample(_GLUE, 2)
        rng.shuffle(words)
        if rng.random() < 0.2:
            words.append(f"ERR-{rng.randrange(700):03d}{rng.randrange(15):02d}")
        out.append("how do I " + " ".join(words) + "?")
    return out


class TimedEmbedder:
    """Passes calls to the real embedder and adds up wall and CPU time spent embedding."""

    def __init__(self, inner: MiniLMEmbedder) -> None:
        self.inner = inner
        self.wall = 0.0
        self.cpu = 0.0

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    @property
    def max_tokens(self) -> int:
        return self.inner.max_tokens

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return self.inner.embed_documents(texts)
        finally:
            self.wall += time.perf_counter() - wall
            self.cpu += time.process_time() - cpu

    def embed_query(self, text: str) -> Vectors:
        return self.inner.embed_query(text)

    def reset(self) -> None:
        self.wall = self.cpu = 0.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def make_index(data_dir: Path, embedder: Embedder) -> KnowledgeIndex:
    settings = Settings(data_dir=data_dir, knowledge_dir=data_dir / "unused")
    return KnowledgeIndex(make_connection(settings), embedder, lock_dir=data_dir)


def latency(retriever: KnowledgeRetriever, queries: list[str], k: int) -> tuple[float, float]:
    samples = []
    for query in queries:
        started = time.perf_counter()
        retriever.retrieve(query, k)
        samples.append((time.perf_counter() - started) * 1000.0)
    return percentile(samples, 50), percentile(samples, 95)


def bench_quality(embedder: MiniLMEmbedder, work: Path, eval_file: Path, ks: list[int]) -> None:
    print("== Quality on the sample knowledge base ==")
    queries = load_labelled_queries(eval_file)
    print(f"labelled questions: {len(queries)} ({eval_file.relative_to(REPO)})")
    chunkers = {
        "heading context": None,  # the default chunker
        "no context": MarkdownChunker(
            embedder.count_tokens, max_tokens=embedder.max_tokens, heading_context=False
        ),
    }
    header = ["chunks", "variant", "k", "recall@k", "hit@k", "MRR", "p50 ms", "p95 ms"]
    indexes = {}
    for label, chunker in chunkers.items():
        index = make_index(work / f"sample-{label.replace(' ', '-')}", embedder)
        if chunker is not None:
            index.chunker = chunker
        report = index.update(REPO / "knowledge")
        indexes[label] = index
        print(
            f"sample KB ({label}): {report.added} files, {report.chunks} chunks, indexed in "
            f"{report.seconds:.1f} s ({report.chunks / report.seconds:.1f} chunks/s)"
        )
    print(
        f"{header[0]:<16} {header[1]:<8} {header[2]:>2} " + " ".join(f"{h:>9}" for h in header[3:])
    )
    for label, index in indexes.items():
        for mode in MODES:
            retriever = KnowledgeRetriever(index, mode=mode)
            retriever.rank_documents(queries[0].query, 5)  # warm-up
            for k in ks:
                m = evaluate_rankings(
                    lambda q, n, r=retriever: [h.doc_id for h in r.rank_documents(q, n)],
                    queries,
                    k,
                )
                print(
                    f"{label:<16} {mode.value:<8} {k:>2} {m.recall_at_k:>9.3f} {m.hit_at_k:>9.3f} "
                    f"{m.mrr:>9.3f} {m.latency_ms.p50:>9.1f} {m.latency_ms.p95:>9.1f}"
                )
    print("documents covered by the top 5 passages (hybrid), by passages allowed per document:")
    for cap in (None, 1, 2, 3):
        retriever = KnowledgeRetriever(indexes["heading context"], max_per_document=cap)

        def covered(query: str, k: int, r: KnowledgeRetriever = retriever) -> list[str]:
            return list(dict.fromkeys(p.doc_id for p in r.retrieve(query, k).passages))

        m = evaluate_rankings(covered, queries, 5)
        print(
            f"  max {cap if cap else 'unlimited':<9} recall@5 {m.recall_at_k:.3f}  "
            f"hit@5 {m.hit_at_k:.3f}  MRR {m.mrr:.3f}"
        )
    print()


def bench_speed(
    embedder: MiniLMEmbedder, work: Path, *, docs: int, sections: int, n_queries: int, sample: int
) -> None:
    print(f"== Speed on a synthetic corpus ({docs} files x {sections} sections) ==")
    kb = work / "synthetic"
    synthetic_corpus(kb, docs, sections)
    chunker = default_chunker(embedder)

    # Chunk texts exactly as the indexer will embed them, for the raw-encode baseline.
    started = time.perf_counter()
    texts = [
        c.embed_text
        for path in sorted(kb.rglob("*.md"))
        for c in chunker.parse(path.name, path.read_bytes()).chunks
    ]
    chunk_seconds = time.perf_counter() - started
    tokens = [embedder.count_tokens(t) for t in texts[:2000]]
    print(
        f"chunks: {len(texts)} (mean {statistics.mean(tokens):.0f} word pieces); "
        f"chunking alone: {chunk_seconds:.1f} s"
    )
    # The machine may be shared: wall-clock rates move with the neighbours' load, so the
    # raw-encode baseline is taken in two halves (before and after the full index) and
    # CPU time is reported next to wall time.
    baseline = random.Random(3).sample(texts, min(sample, len(texts)))
    halves = (baseline[: len(baseline) // 2], baseline[len(baseline) // 2 :])

    def raw_encode(part: list[str]) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        embedder.embed_documents(part)
        return time.perf_counter() - wall, time.process_time() - cpu

    first_wall, first_cpu = raw_encode(halves[0])
    timed_embedder = TimedEmbedder(embedder)
    index = make_index(work / "synthetic-data", timed_embedder)
    cpu_started = time.process_time()
    report = index.update(kb)
    index_cpu = time.process_time() - cpu_started
    second_wall, second_cpu = raw_encode(halves[1])
    raw_rate = len(baseline) / (first_wall + second_wall)
    raw_cpu_rate = len(baseline) / (first_cpu + second_cpu)
    rate = report.chunks / report.seconds
    cpu_rate = report.chunks / index_cpu
    print(
        f"raw encode of {len(baseline)} random chunks of the corpus: {raw_rate:.1f} chunks/s "
        f"wall ({len(halves[0]) / first_wall:.1f} before, {len(halves[1]) / second_wall:.1f} "
        f"after the full index), {raw_cpu_rate:.1f} chunks per CPU-second"
    )
    print(
        f"full index: {report.chunks} chunks in {report.seconds:.1f} s = {rate:.1f} chunks/s "
        f"wall, {cpu_rate:.1f} chunks per CPU-second"
    )
    print(
        f"  ratio to raw encode: {rate / raw_rate:.3f} by wall time, "
        f"{cpu_rate / raw_cpu_rate:.3f} by CPU time (goal >= 0.85); "
        f"time inside the embedder: {timed_embedder.wall / report.seconds:.1%} of the run"
    )

    again = index.update(kb)
    print(
        f"re-index, nothing changed ({again.unchanged} files): {again.seconds:.2f} s "
        f"(embedded {again.embedded_chunks}; goal < 2 s)"
    )

    files = sorted(kb.rglob("*.md"))
    for attempt, edited in enumerate((files[len(files) // 3], files[2 * len(files) // 3])):
        edited.write_text(edited.read_text() + "\n## Added later\n\nA paragraph about refunds.\n")
        timed_embedder.reset()
        one = index.update(kb)
        when = "first write after the bulk load" if attempt == 0 else "next edit"
        print(
            f"re-index, one file edited ({when}): {one.seconds:.2f} s, of which embedding its "
            f"{one.embedded_chunks} chunks {timed_embedder.wall:.2f} s -> everything else "
            f"{one.seconds - timed_embedder.wall:.2f} s (goal < 1 s)"
        )

    queries = synthetic_queries(n_queries)
    print(f"retrieval at {one.chunks} chunks, {len(queries)} queries, k=5:")
    for mode in MODES:
        retriever = KnowledgeRetriever(index, mode=mode)
        warm = timed(lambda r=retriever: r.retrieve(queries[0], 5))
        rounds = [latency(retriever, queries, 5) for _ in range(3)]
        best = min(rounds, key=lambda r: r[1])
        print(
            f"  {mode.value:<8} p50 {best[0]:5.1f} ms  p95 {best[1]:5.1f} ms (best of 3 rounds; "
            f"p95 per round: {', '.join(f'{r[1]:.1f}' for r in rounds)}; first query incl. "
            f"loading {warm * 1000:.0f} ms; goal p95 < 30 ms)"
        )
    print(f"peak RSS: {peak_rss_mb():.0f} MB")
    size = sum(p.stat().st_size for p in (work / "synthetic-data").rglob("*") if p.is_file())
    print(f"index on disk: {size / 1e6:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=700)
    parser.add_argument("--sections", type=int, default=15)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--raw-sample", type=int, default=2000)
    parser.add_argument("--eval", type=Path, default=REPO / "tests/data/retrieval_eval.jsonl")
    parser.add_argument("--k", type=int, nargs="+", default=[3, 5])
    parser.add_argument("--skip-speed", action="store_true")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-retrieval-"))
    try:
        load = time.perf_counter()
        embedder = MiniLMEmbedder(batch_size=MINILM_BATCH_SIZE)  # as build_embedder does
        print(f"embedder: {embedder.name}, loaded in {time.perf_counter() - load:.2f} s")
        bench_quality(embedder, work, args.eval, args.k)
        if not args.skip_speed:
            bench_speed(
                embedder,
                work,
                docs=args.docs,
                sections=args.sections,
                n_queries=args.queries,
                sample=args.raw_sample,
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
