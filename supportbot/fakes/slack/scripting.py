"""Scripted trouble: failures queued per method, and Slack's per-channel posting limit."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .recording import Outcome
from .state import JsonDict


@dataclass(frozen=True)
class ChannelRateLimit:
    """Slack's chat.postMessage limit: about ``per_second`` per channel, short bursts allowed."""

    per_second: float = 1.0
    burst: int = 3
    retry_after: int = 1


@dataclass
class _ScriptedFailure:
    status: int
    error: str
    retry_after: int | None
    extra: JsonDict
    remaining: int


@dataclass
class _Bucket:
    tokens: float
    updated: datetime


class ScriptedFailures:
    """Failures queued with ``FakeSlack.fail_next``; the caller holds the state lock."""

    def __init__(self) -> None:
        self._queues: dict[str, deque[_ScriptedFailure]] = {}

    def add(
        self,
        method: str,
        *,
        error: str | None,
        status: int,
        retry_after: int | None,
        times: int,
        extra: Mapping[str, Any] | None,
    ) -> None:
        if status == 429:
            error = error or "ratelimited"
            retry_after = 1 if retry_after is None else retry_after
        elif error is None:
            error = "internal_error" if status >= 500 else "fatal_error"
        failure = _ScriptedFailure(status, error, retry_after, dict(extra or {}), times)
        self._queues.setdefault(method, deque()).append(failure)

    def pop(self, method: str) -> Outcome | None:
        queue = self._queues.get(method)
        if not queue:
            return None
        failure = queue[0]
        failure.remaining -= 1
        if failure.remaining <= 0:
            queue.popleft()
        headers = {}
        if failure.retry_after is not None:
            headers["Retry-After"] = str(failure.retry_after)
        body = {"ok": False, "error": failure.error, **failure.extra}
        return Outcome(failure.status, body, headers, cause="scripted")


class ChannelRateLimiter:
    """A token bucket per channel for ``chat.postMessage``; off while ``limit`` is None."""

    def __init__(self, limit: ChannelRateLimit | None) -> None:
        self.limit = limit
        self._buckets: dict[str, _Bucket] = {}

    def set(self, limit: ChannelRateLimit | None) -> None:
        self.limit = limit
        self._buckets.clear()

    def check(self, channel_id: str, now: datetime) -> Outcome | None:
        limit = self.limit
        if limit is None:
            return None
        bucket = self._buckets.setdefault(channel_id, _Bucket(limit.burst, now))
        elapsed = max(0.0, (now - bucket.updated).total_seconds())
        bucket.tokens = min(float(limit.burst), bucket.tokens + elapsed * limit.per_second)
        bucket.updated = now
        if bucket.tokens < 1:
            return Outcome(
                429,
                {"ok": False, "error": "ratelimited"},
                {"Retry-After": str(limit.retry_after)},
                cause="rate_limit",
            )
        bucket.tokens -= 1
        return None
