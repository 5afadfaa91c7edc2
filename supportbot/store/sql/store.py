"""The SQL implementation of the ``Store`` protocol (SQLite or PostgreSQL via SQLAlchemy).

Each method is one short transaction. State changes are compare-and-set
(``UPDATE ... WHERE status = :expected``) and report whether they applied, so a retried,
double-clicked or concurrent transition takes effect exactly once; an applied state change
writes its audit event in the same transaction.
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import Engine

from supportbot.clock import Clock
from supportbot.store.engine import create_store_engine
from supportbot.store.migrate import upgrade
from supportbot.store.protocol import Store
from supportbot.store.sql.activity import ActivityMethods
from supportbot.store.sql.escalations import EscalationMethods
from supportbot.store.sql.questions import QuestionMethods
from supportbot.store.sql.reports import ReportMethods


class SqlStore(QuestionMethods, EscalationMethods, ActivityMethods, ReportMethods):
    """The store on a SQLAlchemy engine whose schema is at the head revision."""

    @classmethod
    def open(cls, url: str, *, clock: Clock) -> SqlStore:
        """Connect to ``url`` (SQLAlchemy or plain ``postgresql://``) and migrate to head."""
        engine = create_store_engine(url)
        try:
            upgrade(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, clock=clock)

    @property
    def engine(self) -> Engine:
        """The engine, for parts that share the database (e.g. the scheduler's job store)."""
        return self._engine

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> SqlStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _implements_store(store: SqlStore) -> Store:
    """Type-checked proof that ``SqlStore`` satisfies the ``Store`` protocol."""
    return store
