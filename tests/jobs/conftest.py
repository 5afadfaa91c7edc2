"""Fixtures of the job tests: the seeded history (built once), configs, the fake Slack."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from digest_scenario import NOW, Scenario, digest_config, seed_scenario
from digest_seed import StoreSeeder
from pg import PostgresServer

from supportbot.clock import FakeClock
from supportbot.fakes.slack import FakeSlack
from supportbot.jobs.digest import DigestConfig
from supportbot.store import SqlStore


@pytest.fixture
def config(tmp_path: Path) -> DigestConfig:
    return digest_config(tmp_path / "charts")


def _seed(url: str) -> Scenario:
    clock = FakeClock(NOW)
    with SqlStore.open(url, clock=clock) as store:
        return seed_scenario(StoreSeeder(store, clock))


@pytest.fixture(scope="session")
def scenario_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir whose SQLite store holds the scenario (shared: tests only read it)."""
    data = tmp_path_factory.mktemp("digest-data")
    _seed(f"sqlite:///{data / 'supportbot.db'}")
    return data


@pytest.fixture
def scenario_store(scenario_data_dir: Path) -> Iterator[SqlStore]:
    with SqlStore.open(
        f"sqlite:///{scenario_data_dir / 'supportbot.db'}", clock=FakeClock(NOW)
    ) as store:
        yield store


@pytest.fixture(scope="session")
def scenario_postgres_url(postgres_server: PostgresServer) -> str:
    url = postgres_server.create_database()
    _seed(url)
    return url


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as slack:
        yield slack
