"""An edited policy is picked up without a restart; a broken edit keeps the last good one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from supportbot.errors import PolicyError
from supportbot.pipeline.policy_source import PolicySource
from supportbot.retrieval.embedders import MiniLMEmbedder

GOOD = """
categories:
  security_incident:
    description: "Hacked accounts and leaked credentials."
    examples: ["someone logged into my account"]
    escalate_to: human
"""


def write(path: Path, text: str, *, bump: int) -> None:
    path.write_text(text)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + bump))  # a visible change


def test_reloads_an_edited_policy_and_keeps_the_last_good_one(
    tmp_path: Path, embedder: MiniLMEmbedder
) -> None:
    policy_file = tmp_path / "escalation.yaml"
    write(policy_file, GOOD, bump=0)
    source = PolicySource(tmp_path, embedder)
    assert list(source.current().policy.categories) == ["security_incident"]

    write(
        policy_file,
        GOOD + "  legal:\n    description: Lawyers.\n    examples: [sue]\n    escalate_to: human\n",
        bump=1_000_000_000,
    )
    assert list(source.current().policy.categories) == ["security_incident", "legal"]
    assert source.last_error is None

    write(policy_file, GOOD.replace("escalate_to: human", "escalate_to: sometimes"), bump=2 * 10**9)
    kept = source.current()
    assert list(kept.policy.categories) == ["security_incident", "legal"]
    assert isinstance(source.last_error, PolicyError)
    assert "escalate_to" in str(source.last_error)


def test_a_broken_policy_at_start_is_an_error(tmp_path: Path, embedder: MiniLMEmbedder) -> None:
    (tmp_path / "escalation.yaml").write_text("categories: [not, a, mapping]\n")
    with pytest.raises(PolicyError, match=r"escalation\.yaml"):
        PolicySource(tmp_path, embedder)
