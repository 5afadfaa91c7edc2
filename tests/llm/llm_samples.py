"""Sample passages and paths shared by the model-tier tests (imported by name, not fixtures)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from supportbot.retrieval.types import Passage

#: A current model name: the Settings default may be one the SDK warns is deprecated.
FRONTIER_MODEL = "claude-sonnet-5-5"

REPO_POLICIES = Path(__file__).resolve().parents[2] / "policies"


def make_passage(source: str, heading: str, text: str, score: float) -> Passage:
    doc_id = source.removesuffix(".md")
    return Passage(
        chunk_id=f"{doc_id}#{heading}",
        doc_id=doc_id,
        source=source,
        heading=heading,
        line_start=1,
        line_end=1 + text.count("\n"),
        text=text,
        score=score,
    )


REFUND_TEXT = (
    "Customers can request a full refund within 30 days of purchase.\n"
    "After 30 days, refunds are not available for monthly plans.\n\n"
    "- Annual plans are refunded pro rata for the unused months.\n"
    "- Refunds go back to the original payment method within 5\u201310 business days."
)
PASSWORD_TEXT = (
    "To reset your password, open **Settings > Security** and choose *Reset password*. "
    "We send a reset link to your account\u2019s e-mail address. "
    "The link expires after 24 hours."
)
EXPORT_TEXT = (
    "## Exporting data\n\n"
    "Workspace owners can export all projects as a ZIP archive from the Admin page. "
    "Exports include comments and attachments but not billing history."
)


def eventually(condition: Callable[[], bool], *, within: float = 10.0) -> bool:
    """Wait until ``condition`` holds (a fake records a request a client already gave up on)."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
