"""Fixtures for the retrieval tests: small knowledge dirs, settings, indexes on real Chroma."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from retrieval_helpers import SAMPLE_KB, write_kb

from supportbot.retrieval import open_index
from supportbot.retrieval.chroma import disconnect_all
from supportbot.retrieval.embedders import HashingEmbedder
from supportbot.retrieval.index import KnowledgeIndex
from supportbot.retrieval.types import Embedder
from supportbot.settings import Settings


@pytest.fixture(autouse=True)
def _close_chroma() -> Iterator[None]:
    yield
    disconnect_all()


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    return write_kb(tmp_path / "knowledge", SAMPLE_KB)


@pytest.fixture
def make_settings(isolated_env: Path, tmp_path: Path) -> Callable[..., Settings]:
    def make(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "knowledge_dir": tmp_path / "knowledge",
            "data_dir": tmp_path / "data",
        }
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]

    return make


@pytest.fixture
def hashing() -> HashingEmbedder:
    return HashingEmbedder()


@pytest.fixture
def make_index(make_settings: Callable[..., Settings]) -> Callable[..., KnowledgeIndex]:
    def make(embedder: Embedder, **overrides: object) -> KnowledgeIndex:
        return open_index(make_settings(**overrides), embedder)

    return make
