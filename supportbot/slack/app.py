"""The Slack app: :func:`build_app` wires a bolt ``App`` to the answer pipeline.

::

    services = Services.build(settings)
    bot = build_app(settings, services)            # checks the token with auth.test
    bot.start()                                    # warm caches, recover after a crash
    server = bot.serve_http(port=3000)             # HTTP mode: POST /slack/events
    handler = bot.socket_mode_handler(app_token)   # or Socket Mode
    ...
    bot.close()

Listeners run with ``process_before_response=True``: a listener returns in milliseconds,
after recording what must survive a crash, and bolt acks when it returns (in both HTTP and
Socket Mode). Model calls run on the ``answers`` pool, never on bolt's threads.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any, Self

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient

from supportbot.clock import Clock
from supportbot.services import Services
from supportbot.settings import Settings
from supportbot.slack import config
from supportbot.slack.answering import AnswerFlow
from supportbot.slack.channels import ChannelDirectory
from supportbot.slack.commands import SlashCommands
from supportbot.slack.delivery import AskerReplies, Outbox
from supportbot.slack.gateway import (
    BotIdentity,
    SlackDeliveryError,
    WebClientGateway,
    web_client,
)
from supportbot.slack.http import HttpServer, SlackWsgiApp
from supportbot.slack.listeners import ListenerContext, register
from supportbot.slack.pacing import ChannelPacer
from supportbot.slack.recovery import PERIODIC_IDLE, Recovery, RecoveryReport
from supportbot.slack.reviewers import ReviewerDirectory
from supportbot.slack.reviewing import ReviewFlow
from supportbot.slack.workers import WorkerPool

log = logging.getLogger(__name__)

INTERACTION_WORKERS = 8
INTERACTION_BACKLOG = 1_000
SOCKET_MODE_CONCURRENCY = 16


class SlackBot:
    """The running Slack edge: the bolt app, its pools and flows."""

    def __init__(
        self,
        *,
        settings: Settings,
        services: Services,
        bolt: App,
        gateway: WebClientGateway,
        identity: BotIdentity,
        answers: WorkerPool,
        interactions: WorkerPool,
        reviewers: ReviewerDirectory,
        answering: AnswerFlow,
        reviewing: ReviewFlow,
        commands: SlashCommands,
        recovery: Recovery,
    ) -> None:
        self.settings = settings
        self.services = services
        self.bolt = bolt
        self.gateway = gateway
        self.identity = identity
        self.answers = answers
        self.interactions = interactions
        self.reviewers = reviewers
        self.answering = answering
        self.reviewing = reviewing
        self.commands = commands
        self.recovery = recovery
        self._closed = False

    @property
    def clock(self) -> Clock:
        return self.services.clock

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> RecoveryReport:
        """Before taking traffic: resolve reviewer groups, check the review channel, and
        finish what a previous run left (see :mod:`supportbot.slack.recovery`)."""
        self.reviewers.warm()
        if not self.reviewers.configured:
            log.warning("SUPPORTBOT_REVIEWERS is empty: nobody can approve, edit or reject")
        self._check_review_channel()
        return self.recover()

    def _check_review_channel(self) -> None:
        channel = self.settings.review_channel or ""
        try:
            info = self.gateway.channel_info(channel)
        except SlackDeliveryError as exc:
            log.warning("cannot check SUPPORTBOT_REVIEW_CHANNEL %s: %s", channel, exc.error)
            return
        if not info.is_member:
            log.warning(
                "the bot is not a member of SUPPORTBOT_REVIEW_CHANNEL %s (#%s): invite it "
                "with /invite, or escalations cannot be posted there",
                channel,
                info.name,
            )

    def recover(self, *, idle_for: timedelta | None = None) -> RecoveryReport:
        """One recovery sweep (default: ``SUPPORTBOT_RECOVERY_IDLE_SECONDS``)."""
        if idle_for is None:
            idle_for = timedelta(seconds=self.settings.recovery_idle_seconds)
        return self.recovery.run(idle_for=idle_for)

    def periodic_recovery(self) -> RecoveryReport:
        """The timer's sweep: only what no live worker can still hold."""
        idle = max(timedelta(seconds=self.settings.recovery_idle_seconds), PERIODIC_IDLE)
        return self.recovery.run(idle_for=idle)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Until both pools are empty at the same time (tests, benchmarks, shutdown)."""
        deadline = time.monotonic() + timeout
        while True:
            if not self.answers.wait_idle(max(deadline - time.monotonic(), 0.0)):
                return False
            if not self.interactions.wait_idle(max(deadline - time.monotonic(), 0.0)):
                return False
            if self.answers.pending == 0:  # nothing was queued while waiting on the other
                return True

    def health(self) -> dict[str, Any]:
        return {
            "answering": self.answers.running,
            "queued": self.answers.queued,
            "interactions": self.interactions.pending,
        }

    def close(self, *, timeout: float = 30.0) -> None:
        """Stop taking work and let the queued work finish (up to ``timeout``); whatever is
        left stays in the store for the next start's recovery."""
        if self._closed:
            return
        self._closed = True
        self.answers.close(wait=True, timeout=timeout)
        self.interactions.close(wait=True, timeout=5.0)
        self.commands.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- transports -------------------------------------------------------------------------------
    def wsgi_app(self) -> SlackWsgiApp:
        return SlackWsgiApp(self.bolt, self.health)

    def serve_http(self, *, port: int, host: str = "0.0.0.0") -> HttpServer:
        """HTTP mode: serve ``/slack/events`` (and ``/healthz``) on a background thread."""
        return HttpServer(self.wsgi_app(), host=host, port=port).start()

    def socket_mode_handler(self, app_token: str) -> SocketModeHandler:
        """Socket Mode: call ``.connect()`` on the result (``.close()`` to stop)."""
        return SocketModeHandler(
            self.bolt, app_token=app_token, concurrency=SOCKET_MODE_CONCURRENCY
        )


def build_app(
    settings: Settings,
    services: Services,
    *,
    socket_mode: bool = False,
    client: WebClient | None = None,
    pacer: ChannelPacer | None = None,
) -> SlackBot:
    """Wire the Slack app. Raises ConfigurationError (naming the setting) for a missing or
    refused token, a missing review channel or a bad source URL template."""
    config.check_settings(settings, socket_mode=socket_mode)
    token = config.bot_token(settings)
    client = client or web_client(token, settings.slack_api_url)
    gateway = WebClientGateway(client, pacer=pacer)
    identity = config.identify(gateway, settings.slack_api_url)
    clock = services.clock
    store = services.store
    review_channel = settings.review_channel or ""

    answers = WorkerPool(
        "answers", settings.slack_workers, settings.slack_workers + settings.slack_queue_limit
    )
    interactions = WorkerPool("interactions", INTERACTION_WORKERS, INTERACTION_BACKLOG)
    reviewers = ReviewerDirectory(gateway, settings.reviewers, clock)
    outbox = Outbox(store)
    replies = AskerReplies(gateway)
    reviewing = ReviewFlow(
        store=store,
        desk=services.reviews,
        gateway=gateway,
        replies=replies,
        outbox=outbox,
        reviewers=reviewers,
        review_channel=review_channel,
        source_url_template=settings.source_url_template,
    )
    answering = AnswerFlow(
        store=store,
        pipeline=services.pipeline,
        desk=services.reviews,
        gateway=gateway,
        replies=replies,
        outbox=outbox,
        reviews=reviewing,
        channels=ChannelDirectory(gateway, clock),
        answers=answers,
        interactions=interactions,
        source_url_template=settings.source_url_template,
    )
    commands = SlashCommands(
        answering=answering,
        store=store,
        index=services.index,
        policies=services.policies,
        knowledge_dir=settings.knowledge_dir,
        gateway=gateway,
        reviewers=reviewers,
        answers=answers,
        interactions=interactions,
        executor=services.executor.name,
        escalator=services.escalator.name if services.escalator is not None else None,
        clock=clock,
    )
    recovery = Recovery(store=store, answering=answering, reviewing=reviewing, clock=clock)
    bolt = App(
        client=client,
        signing_secret="" if socket_mode else config.signing_secret(settings),
        process_before_response=True,
        request_verification_enabled=not socket_mode,
        token_verification_enabled=True,
    )
    register(
        bolt,
        ListenerContext(
            bot_user_id=identity.user_id,
            support_channels=frozenset(settings.support_channels),
            review_channel=review_channel,
            answering=answering,
            reviewing=reviewing,
            commands=commands,
            gateway=gateway,
            interactions=interactions,
        ),
    )
    return SlackBot(
        settings=settings,
        services=services,
        bolt=bolt,
        gateway=gateway,
        identity=identity,
        answers=answers,
        interactions=interactions,
        reviewers=reviewers,
        answering=answering,
        reviewing=reviewing,
        commands=commands,
        recovery=recovery,
    )
