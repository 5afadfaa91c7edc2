"""Alembic environment: runs on the connection ``supportbot.store.migrate`` hands over.

There is no alembic.ini; the caller passes an open connection, already inside a transaction
that holds the migration lock, in ``config.attributes["connection"]``.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection

from supportbot.store.tables import Base, UTCDateTime


def _render_item(kind: str, obj: Any, _context: AutogenContext) -> str | Literal[False]:
    """Migrations spell plain SQL types, never the application's own type classes."""
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _include_object(
    obj: Any, name: str | None, kind: str, reflected: bool, compare_to: Any
) -> bool:
    """Autogenerate leaves alone tables the store does not own (e.g. the scheduler's)."""
    return not (kind == "table" and reflected and compare_to is None)


connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError(
        "the store's migrations run through supportbot.store.migrate (which passes a "
        "connection), not through an alembic.ini"
    )

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things; batch mode rebuilds tables
    render_item=_render_item,
    include_object=_include_object,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
