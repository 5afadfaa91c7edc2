"""``supportbot demo``: the real Slack app, end to end, against the project's fake Slack.

On embedded defaults — the bundled embedder, embedded Chroma and SQLite, the offline
executor; the frontier model only if ``ANTHROPIC_API_KEY`` is set — it

1. builds the index of the knowledge dir into ``<data dir>/demo/index`` (reused later),
2. starts the fake Slack workspace and runs the app exactly as ``supportbot serve`` does
   (HTTP mode on 127.0.0.1, its scheduler on a fresh store ``<data dir>/demo/supportbot.db``),
3. plays :data:`~supportbot.demo.script.SCENES` through it as signed Slack requests —
   messages, mentions, button clicks, a modal submission — printing every step, and
4. posts the day's digest with the digest job's own code, prints it and says where the chart is.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import SecretStr
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from supportbot.demo.printer import ConversationPrinter, directory_of
from supportbot.demo.script import SCENES, Review, Scene
from supportbot.fakes.slack import FakeSlack, Incoming, Message, SlackSender
from supportbot.jobs.digest import DigestConfig, DigestRun, run_daily_digest
from supportbot.jobs.digest_data import zone_of
from supportbot.jobs.digest_render import render_digest
from supportbot.llm.types import Escalator
from supportbot.retrieval import build_embedder
from supportbot.retrieval.types import Embedder, IndexReport
from supportbot.services import Services
from supportbot.settings import Settings
from supportbot.slack.blocks import ANSWER_BLOCK, REVIEW_APPROVE, REVIEW_EDIT
from supportbot.slack.serve import RunningApp, run_app
from supportbot.store.records import Escalation, Question

SIGNING_SECRET = "supportbot-demo-signing-secret"
REVIEW_CHANNEL = "C0REVIEW"
DIGEST_CHANNEL = "C0DIGEST"
SUPPORT_CHANNELS = ["C0SUPPORT"]
REVIEWERS = ["S0REVIEW"]
FALLBACK_REVIEWERS = ["S0LEADS"]
#: The longest the demo waits for the bot at one step (the first answer loads the models).
STEP_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class SceneOutcome:
    scene: Scene
    question: Question
    escalation: Escalation | None


@dataclass
class DemoReport:
    """What the demo did, for tests and the closing lines."""

    data_dir: Path
    index: IndexReport
    scenes: list[SceneOutcome] = field(default_factory=list)
    digest: DigestRun | None = None
    seconds: float = 0.0


def demo_settings(base: Settings, fake: FakeSlack) -> Settings:
    """``base`` on embedded defaults in ``<data dir>/demo``, talking to ``fake``. Only the
    Anthropic settings (and the paths, the time zone and the prices) are kept from ``base``:
    a configured database, Chroma server, Ollama or Slack is never touched by the demo."""
    data_dir = base.data_dir / "demo"
    return base.model_copy(
        update={
            "data_dir": data_dir,
            "database_url": f"sqlite:///{(data_dir / 'supportbot.db').resolve()}",
            "chroma_host": None,
            "embedder": "minilm",
            "ollama_host": None,
            "slack_bot_token": SecretStr(fake.bot_token),
            "slack_app_token": None,
            "slack_signing_secret": SecretStr(SIGNING_SECRET),
            "slack_api_url": fake.api_url,
            "review_channel": REVIEW_CHANNEL,
            "digest_channel": DIGEST_CHANNEL,
            "support_channels": list(SUPPORT_CHANNELS),
            "reviewers": list(REVIEWERS),
            "fallback_reviewers": list(FALLBACK_REVIEWERS),
            "source_url_template": None,
        }
    )


def fresh_store(settings: Settings) -> None:
    """Each demo run starts with an empty store (the index is kept)."""
    database = settings.data_dir / "supportbot.db"
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        path.unlink(missing_ok=True)


def run_demo(
    base: Settings,
    *,
    console: Console,
    embedder: Embedder | None = None,
    escalator: Escalator | Literal["auto"] | None = "auto",
    slack: FakeSlack | None = None,
) -> DemoReport:
    """Run the whole demo, printing to ``console``. ``slack`` (tests) is a running fake Slack
    the caller keeps; ``embedder`` and ``escalator`` replace the configured ones."""
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        fake = slack if slack is not None else stack.enter_context(FakeSlack())
        settings = demo_settings(base, fake)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        fresh_store(settings)
        embedder = embedder or build_embedder(settings)
        services = stack.enter_context(
            Services.build(settings, embedder=embedder, escalator=escalator)
        )
        _introduce(console, settings, services)
        report = DemoReport(data_dir=settings.data_dir, index=_build_index(console, services))
        printer = ConversationPrinter(
            console,
            directory_of(fake.workspace),
            bot_name=fake.workspace.bot_name,
            review_channel=REVIEW_CHANNEL,
            digest_channel=DIGEST_CHANNEL,
        )
        live = _Switch()
        fake.subscribe(lambda call: printer.on_call(call) if live.on else None)
        with run_app(settings, services, host="127.0.0.1", port=0) as running:
            assert running.url is not None  # HTTP mode: no app-level token in the demo
            console.print(
                Text(
                    f"The fake Slack workspace “{fake.workspace.team_name}” runs on "
                    f"{fake.url}; the bot listens on {running.url} and the signed requests "
                    "below go there.",
                    style="dim",
                )
            )
            play = _Player(
                fake, running, services, printer, SlackSender(running.url, SIGNING_SECRET)
            )
            live.on = True
            for number, scene in enumerate(SCENES, start=1):
                report.scenes.append(play.scene(number, scene))
            report.digest = _digest(
                console,
                printer=printer,
                settings=settings,
                services=services,
                running=running,
                number=len(SCENES) + 1,
            )
            running.bot.wait_idle(STEP_TIMEOUT_SECONDS)
            live.on = False
    report.seconds = time.perf_counter() - started
    _close(console, report)
    return report


class _Switch:
    on = False


class _Player:
    """Plays scenes as the people in them, and waits for the bot between steps."""

    def __init__(
        self,
        fake: FakeSlack,
        running: RunningApp,
        services: Services,
        printer: ConversationPrinter,
        sender: SlackSender,
    ) -> None:
        self.fake = fake
        self.running = running
        self.store = services.store
        self.printer = printer
        self.sender = sender
        self.bot_user = fake.bot_user_id

    def send(self, incoming: Incoming) -> None:
        response = self.sender.send(incoming)
        if response.status != 200:
            raise RuntimeError(f"the app answered HTTP {response.status}: {response.text}")

    def idle(self) -> None:
        if not self.running.bot.wait_idle(STEP_TIMEOUT_SECONDS):
            raise RuntimeError("the bot did not finish its work in time")

    def bot_reply(self, channel: str, thread_ts: str, contains: str = "") -> Message:
        def matches(message: Message) -> bool:
            return (
                message.user == self.bot_user
                and message.ts != thread_ts
                and contains in message.text + repr(message.blocks)
            )

        return self.fake.wait_for_message(channel, thread_ts, matches, timeout=STEP_TIMEOUT_SECONDS)

    def scene(self, number: int, scene: Scene) -> SceneOutcome:
        self.printer.chapter(number, scene.title, scene.note)
        traffic = self.fake.traffic
        incoming = (
            traffic.app_mention(scene.user, scene.channel, scene.text)
            if scene.trigger == "mention"
            else traffic.message(scene.user, scene.channel, scene.text)
        )
        ts = str(incoming.event["ts"])
        self.printer.says(scene.user, scene.channel, str(incoming.event["text"]))
        self.send(incoming)
        self.bot_reply(scene.channel, ts)
        self.idle()
        question = self.store.questions_in_thread(scene.channel, ts)[0]
        escalation = self._escalation(question)
        self.printer.note(_route_summary(question, escalation))
        review_ts = escalation.review_ts if escalation is not None else None
        if escalation is None or escalation.status != "pending" or review_ts is None:
            if scene.review is not None:
                self.printer.note("there is no review to act on, so no reviewer acts")
        elif scene.review is None:
            self.printer.note("it waits in #support-review for a reviewer")
        elif scene.review.action == "approve":
            self._approve(scene, ts, scene.review, review_ts)
        else:
            self._edit(scene, ts, scene.review, review_ts)
        question = self.store.get_question(question.id) or question
        return SceneOutcome(scene=scene, question=question, escalation=self._escalation(question))

    def _escalation(self, question: Question) -> Escalation | None:
        escalations = self.store.escalations_for_question(question.id)
        return escalations[-1] if escalations else None

    def _approve(self, scene: Scene, ts: str, review: Review, review_ts: str) -> None:
        self.printer.clicks(review.reviewer, "Approve", REVIEW_CHANNEL)
        self.send(
            self.fake.traffic.block_action(
                review.reviewer, REVIEW_CHANNEL, review_ts, REVIEW_APPROVE
            )
        )
        self.bot_reply(scene.channel, ts, "Reviewed and sent")
        self.idle()

    def _edit(self, scene: Scene, ts: str, review: Review, review_ts: str) -> None:
        reviewer, edited = review.reviewer, review.edited or ""
        mark = len(self.fake.calls())
        self.printer.clicks(reviewer, "Edit & send", REVIEW_CHANNEL)
        self.send(self.fake.traffic.block_action(reviewer, REVIEW_CHANNEL, review_ts, REVIEW_EDIT))
        opened = self.fake.wait_for_call(
            "views.open", lambda call: call.seq > mark, timeout=STEP_TIMEOUT_SECONDS
        )
        self.idle()  # the click's own work printed first
        self.printer.modal_opened(opened)
        view_id = str(opened.response["view"]["id"])
        self.printer.submits(reviewer, "Edit & send", edited)
        self.send(self.fake.traffic.view_submission(reviewer, view_id, {ANSWER_BLOCK: edited}))
        self.bot_reply(scene.channel, ts, "Reviewed and sent")
        self.idle()


def _route_summary(question: Question, escalation: Escalation | None) -> str:
    signals = ", ".join(dict.fromkeys(r.signal for r in question.reasons)) or "none"
    category = f", category {question.category}" if question.category else ""
    if escalation is None:
        score = f" (best retrieval score {question.top_score:.2f})" if question.top_score else ""
        return f"route {question.route}{category}: answered in the thread{score}"
    return f"route {question.route}{category}: escalated ({escalation.route}) because of {signals}"


def _introduce(console: Console, settings: Settings, services: Services) -> None:
    console.print()
    console.print(
        Text("supportbot demo", style="bold cyan"),
        Text("— the real Slack app, end to end, against a fake Slack workspace", style="cyan"),
    )
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim")
    table.add_column()
    frontier = (
        f"{services.escalator.name} (ANTHROPIC_API_KEY is set)"
        if services.escalator is not None
        else "none (no ANTHROPIC_API_KEY): frontier-tier questions go to people"
    )
    table.add_row("knowledge", str(settings.knowledge_dir.resolve()))
    table.add_row("policy", str((settings.policies_dir / "escalation.yaml").resolve()))
    table.add_row("embedder", f"{services.embedder.name} (bundled, offline)")
    table.add_row("open model", f"{services.executor.name} (no model server needed)")
    table.add_row("frontier model", frontier)
    table.add_row("store, index", f"{settings.data_dir} (fresh store each run; index reused)")
    table.add_row("people", "Alice asks; Bob and Carol review (@support-reviewers)")
    table.add_row("timezone", f"{settings.timezone} (SUPPORTBOT_TIMEZONE)")
    console.print(table)


def _build_index(console: Console, services: Services) -> IndexReport:
    knowledge_dir = services.settings.knowledge_dir
    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    task = bar.add_task("Embedding the knowledge base (first run only)", total=None)

    def on_progress(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    with bar:
        report = services.index.update(knowledge_dir, progress=on_progress)
    files = report.added + report.updated + report.unchanged
    if report.added or report.updated or report.removed:
        what = (
            f"Indexed {files} files of {knowledge_dir} into {report.chunks} chunks "
            f"in {report.seconds:.1f} s ({report.embedded_chunks} embedded)"
        )
    else:
        what = f"Knowledge index up to date: {files} files, {report.chunks} chunks (reused)"
    console.print(Text(what, style="green"))
    for failed in report.failed:
        console.print(Text(f"  skipped {failed.path}: {failed.error}", style="yellow"))
    return report


def _digest(
    console: Console,
    *,
    printer: ConversationPrinter,
    settings: Settings,
    services: Services,
    running: RunningApp,
    number: int,
) -> DigestRun:
    printer.chapter(
        number,
        "The daily digest",
        "What the 09:00 digest job posts to #support-digest each morning — here for today, "
        "so it includes the conversation above — with its chart in the thread.",
    )
    thresholds = services.policies.current().policy.thresholds
    config = DigestConfig.from_settings(
        settings, min_retrieval_score=thresholds.min_retrieval_score
    )
    run = run_daily_digest(
        store=services.store,
        embedder=services.embedder,
        config=config,
        poster=running.bot.gateway,
        channel=settings.digest_channel,
        clock=services.clock,
        day=services.clock.now().astimezone(zone_of(settings.timezone)).date(),
    )
    console.print()
    console.print(render_digest(run.digest))
    console.print()
    console.print(Text.assemble(("Chart: ", "bold"), str(run.chart.resolve())))
    return run


def _close(console: Console, report: DemoReport) -> None:
    day = report.digest.digest.date.isoformat() if report.digest else "YYYY-MM-DD"
    data_dir = report.data_dir
    console.print()
    console.print(
        Text(f"Demo finished in {report.seconds:.1f} s.", style="bold green"),
        Text("The fake Slack, the bot and its scheduler have stopped.", style="green"),
    )
    console.print(
        Text(
            f"Look around: supportbot digest --data-dir {data_dir} --date {day}  ·  "
            f'supportbot ask "{SCENES[0].text}" --data-dir {data_dir}\n'
            "Run it in your own Slack workspace: README.md, “Slack app setup”, then "
            "supportbot serve.",
            style="dim",
        )
    )
