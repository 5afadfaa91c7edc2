"""One question is embedded once, however many parts of the pipeline ask for its vector."""

from __future__ import annotations

import numpy as np
import pytest

from supportbot.retrieval.embedders import QueryCache
from supportbot.retrieval.types import Vectors


def test_a_repeated_query_is_computed_once_and_is_read_only() -> None:
    calls: list[str] = []

    def compute(text: str) -> Vectors:
        calls.append(text)
        return np.full(3, float(len(text)), dtype=np.float32)

    cache = QueryCache(size=2)
    first = cache.get("refund?", compute)
    again = cache.get("refund?", compute)

    assert calls == ["refund?"]
    assert again is first
    with pytest.raises(ValueError, match="read-only"):
        first[0] = 1.0


def test_the_least_recently_used_query_is_forgotten() -> None:
    calls: list[str] = []

    def compute(text: str) -> Vectors:
        calls.append(text)
        return np.zeros(2, dtype=np.float32)

    cache = QueryCache(size=2)
    for text in ("a", "b", "a", "c", "a", "b"):
        cache.get(text, compute)

    assert calls == ["a", "b", "c", "b"]
