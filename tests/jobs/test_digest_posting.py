"""Posting the digest through slack_sdk to the fake Slack: Block Kit accepted, chart in thread."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from digest_scenario import DAY, NOW

from supportbot.clock import FakeClock
from supportbot.fakes.slack import FakeSlack
from supportbot.jobs.digest import DigestConfig, run_daily_digest
from supportbot.jobs.digest_blocks import digest_message
from supportbot.retrieval.embedders import MiniLMEmbedder
from supportbot.settings import Settings
from supportbot.slack.gateway import SlackDeliveryError, WebClientGateway
from supportbot.store import SqlStore


@pytest.fixture
def store(scenario_data_dir: Path, tmp_path: Path) -> Iterator[SqlStore]:
    """A copy of the seeded store (the job writes audit events)."""
    copy = tmp_path / "supportbot.db"
    shutil.copy(scenario_data_dir / "supportbot.db", copy)
    with SqlStore.open(f"sqlite:///{copy}", clock=FakeClock(NOW)) as opened:
        yield opened


def poster_for(slack: FakeSlack) -> WebClientGateway:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, slack_bot_token=slack.bot_token, slack_api_url=slack.api_url
    )
    return WebClientGateway.from_settings(settings)


def test_digest_is_posted_with_the_chart_in_its_thread(
    fake_slack: FakeSlack, store: SqlStore, embedder: MiniLMEmbedder, config: DigestConfig
) -> None:
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=0)  # retried by slack_sdk

    run = run_daily_digest(
        store=store,
        embedder=embedder,
        config=config,
        poster=poster_for(fake_slack),
        channel="#support-digest",  # by name: the upload must go to the channel's ID
        clock=FakeClock(NOW),
        day=DAY,
    )

    fake_slack.assert_no_rejections()
    assert run.posted is not None
    assert run.posted.channel == "C0DIGEST"
    top_level = fake_slack.messages_in("C0DIGEST")
    assert len(top_level) == 1
    posted = top_level[0]
    assert posted.ts == run.posted.ts
    expected = digest_message(run.digest)
    assert posted.text == expected.text
    assert posted.blocks == expected.blocks
    [chart] = fake_slack.files()
    assert chart.content == run.chart.read_bytes()
    assert chart.name == "escalations-2026-03-10.png"
    assert chart.channels == ["C0DIGEST"]
    assert chart.thread_ts == run.posted.ts
    thread = fake_slack.messages_in("C0DIGEST", run.posted.ts)
    assert [m.files for m in thread[1:]] == [[chart.id]]
    assert len(fake_slack.calls("chat.postMessage")) == 2  # the 429, then the post
    [audit] = [e for e in store.audit_events() if e.kind == "job.digest"]
    assert audit.details["posted"] is True
    assert audit.details["ts"] == run.posted.ts


def test_without_a_channel_the_job_only_writes_the_chart(
    store: SqlStore, embedder: MiniLMEmbedder, config: DigestConfig
) -> None:
    run = run_daily_digest(
        store=store,
        embedder=embedder,
        config=config,
        poster=None,
        channel=None,
        clock=FakeClock(NOW),
    )
    assert run.digest.date == DAY  # yesterday, in New York, at NOW
    assert run.posted is None
    assert run.chart.is_file()
    [audit] = [e for e in store.audit_events() if e.kind == "job.digest"]
    assert audit.details["posted"] is False


def test_a_refused_post_is_an_error_with_context_and_audited(
    fake_slack: FakeSlack, store: SqlStore, embedder: MiniLMEmbedder, config: DigestConfig
) -> None:
    with pytest.raises(SlackDeliveryError) as failure:
        run_daily_digest(
            store=store,
            embedder=embedder,
            config=config,
            poster=poster_for(fake_slack),
            channel="#no-such-channel",
            clock=FakeClock(NOW),
            day=DAY,
        )
    assert failure.value.method == "chat.postMessage"
    assert failure.value.error == "channel_not_found"
    [audit] = [e for e in store.audit_events() if e.kind == "job.digest"]
    assert audit.details["posted"] is False
    assert "channel_not_found" in str(audit.details["post_error"])
