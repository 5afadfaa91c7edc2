"""What scheduled jobs work with: the container the scheduler hands to every job.

A job function is stored in the job store as a reference (``module:name``) and called as
``func(context)``; the context is built once per process by whoever runs the scheduler
(``supportbot serve``, the demo, a test) and is never pickled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from supportbot.errors import SupportBotError

if TYPE_CHECKING:
    from supportbot.clock import Clock
    from supportbot.jobs.posting import SlackPoster
    from supportbot.services import Services
    from supportbot.settings import Settings
    from supportbot.slack.app import SlackBot
    from supportbot.store import SqlStore


@dataclass(frozen=True)
class JobContext:
    """The settings, the services (store, index, embedder, policies, clock) and, when the
    Slack app runs in this process, the app (its gateway posts the jobs' messages)."""

    settings: Settings
    services: Services
    slack: SlackBot | None = None

    @property
    def clock(self) -> Clock:
        return self.services.clock

    @property
    def store(self) -> SqlStore:
        return self.services.store

    @property
    def poster(self) -> SlackPoster | None:
        """Where reports and the digest are posted; None without the Slack app."""
        return self.slack.gateway if self.slack is not None else None

    def require_slack(self, job: str) -> SlackBot:
        if self.slack is None:
            raise SupportBotError(f"the {job} job needs the Slack app, and none runs here")
        return self.slack
