"""Posting pace: Slack allows about one message per second per channel (short bursts pass).

:class:`ChannelPacer` makes each poster wait for its turn before ``chat.postMessage``, so a
burst of answers in one channel is spread out instead of answered with 429s. It is a
generic cell-rate algorithm (a token bucket without a refill thread): each channel has a
"theoretical arrival time"; a post may go ``burst - 1`` intervals ahead of it. Posters in
different channels never wait for each other.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

SLACK_MESSAGES_PER_SECOND = 1.0
SLACK_BURST = 3
#: The pace the bot keeps: 10% under Slack's limit. Slots are reserved before the request
#: leaves and Slack counts them when they arrive, so jitter in between must not turn a
#: paced burst into 429s.
PACED_MESSAGES_PER_SECOND = 0.9 * SLACK_MESSAGES_PER_SECOND
_PRUNE_ABOVE = 4_096  # channels remembered before idle ones are forgotten


class ChannelPacer:
    """Blocks a poster until its channel's next slot; thread-safe."""

    def __init__(
        self,
        per_second: float = PACED_MESSAGES_PER_SECOND,
        burst: int = SLACK_BURST,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_second <= 0 or burst < 1:
            raise ValueError(f"need per_second > 0 and burst >= 1, got {per_second}, {burst}")
        self.interval = 1.0 / per_second
        self.tolerance = (burst - 1) * self.interval
        self._monotonic = monotonic
        self._sleep = sleep
        self._lock = threading.Lock()
        self._arrival: dict[str, float] = {}

    def reserve(self, channel: str) -> float:
        """Take the channel's next slot; returns how long to wait before using it."""
        with self._lock:
            now = self._monotonic()
            if len(self._arrival) > _PRUNE_ABOVE:
                self._arrival = {c: t for c, t in self._arrival.items() if t > now}
            arrival = max(self._arrival.get(channel, now), now)
            wait = max(arrival - self.tolerance - now, 0.0)
            self._arrival[channel] = arrival + self.interval
            return wait

    def wait(self, channel: str) -> float:
        """Wait for the channel's next slot; returns the seconds waited."""
        delay = self.reserve(channel)
        if delay > 0:
            self._sleep(delay)
        return delay
