"""Fixtures shared by the whole suite. Expensive things (the embedder) are built once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from supportbot.retrieval.embedders import MiniLMEmbedder

REPO_ROOT = Path(__file__).resolve().parent.parent
_ENV_PREFIXES = ("SUPPORTBOT_", "SLACK_", "OLLAMA_", "ANTHROPIC_", "CHROMA_")


@pytest.fixture(scope="session")
def embedder() -> MiniLMEmbedder:
    """One bundled MiniLM embedder for the whole run (0.5 s to load)."""
    return MiniLMEmbedder()


@pytest.fixture
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No supportbot-related environment, and cwd in a temp dir (so no stray .env is read)."""
    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES) or name in ("DATABASE_URL", "PORT"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path
