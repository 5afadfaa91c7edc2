#!/usr/bin/env python
"""Slack app benchmark: prints numbers, asserts nothing.

    .venv/bin/python scripts/bench_slack.py [--questions 100] [--model-seconds 0.5]
        [--acks 200] [--rate 20] [--in-flight 20] [--workers 16] [--database-url URL]

The app runs alone in a child process, as in production: the real bolt app behind its
threaded HTTP server (signed requests to POST /slack/events), the real store (SQLite in a
temp dir, or ``--database-url``), a real Chroma index of a small knowledge dir and the
bundled MiniLM embedder. Slack is the project's fake, in this process; the requests come
from a third, otherwise idle process. The open model is a stand-in that sleeps and then
drafts a confident answer, so the numbers show the app, not a model.

1. Ack latency (goal p99 < 50 ms), each request's HTTP round trip until the app's ack;
   ``--acks`` requests, half new questions (``app_mention`` events, each one recorded in
   the store before the ack), half 👍 clicks, while a slow model keeps questions in flight:
   a) steady: ``--rate`` requests/s, open loop; the model's latency is chosen so that about
      ``--in-flight`` questions are being answered (Little's law), sampled from /healthz;
   b) burst: the same requests back to back from 4 clients, on top of ``--in-flight``.
2. Throughput (goal: 100 questions in < 10 s with a 500 ms model): ``--questions``
   questions across 20 channels, from the first request to the last answer posted in
   Slack. The baseline is the serial time measured in the same app process before the run
   (the pipeline answering a few questions one after another, scaled to ``--questions``);
   the ratio says how far model calls run in parallel.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from supportbot.fakes.slack import (  # noqa: E402
    FakeSlack,
    Incoming,
    SignedRequest,
    SlackChannel,
    SlackSender,
)
from supportbot.llm.types import (  # noqa: E402
    ConversationTurn,
    Draft,
    Evidence,
    ExecutorOutcome,
    ModelCall,
)
from supportbot.retrieval.embedders import MiniLMEmbedder  # noqa: E402
from supportbot.retrieval.evaluation import percentile  # noqa: E402
from supportbot.retrieval.types import Passage  # noqa: E402
from supportbot.services import Services  # noqa: E402
from supportbot.settings import Settings  # noqa: E402
from supportbot.slack import build_app  # noqa: E402
from supportbot.slack.blocks import FEEDBACK_UP  # noqa: E402
from supportbot.store import NewQuestion  # noqa: E402

SECRET = "bench-signing-secret"
CHANNELS = 20
CLIENT_THREADS = 4
BUSY = ("answering", "queued", "interactions")
KNOWLEDGE = {
    "accounts/password-reset.md": "# Reset your password\n\n## Forgot your password\n\n"
    "On the sign-in page click Forgot password and enter your work email address. "
    "The reset link is valid for 60 minutes.\n",
    "product/exporting-data.md": "# Exporting data\n\n## Export a project\n\n"
    "Open the project, choose Settings, then Export, and pick CSV or JSON. Large exports "
    "arrive by email within an hour.\n",
    "product/dashboards.md": "# Dashboards\n\n## Share a dashboard\n\n"
    "Open the dashboard, click Share and pick people or a link. Viewers need no seat.\n",
}
QUESTIONS = [
    "How do I reset my password?",
    "How do I export a project to CSV?",
    "How long is the password reset link valid?",
    "Can I share a dashboard with someone without a seat?",
    "Where do large project exports arrive?",
]


class SleepyExecutor:
    """The open model, as far as timing goes: sleeps, then drafts a confident answer.
    ``seconds`` is a shared value the benchmark changes between its phases."""

    def __init__(self, seconds: Any) -> None:
        self.seconds = seconds

    @property
    def name(self) -> str:
        return "sleepy"

    def draft(
        self,
        question: str,
        passages: Sequence[Passage],
        *,
        history: Sequence[ConversationTurn] = (),
    ) -> ExecutorOutcome:
        time.sleep(self.seconds.value)
        evidence = [Evidence(source=p.source, quote=p.text[-40:]) for p in passages[:1]]
        draft = Draft(
            classification="routine",
            evidence=evidence,
            draft_response=f"Answer to {question!r} from the knowledge base.",
            confidence=0.95,
            escalate=False,
        )
        call = ModelCall(
            tier="executor",
            provider="bench",
            model="sleepy",
            outcome="ok",
            latency_ms=self.seconds.value * 1000,
        )
        return ExecutorOutcome(draft=draft, calls=[call])


def app_process(  # noqa: PLR0917 - a multiprocessing target takes positional arguments
    connection: Connection,
    scratch: str,
    api_url: str,
    bot_token: str,
    workers: int,
    model: Any,
    database_url: str | None,
) -> None:
    """The app under test, alone in its own process (as in production: Slack and the
    load generator are elsewhere), so the numbers are not the fake Slack's."""
    logging.basicConfig(level=logging.ERROR)
    root = Path(scratch)
    kb = root / "knowledge"
    for relative, text in KNOWLEDGE.items():
        (kb / relative).parent.mkdir(parents=True, exist_ok=True)
        (kb / relative).write_text(text, encoding="utf-8")
    settings = Settings(
        knowledge_dir=kb,
        policies_dir=REPO / "policies",
        data_dir=root / "data",
        slack_bot_token=bot_token,
        slack_signing_secret=SECRET,
        slack_api_url=api_url,
        review_channel="C0REVIEW",
        reviewers=["S0REVIEW"],
        slack_workers=workers,
        slack_queue_limit=1_000,
        database_url=database_url,
    )
    executor = SleepyExecutor(model)
    with Services.build(
        settings, embedder=MiniLMEmbedder(), executor=executor, escalator=None
    ) as services:
        services.index.update(kb)
        per_question = serial_baseline(services, samples=int(connection.recv()))
        bot = build_app(settings, services)
        server = bot.serve_http(port=0, host="127.0.0.1")
        connection.send({"url": server.url, "serial_per_question": per_question})
        connection.recv()  # the benchmark is done
        server.close()
        bot.close(timeout=30)


class AppUnderTest:
    """The parent's handle on the app process: its URL, health, and signed requests."""

    def __init__(
        self,
        fake: FakeSlack,
        workers: int,
        model_seconds: float,
        samples: int,
        database_url: str | None,
    ) -> None:
        self.fake = fake
        self._scratch = tempfile.TemporaryDirectory(prefix="bench-slack-")
        context = multiprocessing.get_context("spawn")
        self.model = context.Value("d", model_seconds)
        self._connection, child = context.Pipe()
        self._process = context.Process(
            target=app_process,
            args=(
                child,
                self._scratch.name,
                fake.api_url,
                fake.bot_token,
                workers,
                self.model,
                database_url,
            ),
        )
        self._process.start()
        self._connection.send(samples)
        ready = self._connection.recv()
        self.url: str = ready["url"]
        self.serial_per_question: float = ready["serial_per_question"]
        self.sender = SlackSender(self.url, SECRET, timeout=30)

    def close(self) -> None:
        self._connection.send("stop")
        self._process.join(60)
        self._scratch.cleanup()

    def health(self) -> dict[str, Any]:
        url = self.url.replace("/slack/events", "/healthz")
        with urllib.request.urlopen(url, timeout=10) as response:
            health: dict[str, Any] = json.loads(response.read())
        return health

    def wait_idle(self, timeout: float) -> bool:
        return wait_until(lambda: not any(self.health()[k] for k in BUSY), timeout)

    def timed_send(self, incoming: Incoming) -> float:
        signed = self.sender.sign(incoming)
        started = time.perf_counter()
        response = self.sender.send_signed(signed)
        elapsed = time.perf_counter() - started
        if response.status != 200:
            raise RuntimeError(f"the app answered {response.status}: {response.text}")
        return elapsed * 1000

    def answered(self, channel: str, ts: str) -> bool:
        return any(m.user == "U0BOT" and m.ts != ts for m in self.fake.messages_in(channel, ts))


def add_channels(fake: FakeSlack) -> list[str]:
    channels = [f"C0BENCH{i:02d}" for i in range(CHANNELS)]
    for channel in channels:
        fake.add_channel(SlackChannel(id=channel, name=channel.lower()))
    return channels


def wait_until(condition: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def serial_baseline(services: Services, samples: int) -> float:
    """Seconds per question when the pipeline answers them one after another."""
    services.pipeline.ask(NewQuestion(source="cli", text="warm-up question"))
    started = time.perf_counter()
    for i in range(samples):
        services.pipeline.ask(NewQuestion(source="cli", text=QUESTIONS[i % len(QUESTIONS)]))
    return (time.perf_counter() - started) / samples


def send_all(
    url: str, requests: list[tuple[str, SignedRequest]], rate: float | None, threads: int
) -> list[tuple[str, float]]:
    """The load generator's process: POST the signed requests and time each round trip.

    ``rate`` (requests/s): open loop, request i leaves at start + i / rate whatever the
    answers before it; None: ``threads`` clients send back to back (a burst)."""
    sender = SlackSender(url, SECRET, timeout=30)
    start = time.perf_counter() + 0.2

    def send(indexed: tuple[int, tuple[str, SignedRequest]]) -> tuple[str, float]:
        index, (kind, signed) = indexed
        if rate is not None:
            delay = start + index / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        started = time.perf_counter()
        response = sender.send_signed(signed)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200:
            raise RuntimeError(f"the app answered {response.status}: {response.text}")
        return kind, elapsed

    with ThreadPoolExecutor(threads if rate is None else 64) as clients:
        return list(clients.map(send, enumerate(requests)))


def ack_latency(
    bench: AppUnderTest,
    channels: list[str],
    answer_ts: str,
    acks: int,
    rate: float | None,
) -> dict[str, Any]:
    """Half new questions (app_mention events), half 👍 clicks, while the slow model keeps
    questions in flight; the in-flight count is sampled from /healthz meanwhile."""
    fake = bench.fake
    requests: list[tuple[str, Incoming]] = []
    for i in range(acks):
        if i % 2 == 0:
            channel = channels[(i + 1) % len(channels)]
            requests.append(
                ("event", fake.traffic.app_mention("U0CAROL", channel, QUESTIONS[i % 5]))
            )
        else:
            click = fake.traffic.block_action("U0DAVE", channels[0], answer_ts, FEEDBACK_UP)
            requests.append(("click", click))
    signed = [(kind, bench.sender.sign(incoming)) for kind, incoming in requests]
    samples: list[int] = []
    sampling = threading.Event()

    def sample() -> None:
        while not sampling.wait(0.25):
            health = bench.health()
            samples.append(health["answering"] + health["queued"])

    sampler = threading.Thread(target=sample)
    sampler.start()
    context = multiprocessing.get_context("spawn")
    try:
        with context.Pool(1) as client:  # a quiet process of its own, like Slack's side
            latencies = client.apply(send_all, (bench.url, signed, rate, CLIENT_THREADS))
    finally:
        sampling.set()
        sampler.join()
    result: dict[str, Any] = {
        "rate_per_s": rate,
        "in_flight": {
            "min": min(samples, default=0),
            "mean": round(sum(samples) / max(len(samples), 1), 1),
            "max": max(samples, default=0),
        },
    }
    for kind in ("event", "click"):
        values = [ms for k, ms in latencies if k == kind]
        result[kind] = {
            "n": len(values),
            "p50_ms": round(percentile(values, 50), 2),
            "p99_ms": round(percentile(values, 99), 2),
            "max_ms": round(max(values), 2),
        }
    bench.wait_idle(180)
    return result


def prepare_acks(bench: AppUnderTest, channels: list[str], in_flight: int) -> str:
    """An answer to click on; then ``in_flight`` questions for the slow model to work on."""
    fake = bench.fake
    warm = fake.traffic.app_mention("U0ALICE", channels[0], QUESTIONS[0])
    bench.timed_send(warm)
    wait_until(lambda: bench.answered(channels[0], warm.event["ts"]), 30)
    answer = next(m for m in fake.messages_in(channels[0], warm.event["ts"]) if m.user == "U0BOT")
    bench.wait_idle(30)
    for i in range(in_flight):
        channel = channels[i % len(channels)]
        bench.timed_send(fake.traffic.app_mention("U0ALICE", channel, QUESTIONS[i % 5]))
    return answer.ts


def throughput(bench: AppUnderTest, channels: list[str], questions: int) -> dict[str, Any]:
    fake = bench.fake
    incoming = [
        fake.traffic.app_mention("U0ALICE", channels[i % len(channels)], QUESTIONS[i % 5])
        for i in range(questions)
    ]
    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENT_THREADS) as clients:
        list(clients.map(bench.timed_send, incoming))
    sent = time.perf_counter() - started
    done = wait_until(
        lambda: all(bench.answered(m.event["channel"], m.event["ts"]) for m in incoming), 120
    )
    wall = time.perf_counter() - started
    bench.wait_idle(30)
    return {
        "n": questions,
        "all_answered": done,
        "send_s": round(sent, 3),
        "wall_s": round(wall, 3),
    }


def print_acks(title: str, acks: dict[str, Any]) -> None:
    flight = acks["in_flight"]
    print(
        f"{title}; questions in flight min {flight['min']}, mean {flight['mean']}, "
        f"max {flight['max']}"
    )
    for kind, label in (("event", "events (new questions)"), ("click", "button clicks (👍)")):
        row = acks[kind]
        print(
            f"   {label:<24} n={row['n']:<4} p50 {row['p50_ms']:7.2f} ms   "
            f"p99 {row['p99_ms']:7.2f} ms   max {row['max_ms']:7.2f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--model-seconds", type=float, default=0.5)
    parser.add_argument("--acks", type=int, default=200, help="requests per ack measurement")
    parser.add_argument("--rate", type=float, default=20.0, help="requests/s, steady phase")
    parser.add_argument("--in-flight", type=int, default=20)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--baseline-samples", type=int, default=5)
    parser.add_argument(
        "--database-url",
        default=None,
        help="the store (default: SQLite in a temp dir); e.g. an empty PostgreSQL database",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)

    # the model's latency while acks are measured: new questions at rate/2 per second keep
    # rate/2 x slow questions in flight (Little's law) - the --in-flight target
    slow = max(args.in_flight / (args.rate / 2), args.model_seconds)
    with FakeSlack() as fake:
        channels = add_channels(fake)
        bench = AppUnderTest(
            fake, args.workers, args.model_seconds, args.baseline_samples, args.database_url
        )
        try:
            per_question = bench.serial_per_question
            bench.model.value = slow
            answer_ts = prepare_acks(bench, channels, args.in_flight)
            steady = ack_latency(bench, channels, answer_ts, args.acks, args.rate)
            prepare_acks(bench, channels, args.in_flight)
            burst = ack_latency(bench, channels, answer_ts, args.acks, None)
            bench.model.value = args.model_seconds
            fake.reset_calls()
            flow = throughput(bench, channels, args.questions)
            rejected = len(fake.rejections())
        finally:
            bench.close()

    serial = per_question * args.questions
    model_ms = args.model_seconds * 1000
    store = args.database_url or "SQLite"
    print(f"supportbot Slack benchmark: {args.workers} answer workers, store {store}")
    print()
    print(f"1. ack latency through POST /slack/events (goal p99 < 50 ms); model {slow:.1f} s")
    print_acks(f"a) steady: {args.rate:g} requests/s for {args.acks / args.rate:.0f} s", steady)
    print_acks(f"b) burst: {args.acks} requests back to back from {CLIENT_THREADS} clients", burst)
    print()
    print(f"2. {flow['n']} questions across {CHANNELS} channels, model {model_ms:.0f} ms each")
    print(f"   all answered in Slack: {flow['all_answered']}; sent in {flow['send_s']:.2f} s")
    print(f"   wall time to the last answer   {flow['wall_s']:7.2f} s   (goal < 10 s)")
    print(
        f"   serial baseline (same process) {serial:7.2f} s   "
        f"({per_question * 1000:.0f} ms/question x {args.questions})"
    )
    print(f"   speed-up vs serial             {serial / flow['wall_s']:7.1f} x")
    print(f"   Slack rejections: {rejected}")
    print()
    summary = {
        "acks_steady": steady,
        "acks_burst": burst,
        "throughput": flow,
        "serial_s": round(serial, 3),
        "speedup": round(serial / flow["wall_s"], 2),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
