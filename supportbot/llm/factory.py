"""Wiring: pick the executor and the escalator the settings ask for."""

from __future__ import annotations

from typing import TYPE_CHECKING

from supportbot.llm.offline_executor import OfflineExecutor

if TYPE_CHECKING:
    from supportbot.llm.anthropic_escalator import AnthropicEscalator
    from supportbot.llm.ollama_executor import OllamaExecutor
    from supportbot.retrieval.types import Embedder
    from supportbot.settings import Settings


def build_executor(
    settings: Settings, embedder: Embedder, *, max_attempts: int = 2
) -> OllamaExecutor | OfflineExecutor:
    """Ollama when ``OLLAMA_HOST`` is set (its failures are failures: no fallback), else the
    offline extractive executor. ``max_attempts`` is the policy's ``max_model_failures``."""
    if settings.ollama_host is None:
        return OfflineExecutor(embedder)
    from supportbot.llm.ollama_executor import OllamaExecutor

    return OllamaExecutor.from_settings(settings, max_attempts=max_attempts)


def build_escalator(settings: Settings) -> AnthropicEscalator | None:
    """The Anthropic escalator, or None without ``ANTHROPIC_API_KEY`` (escalations go to people)."""
    if settings.anthropic_api_key is None:
        return None
    from supportbot.llm.anthropic_escalator import AnthropicEscalator

    return AnthropicEscalator.from_settings(settings)
