"""``supportbot serve``: check the tokens, build everything, run until told to stop.

Order matters for a clear failure: the settings and tokens are checked first (``auth.test``,
and ``apps.connections.open`` for Socket Mode), before the embedder and the index load, so
a wrong token stops the command in a second with a message naming the setting.

:func:`run_app` is the running part — the Slack app (Socket Mode or HTTP) and the scheduler
with the product's jobs (:mod:`supportbot.jobs.tasks`: nightly reindex, daily digest, review
SLA, recovery, claim purging; job store and run claims in the store's database). ``serve``
and ``supportbot demo`` both run it.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from supportbot.jobs.context import JobContext
from supportbot.jobs.scheduler import JobScheduler, build_scheduler
from supportbot.jobs.tasks import scheduled_jobs
from supportbot.services import Services
from supportbot.settings import Settings
from supportbot.slack import config
from supportbot.slack.app import SlackBot, build_app
from supportbot.slack.gateway import WebClientGateway, web_client

log = logging.getLogger(__name__)

SHUTDOWN_GRACE_SECONDS = 30.0


@dataclass(frozen=True)
class RunningApp:
    """The Slack app and its scheduler while :func:`run_app` runs them."""

    bot: SlackBot
    scheduler: JobScheduler
    where: str  # a line for the operator: how Slack reaches the app
    url: str | None  # the HTTP endpoint (``.../slack/events``); None in Socket Mode


def serve(
    settings: Settings,
    *,
    host: str = "0.0.0.0",
    stop: threading.Event | None = None,
    on_ready: Callable[[str], None] | None = None,
    services: Services | None = None,
) -> None:
    """Run until ``stop`` is set (or SIGINT/SIGTERM on the main thread).

    ``services`` (tests, the demo) replaces ``Services.build(settings)``; the caller keeps
    ownership of it."""
    app_token = config.app_token(settings)
    socket_mode = app_token is not None
    config.check_settings(settings, socket_mode=socket_mode)
    gateway = WebClientGateway(web_client(config.bot_token(settings), settings.slack_api_url))
    identity = config.identify(gateway, settings.slack_api_url)
    config.check_app_token(settings)
    log.info("Slack accepts the token: bot %s in team %s", identity.user_id, identity.team)

    stop = stop or threading.Event()
    _stop_on_signals(stop)
    with contextlib.ExitStack() as owned:
        if services is None:
            services = owned.enter_context(Services.build(settings))
        update_index(services)
        with run_app(settings, services, host=host, port=settings.port) as running:
            if on_ready is not None:
                on_ready(running.where)
            log.info(running.where)
            stop.wait()


def update_index(services: Services) -> None:
    """Bring the index in line with the knowledge dir before taking questions."""
    report = services.index.update(services.settings.knowledge_dir)
    log.info(
        "index: %d added, %d updated, %d removed, %d failed; %d chunks",
        report.added,
        report.updated,
        report.removed,
        len(report.failed),
        report.chunks,
    )


@contextlib.contextmanager
def run_app(
    settings: Settings, services: Services, *, host: str, port: int
) -> Iterator[RunningApp]:
    """Start the Slack app (Socket Mode when ``SLACK_APP_TOKEN`` is set, else HTTP on
    ``host:port``; ``port=0`` picks a free one) and the scheduler; stop both when the block
    ends, letting the questions in flight finish (up to ``SHUTDOWN_GRACE_SECONDS``)."""
    app_token = config.app_token(settings)
    bot = build_app(settings, services, socket_mode=app_token is not None)
    scheduler = build_scheduler(
        settings,
        scheduled_jobs(settings, services.clock),
        JobContext(settings=settings, services=services, slack=bot),
        clock=services.clock,
        engine=services.store.engine,
        claims=services.store,
    )
    try:
        bot.start()
        scheduler.start()
        if app_token is not None:
            handler = bot.socket_mode_handler(app_token)
            handler.connect()  # type: ignore[no-untyped-call]
            where = f"supportbot is connected to Slack over Socket Mode as {bot.identity.user_id}"
            close: Callable[[], None] = handler.close
            url = None
        else:
            server = bot.serve_http(port=port, host=host)
            where = f"supportbot listens for Slack on {server.url}"
            close, url = server.close, server.url
        try:
            yield RunningApp(bot=bot, scheduler=scheduler, where=where, url=url)
        finally:
            log.info(
                "stopping: finishing the questions in flight (up to %.0f s)", SHUTDOWN_GRACE_SECONDS
            )
            close()
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=False)
        bot.close(timeout=SHUTDOWN_GRACE_SECONDS)


def _stop_on_signals(stop: threading.Event) -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
