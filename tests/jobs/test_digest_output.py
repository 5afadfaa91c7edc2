"""The digest as Block Kit, as terminal text, and its chart; an empty day says so."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import pytest
from digest_scenario import DAY, NOW
from PIL import Image
from rich.console import Console

from supportbot.clock import FakeClock
from supportbot.fakes.slack import blocks_problems
from supportbot.jobs.blocks import MAX_BLOCKS, SECTION_TEXT_MAX
from supportbot.jobs.chart import FIGURE_SIZE
from supportbot.jobs.digest import DigestConfig, build_digest, default_day, write_chart
from supportbot.jobs.digest_blocks import digest_message
from supportbot.jobs.digest_data import Count, Digest
from supportbot.jobs.digest_render import render_digest
from supportbot.jobs.gaps import KnowledgeGap
from supportbot.retrieval.embedders import MiniLMEmbedder
from supportbot.store import SqlStore

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def digest(scenario_store: SqlStore, embedder: MiniLMEmbedder, config: DigestConfig) -> Digest:
    return build_digest(scenario_store, embedder, config, day=DAY, now=NOW)


def terminal_text(digest: Digest) -> str:
    console = Console(file=io.StringIO(), width=120, color_system=None)
    console.print(render_digest(digest))
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(out, str)
    return out


def all_text(blocks: list[dict[str, object]]) -> str:
    return repr(blocks)


def test_block_kit_message_passes_slacks_checks_and_carries_the_figures(digest: Digest) -> None:
    message = digest_message(digest)

    assert blocks_problems(message.blocks) == []
    assert len(message.blocks) <= MAX_BLOCKS
    assert message.text == (
        "Escalation digest for Tue 10 Mar 2026: 13 questions, 8 escalated (61.5%)"
    )
    text = all_text(message.blocks)
    assert "Escalation digest · Tue 10 Mar 2026" in text
    assert "`weak_retrieval` 4 (30.8%)" in text
    assert "refund_exception 1 (7.7%)" in text
    assert "2 approved · 1 edited · 1 rejected · 1 expired · 1 pending" in text
    assert "median 35 min · p90 90 min" in text
    assert "3 waited more than 60 min" in text
    assert "👍 3 · 👎 1" in text
    assert "<#C0SUPPORT> 9 · <#C0GENERAL> 3 · direct messages 1" in text
    assert f"1. “{digest.knowledge_gaps[0].representative}” — asked 3×" in text
    assert "Tue 10 Mar" in text
    assert "Tue 03 Mar" in text


def test_terminal_rendering(digest: Digest) -> None:
    out = terminal_text(digest)

    assert "Escalation digest · Tue 10 Mar 2026" in out
    assert "America/New_York" in out
    assert "Escalated" in out
    assert "8 (61.5%)" in out
    # 61.5% against 3 of 9 in the 7 days before
    assert re.search(r"Escalated +8 \(61\.5%\) +33\.3% +▲ 28\.2 pts", out)
    assert re.search(r"Questions +13 +1\.3 a day +▲ 911%", out)
    assert "2 approved, 1 edited, 1 rejected, 1 expired, 1 pending" in out
    assert "median 35 min, p90 90 min" in out
    assert "SLA breaches: 3" in out
    assert "$0.0288" in out
    assert "$0.1872" in out
    assert "weak_retrieval" in out
    assert "(no category)" in out
    assert "Top knowledge gaps (5 questions with weak retrieval" in out
    assert "The last 8 days" in out


def test_an_empty_day_says_so(
    scenario_store: SqlStore, embedder: MiniLMEmbedder, config: DigestConfig
) -> None:
    saturday = date(2026, 3, 7)
    digest = build_digest(scenario_store, embedder, config, day=saturday, now=NOW)

    assert digest.empty
    assert digest.day.questions == 0
    assert digest.day.escalation_rate is None
    assert digest.knowledge_gaps == []
    message = digest_message(digest)
    assert blocks_problems(message.blocks) == []
    assert message.text == "Escalation digest for Sat 7 Mar 2026: no questions were asked."
    assert "No questions were asked on Sat 7 Mar 2026." in all_text(message.blocks)
    assert "No questions were asked on Sat 7 Mar 2026." in terminal_text(digest)


def test_slack_limits_hold_for_an_enormous_day(digest: Digest) -> None:
    long_name = "x" * 400
    huge = digest.model_copy(
        update={
            "day": digest.day.model_copy(
                update={
                    "by_reason": [
                        Count(name=f"{long_name}{i}", count=i, share=0.5) for i in range(300)
                    ],
                    "by_category": [
                        Count(name=f"<!channel> {long_name}{i}", count=i, share=0.5)
                        for i in range(300)
                    ],
                }
            ),
            "weak_retrieval_questions": 500,
            "knowledge_gaps": [
                KnowledgeGap(
                    representative="<@U0ALL> " + "why " * 2000,
                    count=100,
                    question_ids=["a"],
                    examples=[],
                )
                for _ in range(5)
            ],
        }
    )
    message = digest_message(huge)

    assert blocks_problems(message.blocks) == []
    assert len(message.blocks) <= MAX_BLOCKS
    sections = [b for b in message.blocks if b["type"] == "section" and "text" in b]
    assert all(len(b["text"]["text"]) <= SECTION_TEXT_MAX for b in sections)
    text = all_text(message.blocks)
    assert "<!channel>" not in text
    assert "<@U0ALL>" not in text
    assert "and 292 more" in text  # 8 reasons listed, the rest counted


def test_chart_is_a_deterministic_png(digest: Digest, tmp_path: Path) -> None:
    path = write_chart(digest, tmp_path / "charts")
    data = path.read_bytes()
    again = write_chart(digest, tmp_path / "again").read_bytes()

    assert path == tmp_path / "charts" / "escalations-2026-03-10.png"
    assert data.startswith(PNG_MAGIC)
    assert data == again
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        assert image.size == (int(FIGURE_SIZE[0] * 100), int(FIGURE_SIZE[1] * 100))
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is not None
    assert len(colours) > 100  # lines, bars, text: not a blank canvas
    # the frontier line's orange is drawn (legend and data points)
    orange = sum(n for n, rgb in colours if rgb == (0xE0, 0x8A, 0x00))
    assert orange > 200


def test_chart_of_an_empty_history_differs_and_says_so(
    tmp_path: Path, embedder: MiniLMEmbedder, config: DigestConfig, digest: Digest
) -> None:
    with SqlStore.open(f"sqlite:///{tmp_path / 'empty.db'}", clock=FakeClock(NOW)) as store:
        empty = build_digest(store, embedder, config, day=DAY, now=NOW)
    assert empty.empty
    assert all(d.questions == 0 for d in empty.chart_days)
    blank = write_chart(empty, tmp_path / "empty").read_bytes()
    full = write_chart(digest, tmp_path / "full").read_bytes()
    assert blank.startswith(PNG_MAGIC)
    assert blank != full


def test_the_default_day_is_yesterday_in_the_configured_timezone() -> None:
    # 03:30 UTC on the 11th is 23:30 on the 10th in New York: yesterday is the 9th there
    clock = FakeClock(NOW.replace(hour=23, minute=30, day=10))
    assert default_day(clock, "America/New_York") == date(2026, 3, 9)
    assert default_day(clock, "UTC") == date(2026, 3, 10)
