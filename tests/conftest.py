"""Fixtures shared by the whole suite. Expensive things (the embedder) are built once."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pg import PostgresServer, PostgresUnavailable

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


# -- PostgreSQL (tests/pg.py) ----------------------------------------------------------------
# `postgres_url` gives a test its own fresh, empty database on a real PostgreSQL server, as a
# plain `postgresql://postgres@127.0.0.1:PORT/NAME` URL (SqlStore.open and Settings.database_url
# take it as is). The server starts on first use, once per session, and is stopped at the end;
# missing server binaries fail the test with a message (scripts/ensure-postgres.sh installs
# them). Mark such tests `@pytest.mark.postgres`.


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL server for the whole run (about a second to start)."""
    try:
        server = PostgresServer.start()
    except PostgresUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A fresh, empty database for this test: a plain postgresql:// URL."""
    return postgres_server.create_database()
