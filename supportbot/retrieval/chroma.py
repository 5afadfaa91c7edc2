"""The Chroma client: embedded ``PersistentClient`` by default, ``HttpClient`` for a server.

One :class:`ChromaConnection` per location and process (see :func:`connect`), shared by
the indexer and every retriever, so a retrieve in a long-running process sees a reindex
done by the same process.

Embedded Chroma keeps each collection's vector index in the memory of the process that
opened it; writes made by *another* process (``supportbot index`` while ``supportbot
serve`` runs) reach the on-disk store but not that in-memory copy. The connection
therefore remembers which index states (collection id, generation) this process has
seen or written, and reopens the embedded client when the index moved to a state it has
not: the reopened client loads what is on disk. A server holds one copy for every
client, so there nothing needs reopening.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from supportbot.errors import KnowledgeIndexError
from supportbot.settings import Settings

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.config import Settings as ChromaSettings

IndexState = tuple[str, int]  # (collection id, generation)


class _SharedExclusiveLock:
    """Many holders of ``shared()``, or one of ``exclusive()``."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._shared = 0
        self._exclusive = False

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._exclusive)
            self._shared += 1
        try:
            yield
        finally:
            with self._cond:
                self._shared -= 1
                self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._exclusive and self._shared == 0)
            self._exclusive = True
        try:
            yield
        finally:
            with self._cond:
                self._exclusive = False
                self._cond.notify_all()


class ChromaConnection:
    """A Chroma client shared by the threads of one process."""

    def __init__(
        self,
        make_client: Callable[[], ClientAPI],
        *,
        description: str,
        embedded_path: Path | None = None,
    ) -> None:
        self._make_client = make_client
        self.description = description
        self._embedded_path = embedded_path
        self._lock = _SharedExclusiveLock()
        self._seen: set[IndexState] = set()
        self._seen_lock = threading.Lock()
        self._client = self._open()
        #: How often the embedded client was reopened to load another process's writes.
        self.reopened = 0

    @property
    def embedded(self) -> bool:
        return self._embedded_path is not None

    @property
    def embedded_path(self) -> Path | None:
        return self._embedded_path

    def _open(self) -> ClientAPI:
        try:
            return self._make_client()
        except KnowledgeIndexError:
            raise
        except Exception as exc:
            raise KnowledgeIndexError(f"cannot open Chroma at {self.description}: {exc}") from exc

    @contextmanager
    def client(self) -> Iterator[ClientAPI]:
        """The client, for one operation; a reopen waits until the operation ends."""
        with self._lock.shared():
            yield self._client

    def remember(self, state: IndexState) -> None:
        """This process has written (or is about to commit) ``state``."""
        with self._seen_lock:
            self._seen.add(state)

    def is_current_view(self, state: IndexState) -> bool:
        """Whether this process's view of the index includes ``state``.

        True for a server, for the first state a process sees, and for states this
        process has seen or written; otherwise :meth:`reopen` must be called first.
        """
        with self._seen_lock:
            if state in self._seen:
                return True
            if not self._seen or not self.embedded:
                self._seen.add(state)
                return True
            return False

    def reopen(self, state: IndexState) -> None:
        """Reload the embedded index from disk, so it includes another process's writes."""
        with self._lock.exclusive():
            with self._seen_lock:
                if state in self._seen:
                    return  # another thread reopened meanwhile
            self._reopen_embedded()
            with self._seen_lock:
                self._seen.add(state)

    def _reopen_embedded(self) -> None:
        from chromadb.api.shared_system_client import SharedSystemClient

        with contextlib.suppress(Exception):  # an already-closed client is fine
            _close(self._client)
        # Another client object for the same path would keep the stale system alive.
        identifier = str(self._embedded_path)
        system = SharedSystemClient._identifier_to_system.pop(identifier, None)
        SharedSystemClient._identifier_to_refcount.pop(identifier, None)
        if system is not None:
            system.stop()
        self._client = self._open()
        self.reopened += 1

    def close(self) -> None:
        with self._lock.exclusive():
            _close(self._client)


def _close(client: ClientAPI) -> None:
    """Release the client; also the HTTP sessions, which chromadb 1.5 leaves open."""
    servers = [
        getattr(c, "_server", None) for c in (client, getattr(client, "_admin_client", None))
    ]
    close = getattr(client, "close", None)  # chromadb.Client has it; ClientAPI does not say so
    if callable(close):
        close()
    for server in servers:
        session = getattr(server, "_session", None)
        if session is not None and callable(getattr(session, "close", None)):
            session.close()


def _chroma_settings() -> ChromaSettings:
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def make_connection(settings: Settings) -> ChromaConnection:
    """A new connection for ``settings``; prefer :func:`connect`, which shares them."""
    import chromadb

    if settings.chroma_host:
        host, port = settings.chroma_host, settings.chroma_port

        def make_http() -> ClientAPI:
            return chromadb.HttpClient(host=host, port=port, settings=_chroma_settings())

        return ChromaConnection(make_http, description=f"http://{host}:{port}")

    path = settings.index_dir.resolve()
    path.mkdir(parents=True, exist_ok=True)

    def make_embedded() -> ClientAPI:
        return chromadb.PersistentClient(path=str(path), settings=_chroma_settings())

    return ChromaConnection(make_embedded, description=str(path), embedded_path=path)


_connections: dict[str, ChromaConnection] = {}
_connections_lock = threading.Lock()


def connect(settings: Settings) -> ChromaConnection:
    """The process-wide connection for the index location ``settings`` name."""
    if settings.chroma_host:
        key = f"http://{settings.chroma_host}:{settings.chroma_port}"
    else:
        key = str(settings.index_dir.resolve())
    with _connections_lock:
        connection = _connections.get(key)
        if connection is None:
            connection = make_connection(settings)
            _connections[key] = connection
        return connection


def disconnect_all() -> None:
    """Close every shared connection (end of a test, or of a process)."""
    with _connections_lock:
        connections = list(_connections.values())
        _connections.clear()
    for connection in connections:
        with contextlib.suppress(Exception):
            connection.close()
