"""A small knowledge base, policy and the fake model servers, for the pipeline tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pipeline_support import DOCS, write_policies

from supportbot.fakes.anthropic import FakeAnthropic
from supportbot.fakes.ollama import FakeOllama
from supportbot.retrieval import open_index
from supportbot.retrieval.embedders import MiniLMEmbedder
from supportbot.services import Services
from supportbot.settings import Settings

FRONTIER_MODEL = "claude-sonnet-5-5"


@pytest.fixture(scope="module")
def knowledge_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("knowledge")
    for relative, text in DOCS.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def index_dir(
    tmp_path_factory: pytest.TempPathFactory, knowledge_dir: Path, embedder: MiniLMEmbedder
) -> Path:
    """One data dir with the index built, shared read-only; each test has its own store."""
    data = tmp_path_factory.mktemp("indexed")
    settings = Settings(knowledge_dir=knowledge_dir, data_dir=data, _env_file=None)  # type: ignore[call-arg]
    report = open_index(settings, embedder).update(knowledge_dir)
    assert report.added == len(DOCS)
    assert not report.failed
    return data


@pytest.fixture(scope="module")
def ollama() -> Iterator[FakeOllama]:
    with FakeOllama() as fake:
        yield fake


@pytest.fixture(scope="module")
def anthropic_fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as fake:
        yield fake


@pytest.fixture
def make_services(
    tmp_path: Path,
    knowledge_dir: Path,
    index_dir: Path,
    embedder: MiniLMEmbedder,
    ollama: FakeOllama,
    anthropic_fake: FakeAnthropic,
) -> Iterator[Callable[..., Services]]:
    """Build Services against the fakes; ``budget``/``escalator``/settings overridable."""
    built: list[Services] = []
    ollama.reset()
    anthropic_fake.reset()

    def make(*, budget: int = 50, **overrides: Any) -> Services:
        values: dict[str, Any] = {
            "knowledge_dir": knowledge_dir,
            "policies_dir": write_policies(tmp_path / f"policies{len(built)}", budget=budget),
            "data_dir": index_dir,
            "database_url": f"sqlite:///{tmp_path}/store{len(built)}.db",
            "ollama_host": ollama.url,
            "ollama_timeout_seconds": 5.0,
            "anthropic_api_key": "sk-ant-test",
            "anthropic_base_url": anthropic_fake.url,
            "anthropic_model": FRONTIER_MODEL,
            "anthropic_max_retries": 1,
            "anthropic_timeout_seconds": 5.0,
        }
        escalator = overrides.pop("escalator", "auto")
        values.update(overrides)
        settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
        services = Services.build(settings, embedder=embedder, escalator=escalator)
        built.append(services)
        return services

    yield make
    for services in built:
        services.close()
