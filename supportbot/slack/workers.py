"""Bounded worker pools: the Slack listeners ack at once and hand the work to these.

Two pools run side by side in the app: ``answers`` (model calls: a question takes seconds)
and ``interactions`` (button clicks, modals, notices: only Slack calls, milliseconds), so a
reviewer's click never waits behind a queue of questions — ``views.open`` must use its
``trigger_id`` within three seconds.

A pool holds at most ``max_pending`` jobs (running and queued); :meth:`WorkerPool.submit`
refuses more (returns False) instead of letting a backlog grow without bound, and the caller
tells the user. A job's exception is logged; it never kills a worker.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)


class WorkerPool:
    """A fixed number of threads and a bounded backlog; thread-safe."""

    def __init__(self, name: str, workers: int, max_pending: int) -> None:
        if workers < 1 or max_pending < workers:
            raise ValueError(f"pool {name}: need workers >= 1 and max_pending >= workers")
        self.name = name
        self.workers = workers
        self.max_pending = max_pending
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._changed = threading.Condition()
        self._pending = 0
        self._running = 0
        self._closed = False

    @property
    def running(self) -> int:
        with self._changed:
            return self._running

    @property
    def queued(self) -> int:
        with self._changed:
            return self._pending - self._running

    @property
    def pending(self) -> int:
        """Jobs running or waiting for a worker."""
        with self._changed:
            return self._pending

    def submit(self, job: Callable[[], object], *, what: str = "job") -> bool:
        """Queue ``job``; False (and nothing queued) when the pool is full or closed."""
        with self._changed:
            if self._closed or self._pending >= self.max_pending:
                log.warning("%s pool refused %s (%d pending)", self.name, what, self._pending)
                return False
            self._pending += 1
        try:
            self._executor.submit(self._run, job, what)
        except RuntimeError:  # the executor shut down between the check and the submit
            self._done()
            return False
        return True

    def _run(self, job: Callable[[], object], what: str) -> None:
        with self._changed:
            self._running += 1
        try:
            job()
        except Exception:
            log.exception("%s pool: %s failed", self.name, what)
        finally:
            with self._changed:
                self._running -= 1
            self._done()

    def _done(self) -> None:
        with self._changed:
            self._pending -= 1
            self._changed.notify_all()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no job is running or queued; False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: self._pending == 0, timeout)

    def close(self, *, wait: bool = True, timeout: float | None = 30.0) -> bool:
        """Refuse new jobs; with ``wait``, let the queued ones finish (up to ``timeout``).
        Unfinished questions stay in the store and are recovered at the next start."""
        with self._changed:
            self._closed = True
        idle = self.wait_idle(timeout) if wait else self.pending == 0
        self._executor.shutdown(wait=False, cancel_futures=not idle)
        return idle
