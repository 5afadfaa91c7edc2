"""``supportbot demo`` runs to completion: the real Slack app, the fake Slack, the shipped
knowledge and policies. Asserted on what happened in the fake Slack (and the printout).

The first run builds the index in a fresh data dir, without a frontier model; the second
reuses the index, starts from a fresh store, and has a frontier model (the fake Anthropic
server with its deterministic stand-in decision), as with ANTHROPIC_API_KEY set.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from supportbot.demo import DemoReport, run_demo
from supportbot.demo.script import SCENES
from supportbot.fakes.anthropic import FakeAnthropic, stand_in_decision
from supportbot.fakes.slack import FakeSlack, Message
from supportbot.retrieval.embedders import MiniLMEmbedder
from supportbot.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
BOT = "U0BOT"
ROUTINE, REFUND, CONTRACT, PRIVACY = SCENES


@dataclass
class DemoRun:
    report: DemoReport
    slack: FakeSlack
    output: str


def base_settings(data_dir: Path, **overrides: object) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        knowledge_dir=REPO_ROOT / "knowledge",
        policies_dir=REPO_ROOT / "policies",
        data_dir=data_dir,
        timezone="UTC",
        **overrides,
    )


def play(
    settings: Settings, slack: FakeSlack, embedder: MiniLMEmbedder, **kwargs: Any
) -> tuple[DemoReport, str]:
    """Run the demo against ``slack``; returns its report and its printout (plain text)."""
    out = io.StringIO()
    console = Console(file=out, width=100, color_system=None, force_terminal=False)
    report = run_demo(settings, console=console, embedder=embedder, slack=slack, **kwargs)
    return report, out.getvalue()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demo-data")


@pytest.fixture(scope="module")
def first_run(data_dir: Path, embedder: MiniLMEmbedder) -> Iterator[DemoRun]:
    with FakeSlack() as slack:
        report, output = play(base_settings(data_dir), slack, embedder, escalator=None)
        yield DemoRun(report, slack, output)


def thread_of(slack: FakeSlack, channel: str, text: str) -> list[Message]:
    """The thread (question first) started by the user message containing ``text``."""
    [root] = [m for m in slack.messages_in(channel) if m.user != BOT and text in m.text]
    return slack.messages_in(channel, root.ts)


def everything(message: Message) -> str:
    return message.text + json.dumps(message.blocks, ensure_ascii=False)


def bot_replies(thread: list[Message]) -> list[str]:
    return [everything(m) for m in thread[1:] if m.user == BOT]


def test_the_demo_plays_every_scene_through_the_slack_app(first_run: DemoRun) -> None:
    slack, report = first_run.slack, first_run.report
    slack.assert_no_rejections()
    knowledge_files = len(list((REPO_ROOT / "knowledge").rglob("*.md")))
    assert (report.index.added, report.index.failed) == (knowledge_files, [])

    # a routine question: answered in its thread by the open model, with sources
    [answer] = bot_replies(thread_of(slack, "C0SUPPORT", ROUTINE.text))
    assert "accounts/two-factor-authentication.md" in answer
    assert "Answered from the knowledge base by the open model." in answer
    assert "Reviewed" not in answer

    # a refund exception: the asker is told, Bob approves, the answer is marked reviewed
    notice, approved = bot_replies(thread_of(slack, "C0GENERAL", REFUND.text))
    assert "passed your question to a specialist" in notice
    assert "Reviewed and sent by <@U0BOB>" in approved

    # the contract question: for the frontier tier, without a key it goes to people
    [waiting] = bot_replies(thread_of(slack, "D0ALICE", CONTRACT.text))
    assert "passed your question to a specialist" in waiting

    # the privacy request: Carol's edit is what the asker gets
    notice, edited = bot_replies(thread_of(slack, "C0SUPPORT", PRIVACY.text))
    assert "passed your question to a specialist" in notice
    assert PRIVACY.review is not None
    assert PRIVACY.review.edited is not None
    assert PRIVACY.review.edited in edited
    assert "Reviewed and sent by <@U0CAROL>" in edited
    assert [c.args["view"]["title"]["text"] for c in slack.calls("views.open")] == ["Edit & send"]

    # the review channel: one thread per escalation, outcome or buttons as they stand
    reviews = {m.text.split(":")[0]: everything(m) for m in slack.messages_in("C0REVIEW")}
    assert set(reviews) == {
        "Approved and sent",
        "Review needed",
        "Edited and sent",
    }
    assert "enterprise_contract" in reviews["Review needed"]
    assert "frontier_unavailable" in reviews["Review needed"]
    assert "review_approve" in reviews["Review needed"]  # still waiting, buttons there
    assert "review_approve" not in reviews["Approved and sent"]

    # the digest, posted with its chart in the thread (the scheduler's own 09:00 digest of
    # yesterday could join it, were the test to run at that minute)
    [digest] = [m for m in slack.messages_in("C0DIGEST") if "4 questions" in m.text]
    assert digest.text.startswith("Escalation digest for")
    assert "4 questions, 3 escalated" in digest.text
    [chart] = [f for f in slack.files() if f.thread_ts == digest.ts]
    assert chart.content is not None
    assert chart.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert report.digest is not None
    assert chart.content == report.digest.chart.read_bytes()

    outcomes = [(o.question.status, o.escalation and o.escalation.status) for o in report.scenes]
    assert outcomes == [
        ("answered", None),
        ("answered", "approved"),
        ("escalated", "pending"),
        ("answered", "edited"),
    ]


def test_the_printout_tells_the_conversation(first_run: DemoRun) -> None:
    text = " ".join(first_run.output.split())
    assert f"Alice Asker in #support: {ROUTINE.text}" in text
    assert "supportbot reacts 👀 to the question in #support" in text
    assert "Review needed: refund_exception" in text
    assert "Bob Reviewer clicks Approve in #support-review" in text
    assert "✅ Reviewed and sent by @Bob Reviewer." in text
    assert "Carol Lead clicks Edit & send in #support-review" in text
    assert "supportbot opens the modal “Edit & send”" in text
    assert "Escalation digest · " in text
    assert first_run.report.digest is not None
    assert f"Chart: {first_run.report.digest.chart.resolve()}" in text
    assert "<@U0" not in text  # IDs are shown as names
    assert text.index("1 · A routine question") < text.index("2 · A refund exception")


def test_a_second_run_reuses_the_index_and_asks_the_frontier_model(
    first_run: DemoRun, data_dir: Path, embedder: MiniLMEmbedder
) -> None:
    with FakeAnthropic() as anthropic, FakeSlack() as slack:
        anthropic.set_default("messages", stand_in_decision())
        settings = base_settings(
            data_dir, anthropic_api_key="sk-ant-demo-test", anthropic_base_url=anthropic.url
        )
        report, output = play(settings, slack, embedder)
        slack.assert_no_rejections()
        frontier_requests = len(anthropic.message_requests)

    assert report.index.added == 0
    assert report.index.unchanged == first_run.report.index.added
    assert len(report.scenes) == len(SCENES)
    assert len({o.question.id for o in report.scenes}) == len(SCENES)
    assert report.digest is not None
    assert report.digest.digest.day.questions == len(SCENES)  # a fresh store: this run only
    assert frontier_requests >= 1
    contract = report.scenes[2]
    assert contract.question.category == "enterprise_contract"
    signals = {r.signal for r in contract.question.reasons}
    assert "frontier_unavailable" not in signals
    assert "frontier_needs_human" in signals  # the stand-in hands contract questions to people
    assert "anthropic/" in output
