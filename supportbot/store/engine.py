"""Engines for the two supported backends: SQLite (embedded default) and PostgreSQL.

SQLite is set up for several threads and processes sharing one file: WAL journal, foreign
keys on, a busy timeout, and SQLAlchemy (not the ``sqlite3`` module) emitting ``BEGIN``, so
DDL is transactional and a write transaction can take the write lock up front
(``BEGIN IMMEDIATE``) instead of failing half-way with "database is locked".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from supportbot.errors import StoreError

SQLITE_BUSY_TIMEOUT_MS = 30_000
SUPPORTED_BACKENDS = ("sqlite", "postgresql")
WRITE_OPTIONS: dict[str, Any] = {"supportbot_write": True}
"""Execution options of a write transaction; on SQLite it begins with ``BEGIN IMMEDIATE``."""


def normalize_url(url: str) -> str:
    """A plain ``postgresql://`` (or ``postgres://``) URL means psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def create_store_engine(url: str) -> Engine:
    """An engine for the store at ``url``; refuses backends the store is not built for."""
    try:
        parsed = make_url(normalize_url(url))
    except ArgumentError as exc:
        raise StoreError(f"DATABASE_URL {url!r} is not a database URL: {exc}") from exc
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_BACKENDS:
        raise StoreError(
            f"database backend {backend!r} is not supported; use SQLite (the default) or "
            "PostgreSQL (DATABASE_URL=postgresql://user@host:port/db)"
        )
    if backend == "sqlite":
        database = parsed.database
        if not database or database == ":memory:" or parsed.query.get("mode") == "memory":
            raise StoreError(
                "the store needs an SQLite file (an in-memory database is not shared between "
                f"connections): {url!r}"
            )
        Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        _configure_sqlite(engine)
        return engine
    return create_engine(parsed, pool_pre_ping=True)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN (see below)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get("supportbot_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
