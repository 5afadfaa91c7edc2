"""``supportbot serve``: check the tokens, build everything, run until told to stop.

Order matters for a clear failure: the settings and tokens are checked first (``auth.test``,
and ``apps.connections.open`` for Socket Mode), before the embedder and the index load, so
a wrong token stops the command in a second with a message naming the setting.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Callable

from supportbot.services import Services
from supportbot.settings import Settings
from supportbot.slack import config
from supportbot.slack.app import build_app
from supportbot.slack.gateway import WebClientGateway, web_client

log = logging.getLogger(__name__)

SHUTDOWN_GRACE_SECONDS = 30.0


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

    from supportbot.jobs.scheduler import build_scheduler

    stop = stop or threading.Event()
    _stop_on_signals(stop)
    with contextlib.ExitStack() as owned:
        if services is None:
            services = owned.enter_context(Services.build(settings))
        report = services.index.update(settings.knowledge_dir)
        log.info(
            "index: %d added, %d updated, %d removed, %d failed; %d chunks",
            report.added,
            report.updated,
            report.removed,
            len(report.failed),
            report.chunks,
        )
        bot = build_app(settings, services, socket_mode=socket_mode)
        scheduler = build_scheduler(settings, bot.scheduled_jobs())
        try:
            bot.start()
            scheduler.start()
            if app_token is not None:
                handler = bot.socket_mode_handler(app_token)
                handler.connect()  # type: ignore[no-untyped-call]
                where = f"supportbot is connected to Slack over Socket Mode as {identity.user_id}"
                close: Callable[[], None] = handler.close
            else:
                server = bot.serve_http(port=settings.port, host=host)
                where = f"supportbot listens for Slack on {server.url}"
                close = server.close
            if on_ready is not None:
                on_ready(where)
            log.info(where)
            stop.wait()
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
