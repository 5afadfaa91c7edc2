"""The daily digest as ``supportbot serve`` runs it: the scheduler fires the product's
``daily_digest`` job at 09:00 local, and the job posts yesterday's digest through the Slack
app's gateway to the fake Slack, with the chart in its thread."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED
from digest_scenario import DAY, NOW, REPO_ROOT, ZONE
from scheduler_support import Events

from supportbot.clock import FakeClock
from supportbot.fakes.slack import FakeSlack
from supportbot.jobs.context import JobContext
from supportbot.jobs.digest import DigestConfig, DigestRun, build_digest
from supportbot.jobs.digest_blocks import digest_message
from supportbot.jobs.scheduler import build_scheduler
from supportbot.jobs.tasks import DIGEST_JOB, scheduled_jobs
from supportbot.retrieval.embedders import MiniLMEmbedder
from supportbot.services import Services
from supportbot.settings import Settings
from supportbot.slack import build_app


@pytest.fixture
def settings(scenario_data_dir: Path, tmp_path: Path, fake_slack: FakeSlack) -> Settings:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(scenario_data_dir / "supportbot.db", data / "supportbot.db")
    (tmp_path / "knowledge").mkdir()
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=data,
        knowledge_dir=tmp_path / "knowledge",
        policies_dir=REPO_ROOT / "policies",
        timezone=ZONE,
        slack_bot_token=fake_slack.bot_token,
        slack_signing_secret="secret",
        slack_api_url=fake_slack.api_url,
        review_channel="C0REVIEW",
        reviewers=["S0REVIEW"],
        digest_channel="#support-digest",
    )


@pytest.fixture
def services(settings: Settings, embedder: MiniLMEmbedder) -> Iterator[Services]:
    clock = FakeClock(NOW - timedelta(minutes=1))
    with Services.build(settings, clock=clock, embedder=embedder, escalator=None) as built:
        yield built


def test_the_scheduler_posts_yesterdays_digest_at_nine(
    settings: Settings, services: Services, fake_slack: FakeSlack, embedder: MiniLMEmbedder
) -> None:
    clock = services.clock
    assert isinstance(clock, FakeClock)
    bot = build_app(settings, services)
    jobs = [job for job in scheduled_jobs(settings, clock) if job.id == DIGEST_JOB]
    scheduler = build_scheduler(
        settings,
        jobs,
        JobContext(settings=settings, services=services, slack=bot),
        clock=clock,
        engine=services.store.engine,
        claims=services.store,
    )
    events = Events(scheduler)
    scheduler.start()
    try:
        scheduler.run_due_jobs()
        assert fake_slack.messages_in("C0DIGEST") == []  # 08:59
        clock.set(NOW)  # 09:00 in New York
        scheduler.run_due_jobs()
        [outcome] = events.wait_outcomes(1, timeout=30)
    finally:
        scheduler.shutdown()
        bot.close()

    assert outcome.code == EVENT_JOB_EXECUTED, outcome.exception
    run = outcome.retval
    assert isinstance(run, DigestRun)
    assert run.digest.date == DAY  # yesterday, locally
    fake_slack.assert_no_rejections()
    [posted] = fake_slack.messages_in("C0DIGEST")
    config = DigestConfig.from_settings(settings, min_retrieval_score=0.3)
    expected = digest_message(build_digest(services.store, embedder, config, day=DAY, now=NOW))
    assert (posted.text, posted.blocks) == (expected.text, expected.blocks)
    assert posted.text.startswith("Escalation digest for Tue 10 Mar 2026: 13 questions")
    [chart] = fake_slack.files()
    assert chart.thread_ts == posted.ts
    assert chart.content == (settings.chart_dir() / "escalations-2026-03-10.png").read_bytes()
    assert chart.content.startswith(b"\x89PNG\r\n\x1a\n")
    [audit] = [e for e in services.store.audit_events() if e.kind == "job.digest"]
    assert (audit.details["posted"], audit.details["ts"]) == (True, posted.ts)
