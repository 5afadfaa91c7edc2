"""The SQL implementation of the ``Store`` protocol; see ``store.py``."""

from supportbot.store.sql.store import SqlStore

__all__ = ["SqlStore"]
