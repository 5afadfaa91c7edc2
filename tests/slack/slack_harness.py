"""A running supportbot Slack app for the flow tests: the real bolt app over HTTP, the real
store (SQLite under tmp_path), the real Chroma index of a small knowledge dir, a scripted
executor, and the project's fake Slack. Requests are signed as Slack signs them."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from supportbot.clock import Clock, SystemClock
from supportbot.fakes.slack import FakeSlack, Incoming, Message, SlackHttpResponse, SlackSender
from supportbot.llm.types import ConversationTurn, Draft, Evidence, ExecutorOutcome, ModelCall
from supportbot.retrieval.types import Embedder, Passage
from supportbot.services import Services
from supportbot.settings import Settings
from supportbot.slack import SlackBot, build_app
from supportbot.slack.http import HttpServer

REPO_ROOT = Path(__file__).resolve().parents[2]
SECRET = "test-signing-secret"
BOT = "U0BOT"
SOURCE_URL = "https://git.example.com/kb/blob/main/{source}#L{line_start}"

KNOWLEDGE = {
    "billing/refund-policy.md": """\
# Refund policy

## Refund window

Annual plans can be refunded in full within 30 days of the first payment or of a renewal.
Monthly plans are not refunded, but you can cancel at any time.

## Duplicate charges

If you were charged twice for the same invoice, we refund the duplicate charge in full.
""",
    "accounts/password-reset.md": """\
# Reset your password

## Forgot your password

On the sign-in page click **Forgot password?** and enter your work email address.
The reset link in the email is valid for 60 minutes.

## Change your password while signed in

Go to Profile, then Security, then Change password. You need your current password.
""",
    "product/exporting-data.md": """\
# Exporting data

## Export a project

Open the project, choose Settings, then Export, and pick CSV or JSON.
Exports of large projects arrive by email as a download link within an hour.
""",
}


def write_knowledge(root: Path) -> Path:
    for relative, text in KNOWLEDGE.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@dataclass
class ExecutorCall:
    question: str
    history: list[ConversationTurn]
    passages: list[Passage]


@dataclass
class ScriptedExecutor:
    """An executor that answers what the test says, quoting the top passage as evidence.

    ``reply`` maps the question to the draft text (default: a short grounded answer);
    ``fail`` makes it raise; ``delay`` makes it slow (seconds)."""

    reply: Callable[[str], str] | None = None
    fail: bool = False
    delay: float = 0.0
    calls: list[ExecutorCall] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def name(self) -> str:
        return "scripted"

    def draft(
        self,
        question: str,
        passages: Sequence[Passage],
        *,
        history: Sequence[ConversationTurn] = (),
    ) -> ExecutorOutcome:
        with self.lock:
            self.calls.append(ExecutorCall(question, list(history), list(passages)))
        if self.delay:
            threading.Event().wait(self.delay)
        if self.fail:
            raise RuntimeError("the model server exploded")
        text = self.reply(question) if self.reply else f"Here is the answer to: {question}"
        evidence = (
            [Evidence(source=passages[0].source, quote=passages[0].text.split("\n")[-1][:60])]
            if passages
            else []
        )
        draft = Draft(
            classification="routine",
            evidence=evidence,
            draft_response=text,
            confidence=0.95,
            escalate=False,
        )
        call = ModelCall(
            tier="executor", provider="scripted", model="scripted", outcome="ok", latency_ms=1.0
        )
        return ExecutorOutcome(draft=draft, calls=[call])


def slack_settings(kb: Path, data_dir: Path, fake: FakeSlack, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "knowledge_dir": kb,
        "policies_dir": REPO_ROOT / "policies",
        "data_dir": data_dir,
        "slack_bot_token": fake.bot_token,
        "slack_signing_secret": SECRET,
        "slack_api_url": fake.api_url,
        "review_channel": "C0REVIEW",
        "support_channels": ["C0SUPPORT"],
        "reviewers": ["S0REVIEW"],
        "fallback_reviewers": ["S0LEADS"],
        "source_url_template": SOURCE_URL,
        "slack_workers": 4,
    }
    values.update(overrides)
    return Settings(**values)


class Harness:
    """One app instance: services, bolt app, HTTP server; restartable on the same data."""

    def __init__(
        self,
        fake: FakeSlack,
        settings: Settings,
        embedder: Embedder,
        executor: ScriptedExecutor,
        clock: Clock | None = None,
    ) -> None:
        self.fake = fake
        self.settings = settings
        self.embedder = embedder
        self.executor = executor
        self.clock = clock or SystemClock()
        self.services = Services.build(
            settings, clock=self.clock, embedder=embedder, executor=executor, escalator=None
        )
        self.bot: SlackBot = build_app(settings, self.services)
        self.server: HttpServer = self.bot.serve_http(port=0, host="127.0.0.1")
        self.sender = SlackSender(self.server.url, SECRET)
        self.closed = False

    @property
    def store(self) -> Any:
        return self.services.store

    def send(self, incoming: Incoming) -> SlackHttpResponse:
        response = self.sender.send(incoming)
        assert response.status == 200, (response.status, response.text)
        return response

    def ask(self, user: str, channel: str, text: str, *, thread_ts: str | None = None) -> str:
        """``user`` @mentions the bot with ``text``; returns the message's ts."""
        mention = self.fake.traffic.app_mention(user, channel, text, thread_ts=thread_ts)
        self.send(mention)
        return str(mention.event["ts"])

    def bot_reply(
        self,
        channel: str,
        thread_ts: str,
        contains: str = "",
        *,
        timeout: float = 10.0,
    ) -> Message:
        """Wait for the bot's message in the thread whose text or blocks contain ``contains``."""

        def matches(message: Message) -> bool:
            return (
                message.user == BOT and message.ts != thread_ts and contains in _all_text(message)
            )

        return self.fake.wait_for_message(channel, thread_ts, matches, timeout=timeout)

    def bot_replies(self, channel: str, thread_ts: str) -> list[Message]:
        return [
            m
            for m in self.fake.messages_in(channel, thread_ts)
            if m.user == BOT and m.ts != thread_ts
        ]

    def review_message(self, *, timeout: float = 10.0) -> Message:
        return self.fake.wait_for_message(
            "C0REVIEW", predicate=lambda m: m.user == BOT, timeout=timeout
        )

    def click(self, user: str, channel: str, ts: str, action_id: str) -> SlackHttpResponse:
        return self.send(self.fake.traffic.block_action(user, channel, ts, action_id))

    def idle(self) -> None:
        assert self.bot.wait_idle(15.0), "the bot's pools did not drain"

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.server.close()
        self.bot.close(timeout=10)
        self.services.close()


def _all_text(message: Message) -> str:
    import json

    return message.text + json.dumps(message.blocks)


def block_texts(message: Message) -> str:
    """Every mrkdwn/plain text in the message's blocks, joined (for content assertions)."""
    texts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                texts.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.blocks)
    return "\n".join(texts)


def action_ids(message: Message) -> list[str]:
    return [
        element["action_id"]
        for block in message.blocks
        if block.get("type") == "actions"
        for element in block["elements"]
    ]
