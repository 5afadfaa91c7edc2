"""Store fixtures: a fake clock, and a migrated store on each backend (SQLite, PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest

from supportbot.clock import FakeClock
from supportbot.store import SqlStore

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 9, 30, tzinfo=UTC))


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database on each backend (the PostgreSQL server starts on first use)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def store(database_url: str, clock: FakeClock) -> Iterator[SqlStore]:
    with SqlStore.open(database_url, clock=clock) as opened:
        yield opened


T = TypeVar("T")


def _race(workers: int, attempt: Callable[[int], T]) -> list[T]:
    """Run ``attempt(i)`` on ``workers`` threads released at the same instant; their results."""
    barrier = threading.Barrier(workers)

    def run(i: int) -> T:
        barrier.wait()
        return attempt(i)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, range(workers)))


@pytest.fixture
def race() -> Callable[[int, Callable[[int], Any]], list[Any]]:
    return _race
