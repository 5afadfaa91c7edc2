"""Channel names for the policy's per-channel rules (keyed by ID or name), cached.

``conversations.info`` is asked once per channel and the answer kept for an hour; a failure
(say, a private channel the app cannot read) is remembered for a few minutes and the rule
lookup falls back to the channel ID alone. DMs have no name and cost no call.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from supportbot.clock import Clock
from supportbot.routing.router import Channel
from supportbot.slack.gateway import SlackDeliveryError, SlackGateway

log = logging.getLogger(__name__)

NAME_TTL = timedelta(hours=1)
FAILURE_TTL = timedelta(minutes=5)


class ChannelDirectory:
    def __init__(self, gateway: SlackGateway, clock: Clock) -> None:
        self._gateway = gateway
        self._clock = clock
        self._lock = threading.Lock()
        self._names: dict[str, tuple[str | None, datetime]] = {}

    def channel(self, channel_id: str | None) -> Channel | None:
        if channel_id is None:
            return None
        return Channel(id=channel_id, name=self.name(channel_id))

    def name(self, channel_id: str) -> str | None:
        if channel_id.startswith("D"):
            return None
        now = self._clock.now()
        with self._lock:
            cached = self._names.get(channel_id)
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            name = self._gateway.channel_info(channel_id).name
            expires = now + NAME_TTL
        except SlackDeliveryError as exc:
            log.info("no name for channel %s (%s); rules match its ID only", channel_id, exc)
            name, expires = None, now + FAILURE_TTL
        with self._lock:
            self._names[channel_id] = (name, expires)
        return name
