"""Block Kit primitives for the jobs' messages: pure functions, within Slack's limits.

Slack rejects a message with more than 50 blocks, a section text over 3,000 characters, a
section field over 2,000, more than 10 fields or a header over 150 characters. The builders
here split long text into several sections (at line breaks) and truncate what cannot be
split, so a message is never refused for its size.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Final

from pydantic import BaseModel, ConfigDict

MAX_BLOCKS: Final = 50
SECTION_TEXT_MAX: Final = 3_000
SECTION_FIELD_MAX: Final = 2_000
SECTION_FIELDS_MAX: Final = 10
HEADER_TEXT_MAX: Final = 150
CONTEXT_TEXT_MAX: Final = 3_000
CONTEXT_ELEMENTS_MAX: Final = 10
MESSAGE_TEXT_MAX: Final = 4_000  # Slack's advice for the notification text (hard limit 40,000)
ELLIPSIS: Final = "…"

Block = dict[str, Any]


class JobMessage(BaseModel):
    """A message ready to post: notification text and blocks."""

    model_config = ConfigDict(extra="forbid")

    text: str
    blocks: list[Block]


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, marked with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - len(ELLIPSIS)] + ELLIPSIS


def escape(text: str) -> str:
    """Text from users made safe for mrkdwn: ``&``, ``<`` and ``>`` are Slack's control
    characters (``<@U1>`` would mention someone, ``<!channel>`` would notify everyone)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def one_line(text: str) -> str:
    return " ".join(text.split())


def header(text: str) -> Block:
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": truncate(one_line(text), HEADER_TEXT_MAX)},
    }


def divider() -> Block:
    return {"type": "divider"}


def context(*texts: str) -> Block:
    elements = [
        {"type": "mrkdwn", "text": truncate(t, CONTEXT_TEXT_MAX)} for t in texts if t.strip()
    ]
    return {"type": "context", "elements": elements[:CONTEXT_ELEMENTS_MAX]}


def fields(items: Sequence[str]) -> list[Block]:
    """Sections of two-column fields (at most 10 per section, 2,000 characters each)."""
    cleaned = [truncate(item, SECTION_FIELD_MAX) for item in items if item.strip()]
    return [
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": item}
                for item in cleaned[start : start + SECTION_FIELDS_MAX]
            ],
        }
        for start in range(0, len(cleaned), SECTION_FIELDS_MAX)
    ]


def sections(text: str) -> list[Block]:
    """``text`` as mrkdwn sections of at most 3,000 characters, split at line breaks (a
    single line that is too long is truncated)."""
    blocks: list[Block] = []
    current: list[str] = []
    size = 0
    for raw in text.splitlines():
        line = truncate(raw, SECTION_TEXT_MAX)
        added = len(line) + (1 if current else 0)
        if current and size + added > SECTION_TEXT_MAX:
            blocks.append(_section("\n".join(current)))
            current, size = [], 0
            added = len(line)
        current.append(line)
        size += added
    if current and "\n".join(current).strip():
        blocks.append(_section("\n".join(current)))
    return blocks


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def bullet_list(items: Iterable[str], *, limit: int, more: str = "and {n} more") -> list[str]:
    """``• item`` lines, at most ``limit`` of them, then one ``… and N more`` line."""
    listed = list(items)
    lines = [f"• {item}" for item in listed[:limit]]
    if len(listed) > limit:
        lines.append(f"{ELLIPSIS} " + more.format(n=len(listed) - limit))
    return lines


def fit(blocks: list[Block]) -> list[Block]:
    """At most 50 blocks: when there are more, the last kept one says how many were left out."""
    if len(blocks) <= MAX_BLOCKS:
        return blocks
    kept = blocks[: MAX_BLOCKS - 1]
    left_out = len(blocks) - len(kept)
    return [*kept, context(f"{ELLIPSIS} {left_out} more blocks left out (Slack's limit).")]
