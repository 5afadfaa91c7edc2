"""The current escalation policy, reloaded when a support lead edits the file.

A long-running bot must pick up an edited ``escalation.yaml`` without a restart, and an edit
that breaks the file must not take the bot down: the last good policy stays in force, and
the error is kept (and logged) so it can be reported. At start-up there is no last good
policy, so a broken file is an error.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from supportbot.errors import PolicyError
from supportbot.retrieval.types import Embedder
from supportbot.routing.categories import CategoryMatcher
from supportbot.routing.policy import Policy, load_policy_file, policy_path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Stamp:
    mtime_ns: int
    size: int


@dataclass(frozen=True)
class LoadedPolicy:
    policy: Policy
    matcher: CategoryMatcher


class PolicySource:
    """Loads ``escalation.yaml`` once, then again whenever the file changes."""

    def __init__(self, policies_dir: Path, embedder: Embedder) -> None:
        self.path = policy_path(policies_dir)
        self._embedder = embedder
        self._lock = threading.Lock()
        self._stamp = self._read_stamp()
        self._loaded = self._load()  # raises PolicyError: no policy, no bot
        self.last_error: PolicyError | None = None

    def _read_stamp(self) -> _Stamp | None:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return _Stamp(stat.st_mtime_ns, stat.st_size)

    def _load(self) -> LoadedPolicy:
        policy = load_policy_file(self.path)
        return LoadedPolicy(policy, CategoryMatcher(policy, self._embedder))

    def current(self) -> LoadedPolicy:
        """The policy in force: reloaded if the file changed and the new one is valid."""
        stamp = self._read_stamp()
        if stamp == self._stamp:
            return self._loaded
        with self._lock:
            if stamp == self._stamp:
                return self._loaded
            self._stamp = stamp
            try:
                self._loaded = self._load()
            except PolicyError as exc:
                self.last_error = exc
                log.error("keeping the last good policy: %s", exc)
            else:
                self.last_error = None
                log.info("reloaded %s", self.path)
            return self._loaded
