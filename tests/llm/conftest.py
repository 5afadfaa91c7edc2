"""Fixtures of the model-tier tests: fake servers, sample passages, settings pointing at them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from llm_samples import (
    EXPORT_TEXT,
    FRONTIER_MODEL,
    PASSWORD_TEXT,
    REFUND_TEXT,
    REPO_POLICIES,
    make_passage,
)

from supportbot.fakes.anthropic import FakeAnthropic
from supportbot.fakes.ollama import FakeOllama
from supportbot.retrieval.types import Passage
from supportbot.settings import Settings


@pytest.fixture
def passages() -> list[Passage]:
    return [
        make_passage("billing/refunds.md", "Refunds > Refund window", REFUND_TEXT, 0.82),
        make_passage("accounts/password.md", "Passwords", PASSWORD_TEXT, 0.41),
        make_passage("product/export.md", "Data > Exporting data", EXPORT_TEXT, 0.30),
    ]


@pytest.fixture
def fake_ollama() -> Iterator[FakeOllama]:
    with FakeOllama() as fake:
        yield fake


@pytest.fixture
def fake_anthropic() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(api_key="test-key") as fake:
        yield fake


@pytest.fixture
def ollama_settings(isolated_env: Path, fake_ollama: FakeOllama) -> Settings:
    return Settings(
        ollama_host=fake_ollama.url,
        ollama_model="qwen3:8b",
        ollama_timeout_seconds=5.0,
        ollama_num_ctx=4096,
        policies_dir=REPO_POLICIES,
    )


@pytest.fixture
def anthropic_settings(isolated_env: Path, fake_anthropic: FakeAnthropic) -> Settings:
    return Settings(
        anthropic_api_key="test-key",
        anthropic_base_url=fake_anthropic.url,
        anthropic_model=FRONTIER_MODEL,
        anthropic_timeout_seconds=5.0,
        anthropic_max_retries=2,
        policies_dir=REPO_POLICIES,
    )
