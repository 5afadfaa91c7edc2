"""Versioned schema migrations (Alembic, driven from code; no alembic.ini).

``upgrade(engine)`` runs at every store open. It is idempotent (at head it does nothing) and
safe when several processes open a fresh database at once: the whole upgrade runs in one
transaction that first takes a lock — ``pg_advisory_xact_lock`` on PostgreSQL, the database
write lock (``BEGIN IMMEDIATE``) on SQLite — so the second process waits, then finds the
schema at head. DDL is transactional on both backends, so a failed migration leaves nothing
half-done.

Adding a migration (developers): change ``tables.py``, then run
``python -m supportbot.store.migrate revision "what changed"`` which writes the next numbered
file under ``migrations/versions/`` from the difference between ``tables.py`` and the
current head; review and edit it, then run the store tests (they compare the migrated
schema with ``tables.py`` on SQLite and PostgreSQL).
"""

from __future__ import annotations

import sys
import tempfile
import zlib
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, func, select

from supportbot.errors import StoreError
from supportbot.store.engine import WRITE_OPTIONS, create_store_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version"
MIGRATION_LOCK_KEY = zlib.crc32(b"supportbot.store.migrate")
"""The PostgreSQL advisory lock key that serialises migrations across processes."""


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest schema revision this code knows."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:
        raise StoreError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None for a database the store never opened."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> str:
    """Bring the database to the head revision (a no-op when it is there); returns it."""
    head = head_revision()
    try:
        with engine.connect() as connection:
            connection.execution_options(**WRITE_OPTIONS)
            with connection.begin():
                if engine.dialect.name == "postgresql":
                    connection.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK_KEY)))
                if MigrationContext.configure(connection).get_current_revision() != head:
                    command.upgrade(_config(connection), "head")
    except StoreError:
        raise
    except Exception as exc:
        url = engine.url.render_as_string(hide_password=True)
        raise StoreError(f"cannot migrate the store at {url} to {head}: {exc}") from exc
    return head


def make_revision(message: str) -> Path:
    """Write the next migration file from the difference between ``tables.py`` and head."""
    scripts = ScriptDirectory.from_config(_config())
    next_number = len(list(scripts.walk_revisions())) + 1
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_store_engine(f"sqlite:///{scratch}/scratch.db")
        try:
            if scripts.get_current_head() is not None:
                upgrade(engine)
            with engine.connect() as connection:
                script = command.revision(
                    _config(connection),
                    message=message,
                    autogenerate=True,
                    rev_id=f"{next_number:04d}",
                )
        finally:
            engine.dispose()
    if script is None or isinstance(script, list):
        raise StoreError("alembic did not write exactly one revision")
    return Path(script.path)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] != "revision":
        print('usage: python -m supportbot.store.migrate revision "what changed"')
        return 2
    print(make_revision(args[1]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
