"""Fixtures of the Slack tests: one knowledge index for the whole directory, a fresh fake
Slack and a fresh store per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_harness import Harness, ScriptedExecutor, slack_settings, write_knowledge

from supportbot.clock import Clock
from supportbot.fakes.slack import FakeSlack
from supportbot.retrieval import open_index
from supportbot.retrieval.chroma import disconnect_all
from supportbot.retrieval.embedders import MiniLMEmbedder
from supportbot.settings import Settings


@pytest.fixture(scope="session")
def slack_kb(tmp_path_factory: pytest.TempPathFactory, embedder: MiniLMEmbedder) -> Iterator[Path]:
    """A small knowledge dir and its Chroma index (under ``<root>/data/index``), built once."""
    root = tmp_path_factory.mktemp("slack-kb")
    kb = write_knowledge(root / "knowledge")
    settings = Settings(knowledge_dir=kb, data_dir=root / "data")
    open_index(settings, embedder).update(kb)
    yield root
    disconnect_all()


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as slack:
        yield slack


@pytest.fixture
def executor() -> ScriptedExecutor:
    return ScriptedExecutor()


@pytest.fixture
def make_settings(
    slack_kb: Path, tmp_path: Path, fake: FakeSlack, isolated_env: Path
) -> Callable[..., Settings]:
    """Settings sharing the session's index, with this test's own database."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {"database_url": f"sqlite:///{tmp_path / 'store.db'}"}
        values.update(overrides)
        return slack_settings(slack_kb / "knowledge", slack_kb / "data", fake, **values)

    return make


@pytest.fixture
def start(
    fake: FakeSlack,
    make_settings: Callable[..., Settings],
    embedder: MiniLMEmbedder,
    executor: ScriptedExecutor,
) -> Iterator[Callable[..., Harness]]:
    """Start an app instance (call again for a restart on the same data); all are closed."""
    started: list[Harness] = []

    def launch(*, clock: Clock | None = None, **overrides: Any) -> Harness:
        harness = Harness(fake, make_settings(**overrides), embedder, executor, clock=clock)
        started.append(harness)
        return harness

    yield launch
    for harness in started:
        harness.close()


@pytest.fixture
def app(start: Callable[..., Harness]) -> Harness:
    return start()
