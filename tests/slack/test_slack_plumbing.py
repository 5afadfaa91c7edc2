"""The Slack edge's plumbing: posting pace, worker pools, reviewer groups, the gateway."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from supportbot.clock import FakeClock
from supportbot.fakes.slack import FakeSlack, SlackChannel
from supportbot.slack.blocks import notice
from supportbot.slack.channels import ChannelDirectory
from supportbot.slack.gateway import SlackDeliveryError, WebClientGateway, web_client
from supportbot.slack.pacing import ChannelPacer
from supportbot.slack.reviewers import ReviewerDirectory
from supportbot.slack.workers import WorkerPool


class ManualTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


def test_the_pacer_allows_a_burst_then_one_post_per_second_per_channel() -> None:
    time = ManualTime()
    pacer = ChannelPacer(per_second=1.0, burst=3, monotonic=time.monotonic, sleep=time.sleep)

    waits = [pacer.wait("C1") for _ in range(5)]
    other = pacer.wait("C2")

    assert waits == [0.0, 0.0, 0.0, 1.0, 1.0]
    assert other == 0.0
    time.now += 10  # an idle channel earns its burst back
    assert [pacer.wait("C1") for _ in range(3)] == [0.0, 0.0, 0.0]


def test_a_full_pool_refuses_and_a_failing_job_does_not_kill_it() -> None:
    pool = WorkerPool("test", workers=2, max_pending=3)
    release = threading.Event()
    done: list[int] = []
    try:
        assert all(pool.submit(release.wait) for _ in range(3))
        assert not pool.submit(lambda: done.append(0))
        assert (pool.running, pool.queued) == (2, 1)
        release.set()
        assert pool.wait_idle(5)

        def boom() -> None:
            raise RuntimeError("boom")

        assert pool.submit(boom)
        assert pool.submit(lambda: done.append(1))
        assert pool.wait_idle(5)
        assert done == [1]
    finally:
        release.set()
        pool.close()
    assert not pool.submit(lambda: done.append(2))


@pytest.fixture
def fake() -> FakeSlack:
    with FakeSlack() as slack:
        yield slack  # type: ignore[misc]


@pytest.fixture
def gateway(fake: FakeSlack) -> WebClientGateway:
    return WebClientGateway(web_client(fake.bot_token, fake.api_url))


def test_reviewer_groups_are_resolved_through_slack_and_cached(
    fake: FakeSlack, gateway: WebClientGateway
) -> None:
    clock = FakeClock()
    reviewers = ReviewerDirectory(gateway, ["S0REVIEW", "U0DAVE"], clock)

    assert [reviewers.allows(u) for u in ("U0BOB", "U0CAROL", "U0DAVE", "U0ALICE")] == [
        True,
        True,
        True,
        False,
    ]
    assert len(fake.calls("usergroups.users.list")) == 1
    clock.advance(timedelta(minutes=6))
    fake.fail_next("usergroups.users.list", error="fatal_error")
    assert reviewers.allows("U0BOB")  # Slack failed: the last known members still count
    assert len(fake.calls("usergroups.users.list")) == 2

    unknown = ReviewerDirectory(gateway, ["S0NOSUCH"], clock)
    assert not unknown.allows("U0BOB")  # never resolved: fails closed
    assert not ReviewerDirectory(gateway, [], clock).configured


def test_the_gateway_retries_server_errors_and_names_what_failed(
    fake: FakeSlack, gateway: WebClientGateway
) -> None:
    fake.fail_next("chat.postMessage", status=503)
    posted = gateway.post("C0GENERAL", notice("hello"))
    assert posted.channel == "C0GENERAL"
    assert [c.status for c in fake.calls("chat.postMessage")] == [503, 200]

    fake.add_channel(SlackChannel(id="C0OUTSIDE", name="outside", bot_is_member=False))
    with pytest.raises(SlackDeliveryError) as failed:
        gateway.post("C0OUTSIDE", notice("hello"))
    assert (failed.value.method, failed.value.error, failed.value.channel) == (
        "chat.postMessage",
        "not_in_channel",
        "C0OUTSIDE",
    )

    gateway.add_reaction("C0GENERAL", posted.ts, "eyes")
    gateway.add_reaction("C0GENERAL", posted.ts, "eyes")  # already there: fine
    gateway.remove_reaction("C0GENERAL", posted.ts, "eyes")
    gateway.remove_reaction("C0GENERAL", posted.ts, "eyes")  # already gone: fine


def test_channel_names_are_looked_up_once(fake: FakeSlack, gateway: WebClientGateway) -> None:
    channels = ChannelDirectory(gateway, FakeClock())

    assert channels.name("C0SUPPORT") == "support"
    assert channels.name("C0SUPPORT") == "support"
    assert channels.name("D0ALICE") is None
    assert channels.name("C0MISSING") is None
    assert [c.args["channel"] for c in fake.calls("conversations.info")] == [
        "C0SUPPORT",
        "C0MISSING",
    ]
