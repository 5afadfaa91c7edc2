"""Versioned migrations: fresh database, idempotent re-open, schema == tables.py, concurrency."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from supportbot.clock import FakeClock
from supportbot.errors import StoreError
from supportbot.settings import Settings
from supportbot.store import NewQuestion, SqlStore, open_store
from supportbot.store.engine import create_store_engine
from supportbot.store.migrate import current_revision, head_revision, upgrade
from supportbot.store.tables import Base

TABLES = {
    "questions",
    "retrieved_passages",
    "decisions",
    "model_calls",
    "escalations",
    "feedback",
    "audit_events",
    "processed_events",
}


def test_fresh_database_is_migrated_to_head(database_url: str, clock: FakeClock) -> None:
    engine = create_store_engine(database_url)
    try:
        assert current_revision(engine) is None
        assert set(inspect(engine).get_table_names()) == set()
        with SqlStore.open(database_url, clock=clock):
            pass
        assert current_revision(engine) == head_revision()
        assert set(inspect(engine).get_table_names()) == TABLES | {"alembic_version"}
    finally:
        engine.dispose()


def test_reopening_is_a_no_op_that_keeps_the_data(database_url: str, clock: FakeClock) -> None:
    with SqlStore.open(database_url, clock=clock) as store:
        question = store.create_question(NewQuestion(source="cli", text="still here?"))
    with SqlStore.open(database_url, clock=clock) as store:
        assert store.get_question(question.id) == question
        with store.engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        assert versions == [(head_revision(),)]


def test_migrated_schema_matches_the_table_definitions(database_url: str) -> None:
    """A column added to tables.py without a migration (or the reverse) fails here."""
    engine = create_store_engine(database_url)
    try:
        upgrade(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
        assert differences == []
    finally:
        engine.dispose()


def test_concurrent_first_opens_migrate_once(database_url: str, clock: FakeClock) -> None:
    """Separate engines (as separate processes would have) race to open a fresh database."""
    workers = 4
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []
    stores: list[SqlStore] = []
    lock = threading.Lock()

    def open_it() -> None:
        barrier.wait()
        try:
            opened = SqlStore.open(database_url, clock=clock)
        except BaseException as exc:
            with lock:
                errors.append(exc)
            return
        with lock:
            stores.append(opened)

    threads = [threading.Thread(target=open_it) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        assert len(stores) == workers
        for store in stores:
            store.create_question(NewQuestion(source="cli", text="works"))
        assert current_revision(stores[0].engine) == head_revision()
    finally:
        for store in stores:
            store.close()


def test_a_database_from_newer_code_is_refused(database_url: str, clock: FakeClock) -> None:
    with SqlStore.open(database_url, clock=clock) as store, store.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StoreError, match="cannot migrate"):
        SqlStore.open(database_url, clock=clock)


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(
    tmp_path: Path, clock: FakeClock
) -> None:
    url = f"sqlite:///{tmp_path / 'db' / 'store.db'}"
    with SqlStore.open(url, clock=clock) as store, store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000


def test_default_store_is_sqlite_under_the_data_dir(isolated_env: Path) -> None:
    settings = Settings(data_dir=isolated_env / "data")
    with open_store(settings, FakeClock()) as store:
        assert store.engine.dialect.name == "sqlite"
        store.create_question(NewQuestion(source="cli", text="where am I?"))
    assert (isolated_env / "data" / "supportbot.db").is_file()


@pytest.mark.postgres
def test_plain_postgresql_url_from_settings_works(
    isolated_env: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    assert postgres_url.startswith("postgresql://")
    with open_store(Settings(), FakeClock()) as store:
        assert store.engine.dialect.name == "postgresql"
        assert store.engine.dialect.driver == "psycopg"
        store.create_question(NewQuestion(source="cli", text="on PostgreSQL"))


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("sqlite://", "in-memory"),
        ("sqlite:///:memory:", "in-memory"),
        ("mysql://u@h/db", "not supported"),
        ("not a url", "not a database URL"),
    ],
)
def test_unusable_database_urls_are_refused_with_a_reason(url: str, problem: str) -> None:
    with pytest.raises(StoreError, match=problem):
        SqlStore.open(url, clock=FakeClock())
