#!/usr/bin/env python
"""Pipeline benchmark: prints numbers, asserts nothing.

    .venv/bin/python scripts/bench_pipeline.py [--questions tests/data/routing_sample.jsonl]
        [--data-dir DIR] [--repeat 2]

1. Overhead per question, excluding model time: every question of the mix goes through the
   whole pipeline (retrieval, category matching, both router stages, the store writes) with
   models that answer instantly — the project's fake Ollama and fake Anthropic servers on
   127.0.0.1, driven through the official clients — and the overhead is the total time minus
   the time inside the model calls. Goal: p95 < 30 ms. Baseline in the same process: the
   retrieval call alone (the work no pipeline can skip), as a ratio.
2. Cost of a realistic mix: the same questions with the embedded offline executor and a
   frontier model on the routes that need it (the fake Anthropic, which reports token
   usage as the real API does), against sending every question to the frontier model.
   Prices are the settings' (SUPPORTBOT_FRONTIER_PRICE_*).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from supportbot.fakes.anthropic import FakeAnthropic, stand_in_decision  # noqa: E402
from supportbot.fakes.http import FakeResponse, RecordedRequest  # noqa: E402
from supportbot.fakes.ollama import FakeOllama, chat_json  # noqa: E402
from supportbot.llm.offline_executor import OfflineExecutor  # noqa: E402
from supportbot.llm.types import Draft, EscalationRequest, Evidence, ModelCall  # noqa: E402
from supportbot.retrieval import build_embedder, open_index  # noqa: E402
from supportbot.retrieval.evaluation import percentile  # noqa: E402
from supportbot.services import Services  # noqa: E402
from supportbot.settings import Settings  # noqa: E402
from supportbot.store import NewQuestion  # noqa: E402


def load_questions(path: Path) -> list[str]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [str(r.get("text") or r.get("query")) for r in rows]


_PASSAGE = re.compile(r'<passage number="1" source="([^"]+)"[^>]*>\n(.*?)\n', re.DOTALL)


def quoting_draft(request: RecordedRequest) -> FakeResponse:
    """An instant open model: a valid draft quoting the first line of the first passage."""
    messages = request.body.get("messages") or []
    found = _PASSAGE.search(str(messages[-1].get("content", "")) if messages else "")
    evidence = [Evidence(source=found.group(1), quote=found.group(2).strip())] if found else []
    draft = Draft(
        classification="routine",
        evidence=evidence,
        draft_response="An answer grounded in the first passage.",
        confidence=0.9,
        escalate=not evidence,
        escalate_reason=None if evidence else "no passages",
    )
    return chat_json(draft)(request)


def cost(calls: list[ModelCall], settings: Settings) -> float:
    per = 1_000_000
    return sum(
        c.input_tokens * settings.frontier_price_input_per_mtok / per
        + c.output_tokens * settings.frontier_price_output_per_mtok / per
        + c.cache_read_tokens * settings.frontier_price_cache_read_per_mtok / per
        + c.cache_write_tokens * settings.frontier_price_cache_write_per_mtok / per
        for c in calls
    )


def tokens(calls: list[ModelCall]) -> tuple[int, int, int, int]:
    return (
        sum(c.input_tokens for c in calls),
        sum(c.output_tokens for c in calls),
        sum(c.cache_read_tokens for c in calls),
        sum(c.cache_write_tokens for c in calls),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=Path, default=REPO / "tests/data/routing_sample.jsonl")
    parser.add_argument("--knowledge", type=Path, default=REPO / "knowledge")
    parser.add_argument("--policies", type=Path, default=REPO / "policies")
    parser.add_argument("--data-dir", type=Path, default=None, help="reuse an index here")
    parser.add_argument("--repeat", type=int, default=2, help="passes over the questions")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    data_dir = args.data_dir or scratch / "data"
    questions = load_questions(args.questions)
    base = Settings(  # type: ignore[call-arg]
        _env_file=None,
        knowledge_dir=args.knowledge,
        policies_dir=args.policies,
        data_dir=data_dir,
        database_url=f"sqlite:///{scratch}/overhead.db",
    )
    embedder = build_embedder(base)
    started = time.perf_counter()
    report = open_index(base, embedder).update(args.knowledge)
    print(
        f"index: {report.chunks} chunks ({report.embedded_chunks} embedded) "
        f"in {time.perf_counter() - started:.1f} s"
    )

    with FakeOllama() as ollama, FakeAnthropic() as frontier:
        ollama.set_default("chat", quoting_draft)
        frontier.set_default("messages", stand_in_decision())
        settings = base.model_copy(
            update={
                "ollama_host": ollama.url,
                "anthropic_api_key": SecretStr("sk-ant-bench"),
                "anthropic_base_url": frontier.url,
                "anthropic_model": "claude-sonnet-5-5",
            }
        )
        # -- 1. overhead ---------------------------------------------------------------
        with Services.build(settings, embedder=embedder) as services:
            services.pipeline.ask(NewQuestion(source="eval", text=questions[0]))  # warm-up
            retrieval_ms: list[float] = []
            for q in questions:
                t = time.perf_counter()
                services.retriever.retrieve(q, settings.retrieval_k)
                retrieval_ms.append((time.perf_counter() - t) * 1000)
            overhead: list[float] = []
            totals: list[float] = []
            routes: dict[str, int] = {}
            for _ in range(args.repeat):
                for q in questions:
                    result = services.pipeline.ask(NewQuestion(source="eval", text=q))
                    overhead.append(result.timings.overhead_ms)
                    totals.append(result.timings.total_ms)
                    routes[result.route] = routes.get(result.route, 0) + 1
        print(
            f"\n1. pipeline overhead per question, models answering instantly (n={len(overhead)})"
        )
        print(f"   routes: {routes}")
        p50, p95 = percentile(overhead, 50), percentile(overhead, 95)
        r50, r95 = percentile(retrieval_ms, 50), percentile(retrieval_ms, 95)
        print(f"   overhead  p50 {p50:6.1f} ms  p95 {p95:6.1f} ms   (goal p95 < 30 ms)")
        t50, t95 = percentile(totals, 50), percentile(totals, 95)
        print(f"   total     p50 {t50:6.1f} ms  p95 {t95:6.1f} ms")
        print(f"   baseline: retrieval alone p50 {r50:6.1f} ms  p95 {r95:6.1f} ms")
        print(f"   overhead / retrieval: p50 {p50 / r50:.2f}x  p95 {p95 / r95:.2f}x")

        # -- 2. cost of a realistic mix -------------------------------------------------
        frontier.reset()
        mix = settings.model_copy(update={"database_url": f"sqlite:///{scratch}/mix.db"})
        with Services.build(mix, embedder=embedder, executor=OfflineExecutor(embedder)) as sv:
            frontier_calls: list[ModelCall] = []
            routes = {}
            for q in questions:
                result = sv.pipeline.ask(NewQuestion(source="eval", text=q))
                routes[result.route] = routes.get(result.route, 0) + 1
                calls = sv.store.model_calls(result.question_id)
                frontier_calls += [c for c in calls if c.tier == "escalator"]
            # Everything to the frontier model: each question, its passages, no draft.
            everything: list[ModelCall] = []
            assert sv.escalator is not None
            for q in questions:
                passages = sv.retriever.retrieve(q, mix.retrieval_k).passages
                outcome = sv.escalator.escalate(
                    EscalationRequest(question=q, passages=passages, draft=None, reasons=[])
                )
                everything += outcome.calls
    mixed_cost, all_cost = cost(frontier_calls, mix), cost(everything, mix)
    print(f"\n2. cost of the mix ({len(questions)} questions, {args.questions.name})")
    print(f"   routes: {routes}")
    columns = ("calls", "input", "output", "cache rd", "cache wr", "USD")
    print(f"   {'':28}" + "".join(f"{c:>10}" for c in columns))
    for label, calls, usd in (
        ("supportbot (tiered)", frontier_calls, mixed_cost),
        ("everything to the frontier", everything, all_cost),
    ):
        i, o, cr, cw = tokens(calls)
        print(f"   {label:28}{len(calls):>10}{i:>10}{o:>10}{cr:>10}{cw:>10}{usd:>10.4f}")
    if all_cost:
        print(
            f"   tiered / all-frontier cost: {mixed_cost / all_cost:.2f} "
            f"(saves {100 * (1 - mixed_cost / all_cost):.0f}%)"
        )
    print(
        f"   prices per MTok: input ${mix.frontier_price_input_per_mtok}, output "
        f"${mix.frontier_price_output_per_mtok}, cache read "
        f"${mix.frontier_price_cache_read_per_mtok}, cache write "
        f"${mix.frontier_price_cache_write_per_mtok}"
    )
    print(f"   median overhead of the mix run: {statistics.median(overhead):.1f} ms")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
