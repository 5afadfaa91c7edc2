"""``supportbot serve``: refuses missing or refused tokens with a message naming the
setting; runs in Socket Mode (bolt's SocketModeHandler against the fake's hub) until told
to stop. And the manifests: exactly the scopes and events the app uses."""

from __future__ import annotations

import json
import socket
import sys
import threading
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from slack_harness import REPO_ROOT, SECRET, ScriptedExecutor, block_texts

from supportbot.cli import main
from supportbot.fakes.slack import FakeSlack, SlackSender
from supportbot.jobs.context import JobContext
from supportbot.jobs.scheduler import build_scheduler
from supportbot.jobs.tasks import daily_digest, scheduled_jobs
from supportbot.retrieval.embedders import MiniLMEmbedder
from supportbot.services import Services
from supportbot.settings import Settings
from supportbot.slack import build_app
from supportbot.slack.serve import serve

MANIFESTS = REPO_ROOT / "supportbot" / "slack"


def run_serve(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], env: dict[str, str]
) -> str:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "argv", ["supportbot", "serve", "--port", "3999"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2
    return capsys.readouterr().err


@pytest.fixture
def base_env(fake: FakeSlack, isolated_env: Path) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": fake.bot_token,
        "SLACK_SIGNING_SECRET": "secret",
        "SUPPORTBOT_SLACK_API_URL": fake.api_url,
        "SUPPORTBOT_REVIEW_CHANNEL": "C0REVIEW",
        "SUPPORTBOT_DATA_DIR": str(isolated_env / "data"),
    }


@pytest.mark.parametrize(
    ("change", "setting", "problem"),
    [
        ({"SLACK_BOT_TOKEN": ""}, "SLACK_BOT_TOKEN", "not set"),
        ({"SLACK_BOT_TOKEN": "xoxp-user-token"}, "SLACK_BOT_TOKEN", "xoxb-"),
        (
            {"SLACK_BOT_TOKEN": "xoxb-revoked"},
            "SLACK_BOT_TOKEN",
            "refused the token (invalid_auth)",
        ),
        ({"SLACK_SIGNING_SECRET": ""}, "SLACK_SIGNING_SECRET", "HTTP mode"),
        ({"SLACK_APP_TOKEN": "xoxb-not-an-app-token"}, "SLACK_APP_TOKEN", "xapp-"),
        ({"SLACK_APP_TOKEN": "xapp-1-forged"}, "SLACK_APP_TOKEN", "refused the app-level token"),
        ({"SUPPORTBOT_REVIEW_CHANNEL": ""}, "SUPPORTBOT_REVIEW_CHANNEL", "not set"),
        ({"SUPPORTBOT_REVIEWERS": "bob"}, "SUPPORTBOT_REVIEWERS", "user ID"),
        (
            {"SUPPORTBOT_SOURCE_URL_TEMPLATE": "https://x/{path}"},
            "SUPPORTBOT_SOURCE_URL_TEMPLATE",
            "{source}",
        ),
    ],
)
def test_serve_refuses_bad_settings_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    base_env: dict[str, str],
    change: dict[str, str],
    setting: str,
    problem: str,
) -> None:
    error = run_serve(monkeypatch, capsys, {**base_env, **change})

    assert f"error: {setting}: " in error
    assert problem in " ".join(error.split())


def test_serve_refuses_an_unreachable_slack(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], base_env: dict[str, str]
) -> None:
    error = run_serve(
        monkeypatch, capsys, {**base_env, "SUPPORTBOT_SLACK_API_URL": "http://127.0.0.1:9/api/"}
    )

    assert "error: SUPPORTBOT_SLACK_API_URL: cannot talk to Slack" in error


@pytest.fixture
def socket_services(
    make_settings: Callable[..., Settings],
    embedder: MiniLMEmbedder,
    executor: ScriptedExecutor,
    fake: FakeSlack,
) -> Iterator[tuple[Settings, Services]]:
    settings = make_settings(slack_app_token=fake.app_token, slack_signing_secret=None)
    with Services.build(settings, embedder=embedder, executor=executor, escalator=None) as services:
        yield settings, services


def test_serve_runs_over_socket_mode_until_stopped(
    fake: FakeSlack, socket_services: tuple[Settings, Services]
) -> None:
    settings, services = socket_services
    stop, ready = threading.Event(), threading.Event()
    said: list[str] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            serve(
                settings,
                stop=stop,
                services=services,
                on_ready=lambda s: (said.append(s), ready.set()),
            )
        except BaseException as exc:  # surfaced below
            errors.append(exc)
            ready.set()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert ready.wait(30), "serve did not come up"
        assert not errors, errors
        assert "Socket Mode" in said[0]
        fake.socket.wait_connected()
        mention = fake.traffic.app_mention("U0ALICE", "C0GENERAL", "How do I export a project?")
        ack = fake.socket.push(mention)
        assert ack.payload is None
        answer = fake.wait_for_message(
            "C0GENERAL",
            mention.event["ts"],
            lambda m: m.user == "U0BOT" and m.ts != mention.event["ts"],
            timeout=15,
        )
        assert "export a project" in block_texts(answer)
        command = fake.socket.push(fake.traffic.slash_command("U0ALICE", "C0GENERAL", "help"))
        assert command.payload is not None
        assert "/supportbot status" in str(command.payload)
    finally:
        fake.socket.close_connections()
        stop.set()
        thread.join(30)
    assert not thread.is_alive()
    fake.assert_no_rejections()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_runs_over_http_with_a_health_check(
    fake: FakeSlack,
    make_settings: Callable[..., Settings],
    embedder: MiniLMEmbedder,
    executor: ScriptedExecutor,
) -> None:
    settings = make_settings(port=free_port())
    stop, ready = threading.Event(), threading.Event()
    said: list[str] = []
    with Services.build(settings, embedder=embedder, executor=executor, escalator=None) as services:
        thread = threading.Thread(
            target=serve,
            args=(settings,),
            kwargs={
                "host": "127.0.0.1",
                "stop": stop,
                "services": services,
                "on_ready": lambda where: (said.append(where), ready.set()),
            },
        )
        thread.start()
        try:
            assert ready.wait(30), "serve did not come up"
            url = said[0].rsplit(" ", 1)[-1]
            assert url == f"http://127.0.0.1:{settings.port}/slack/events"
            with urllib.request.urlopen(url.replace("/slack/events", "/healthz"), timeout=5) as r:
                assert json.loads(r.read())["ok"] is True
            sender = SlackSender(url, SECRET)
            mention = fake.traffic.app_mention("U0ALICE", "C0GENERAL", "How do I export?")
            assert sender.send(mention).status == 200
            forged = SlackSender(url, "not-the-secret").send(
                fake.traffic.app_mention("U0ALICE", "C0GENERAL", "How do I export?")
            )
            assert forged.status == 401
            fake.wait_for_message(
                "C0GENERAL",
                mention.event["ts"],
                lambda m: m.user == "U0BOT" and m.ts != mention.event["ts"],
                timeout=15,
            )
        finally:
            stop.set()
            thread.join(30)
    assert not thread.is_alive()
    assert len(services.store.questions_between(*_all_time())) == 1  # not the forged one


def _all_time() -> tuple[Any, Any]:
    from datetime import UTC, datetime

    return datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)


def test_serve_schedules_the_product_jobs_in_the_database(start: Callable[..., Any]) -> None:
    app = start(timezone="Europe/Paris", digest_channel="C0DIGEST")
    context = JobContext(settings=app.settings, services=app.services, slack=app.bot)
    scheduler = build_scheduler(
        app.settings,
        scheduled_jobs(app.settings, app.services.clock),
        context,
        engine=app.store.engine,
        claims=app.store,
    )
    scheduler.start(paused=True)
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown(wait=False)

    assert set(jobs) == {
        "nightly_reindex",
        "daily_digest",
        "review_sla",
        "slack_recovery",
        "purge_event_claims",
    }
    assert (
        str(jobs["nightly_reindex"].trigger)
        == "cron[month='*', day='*', day_of_week='*', hour='2', minute='0']"
    )
    assert (
        str(jobs["daily_digest"].trigger)
        == "cron[month='*', day='*', day_of_week='*', hour='9', minute='0']"
    )
    assert jobs["review_sla"].trigger.interval.total_seconds() == 60
    assert all(j.coalesce and j.max_instances == 1 for j in jobs.values())
    assert jobs["review_sla"].misfire_grace_time == 300
    assert jobs["daily_digest"].misfire_grace_time == 3600
    assert str(scheduler.timezone) == "Europe/Paris"
    with app.store.engine.connect() as connection:  # the job store is the store's database
        stored = connection.exec_driver_sql("SELECT id FROM apscheduler_jobs").scalars().all()
    assert set(stored) == set(jobs)
    # the stored references resolve to the functions, which run on the context
    jobs["review_sla"].func(context)
    jobs["slack_recovery"].func(context)


def test_socket_mode_needs_no_signing_secret(
    socket_services: tuple[Settings, Services], fake: FakeSlack
) -> None:
    settings, services = socket_services
    bot = build_app(settings, services, socket_mode=True)
    handler = bot.socket_mode_handler(fake.app_token)
    handler.connect()
    try:
        fake.socket.wait_connected()
        mention = fake.traffic.app_mention("U0ALICE", "D0ALICE", "How do I change my password?")
        fake.socket.push(mention)
        fake.wait_for_message(
            "D0ALICE", mention.event["ts"], lambda m: m.user == "U0BOT", timeout=15
        )
    finally:
        handler.client.auto_reconnect_enabled = False
        fake.socket.close_connections()
        handler.client.close()
        bot.close()


# -- the manifests ---------------------------------------------------------------------------
EVENT_SCOPES = {
    "app_mention": "app_mentions:read",
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "message.im": "im:history",
}
# Slack's documented bot scope of each Web API method the app calls (None: no scope needed)
METHOD_SCOPES: dict[str, set[str]] = {
    "auth.test": set(),
    "apps.connections.open": set(),  # app-level token (connections:write), not a bot scope
    "chat.postMessage": {"chat:write"},
    "chat.update": {"chat:write"},
    "chat.delete": {"chat:write"},
    "chat.postEphemeral": {"chat:write"},
    "chat.getPermalink": set(),
    "reactions.add": {"reactions:write"},
    "reactions.remove": {"reactions:write"},
    "views.open": set(),
    "usergroups.users.list": {"usergroups:read"},
    "conversations.info": {"channels:read", "groups:read"},  # public / private channels
    "files.getUploadURLExternal": {"files:write"},  # files_upload_v2: the digest's chart
    "files.completeUploadExternal": {"files:write"},
    "upload": set(),  # the bytes, POSTed to the URL Slack handed out
    "response_url": set(),
}


def load(name: str) -> dict[str, Any]:
    document = yaml.safe_load((MANIFESTS / name).read_text())
    assert isinstance(document, dict)
    return document


def test_the_two_manifests_differ_only_in_how_slack_reaches_the_app() -> None:
    socket, http = load("manifest.yaml"), load("manifest-http.yaml")

    assert socket["settings"]["socket_mode_enabled"] is True
    assert http["settings"]["socket_mode_enabled"] is False
    for name in ("oauth_config", "display_information"):
        assert socket[name] == http[name]
    assert http["settings"]["event_subscriptions"].pop("request_url").endswith("/slack/events")
    assert http["settings"]["interactivity"].pop("request_url").endswith("/slack/events")
    assert http["features"]["slash_commands"][0].pop("url").endswith("/slack/events")
    for document in (socket, http):
        document["settings"].pop("socket_mode_enabled")
    assert socket == http


def test_the_manifest_asks_for_exactly_the_scopes_the_app_uses(
    start: Callable[..., Any],
) -> None:
    """Drive every flow, then compare the scopes its Web API calls need with the manifest."""
    from test_slack_reviews import escalate

    app = start(digest_channel="C0DIGEST")
    app.bot.start()
    ts = app.ask("U0ALICE", "C0GENERAL", "How do I export a project?")
    app.bot_reply("C0GENERAL", ts, "export a project")
    _, review = escalate(app)
    app.click("U0BOB", "C0REVIEW", review.ts, "review_edit")
    app.fake.wait_for_call("views.open", timeout=10)
    app.send(app.fake.traffic.slash_command("U0ALICE", "C0GENERAL", "status"))
    app.idle()
    daily_digest(JobContext(settings=app.settings, services=app.services, slack=app.bot))
    manifest = load("manifest.yaml")

    called = {c.method for c in app.fake.calls()}
    unknown = called - METHOD_SCOPES.keys()
    assert not unknown, f"add the scopes of {unknown} to METHOD_SCOPES and the manifest"
    needed = set().union(*(METHOD_SCOPES[m] for m in called))
    needed |= set(EVENT_SCOPES.values()) | {"commands"}
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == needed
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == set(EVENT_SCOPES)
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/supportbot"]
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
