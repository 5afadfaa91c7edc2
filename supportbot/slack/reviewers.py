"""Who may approve, edit or reject: ``SUPPORTBOT_REVIEWERS`` user IDs and user groups.

A user group (``S…``) is resolved through ``usergroups.users.list`` and cached for
:data:`MEMBERS_TTL`, so a click costs no Web API call in the common case and a change in the
group takes effect within minutes. When Slack cannot be asked, the last known members stay
in force; a group never resolved grants nothing (fail closed).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from supportbot.clock import Clock
from supportbot.slack.gateway import SlackDeliveryError, SlackGateway

log = logging.getLogger(__name__)

MEMBERS_TTL = timedelta(minutes=5)


def is_usergroup(slack_id: str) -> bool:
    return slack_id.startswith("S")


@dataclass(frozen=True)
class _Members:
    users: frozenset[str]
    fetched_at: datetime


class ReviewerDirectory:
    """Answers "is this user a reviewer?"; thread-safe."""

    def __init__(
        self,
        gateway: SlackGateway,
        reviewers: Iterable[str],
        clock: Clock,
        *,
        ttl: timedelta = MEMBERS_TTL,
    ) -> None:
        entries = [r.strip() for r in reviewers if r.strip()]
        self.users = frozenset(e for e in entries if not is_usergroup(e))
        self.groups = tuple(e for e in entries if is_usergroup(e))
        self._gateway = gateway
        self._clock = clock
        self._ttl = ttl
        self._lock = threading.Lock()
        self._members: dict[str, _Members] = {}

    @property
    def configured(self) -> bool:
        return bool(self.users or self.groups)

    def allows(self, user: str) -> bool:
        if user in self.users:
            return True
        return any(user in self.members(group) for group in self.groups)

    def members(self, group: str) -> frozenset[str]:
        now = self._clock.now()
        with self._lock:
            cached = self._members.get(group)
        if cached is not None and now - cached.fetched_at < self._ttl:
            return cached.users
        try:
            users = frozenset(self._gateway.usergroup_members(group))
        except SlackDeliveryError as exc:
            log.error("cannot resolve reviewer group %s: %s", group, exc)
            return cached.users if cached is not None else frozenset()
        with self._lock:
            self._members[group] = _Members(users, now)
        return users

    def warm(self) -> None:
        """Resolve every group now (at start-up), so the first click is fast."""
        for group in self.groups:
            self.members(group)
