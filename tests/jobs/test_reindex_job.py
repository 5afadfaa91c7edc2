"""The reindex job posts what changed (or failed) in knowledge/, and nothing otherwise."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from supportbot.clock import FakeClock
from supportbot.fakes.slack import FakeSlack, blocks_problems
from supportbot.jobs.reindex import run_reindex
from supportbot.retrieval import open_index
from supportbot.retrieval.embedders import MiniLMEmbedder
from supportbot.retrieval.index import KnowledgeIndex
from supportbot.retrieval.types import IndexReport
from supportbot.settings import Settings
from supportbot.slack.gateway import WebClientGateway
from supportbot.store import SqlStore

CHANNEL = "C0DIGEST"
SSO = "# Single sign-on\n\nConnect Okta or Azure AD under Settings > Security > SSO.\n"
BILLING = "# Invoices\n\nEvery invoice is in Billing > Invoices and can be downloaded as PDF.\n"
BROKEN = "---\ntitle: Refunds\n\n# Refunds\n\nWithin 30 days of a payment.\n"  # never closed


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    root = tmp_path / "knowledge"
    (root / "accounts").mkdir(parents=True)
    (root / "accounts" / "sso.md").write_text(SSO)
    (root / "billing.md").write_text(BILLING)
    return root


@pytest.fixture
def index(tmp_path: Path, kb: Path, embedder: MiniLMEmbedder) -> KnowledgeIndex:
    settings = Settings(knowledge_dir=kb, data_dir=tmp_path / "data", _env_file=None)  # type: ignore[call-arg]
    return open_index(settings, embedder)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    with SqlStore.open(f"sqlite:///{tmp_path / 'store.db'}", clock=FakeClock()) as opened:
        yield opened


@pytest.fixture
def poster(fake_slack: FakeSlack) -> WebClientGateway:
    return WebClientGateway(fake_slack.web_client())


def reports(slack: FakeSlack) -> list[str]:
    return [m.text for m in slack.messages_in(CHANNEL)]


def test_posts_only_when_something_changed_or_failed(
    kb: Path,
    index: KnowledgeIndex,
    store: SqlStore,
    poster: WebClientGateway,
    fake_slack: FakeSlack,
) -> None:
    def run() -> IndexReport:
        return run_reindex(index, kb, audit=store, poster=poster, channel=CHANNEL).report

    first = run()
    assert (first.added, first.failed) == (2, [])
    assert reports(fake_slack) == ["Knowledge index updated: 2 added, 0 updated, 0 removed"]
    blocks = fake_slack.messages_in(CHANNEL)[0].blocks
    assert "`accounts/sso.md`" in repr(blocks)
    assert "`billing.md`" in repr(blocks)

    unchanged = run()
    assert not unchanged.changed
    assert len(reports(fake_slack)) == 1  # nothing changed, nothing posted

    (kb / "billing.md").write_text(BILLING + "\nInvoices are emailed to the billing contact.\n")
    (kb / "accounts" / "sso.md").unlink()
    (kb / "refunds.md").write_text(BROKEN)
    edited = run()

    assert (edited.updated_paths, edited.removed_paths) == (["billing.md"], ["accounts/sso.md"])
    assert [f.path for f in edited.failed] == ["refunds.md"]
    fake_slack.assert_no_rejections()
    last = fake_slack.messages_in(CHANNEL)[-1]
    assert last.text == (
        "Knowledge index: some files failed: 0 added, 1 updated, 1 removed, 1 failed"
    )
    assert blocks_problems(last.blocks) == []
    body = repr(last.blocks)
    assert "*Updated* (1)" in body
    assert "`billing.md`" in body
    assert "*Removed* (1)" in body
    assert "`accounts/sso.md`" in body
    assert "`refunds.md`: " in body
    assert edited.failed[0].error in body  # the file's own error, as the index reported it
    assert "never closed" in edited.failed[0].error

    kinds = [(e.kind, e.details["posted"]) for e in store.audit_events()]
    assert kinds == [("job.reindex", True), ("job.reindex", False), ("job.reindex", True)]
    assert store.audit_events()[1].details["unchanged"] == 2


def test_a_long_list_of_changes_stays_within_slacks_limits(
    kb: Path,
    index: KnowledgeIndex,
    store: SqlStore,
    poster: WebClientGateway,
    fake_slack: FakeSlack,
) -> None:
    for n in range(40):
        (kb / f"topic-{n:02d}.md").write_text(f"# Topic {n}\n\nText about topic number {n}.\n")
    for n in range(20):
        (kb / f"broken-{n:02d}.md").write_bytes(b"\x00binary")

    outcome = run_reindex(index, kb, audit=store, poster=poster, channel=CHANNEL)

    assert outcome.report.added == 42
    assert len(outcome.report.failed) == 20
    fake_slack.assert_no_rejections()
    body = repr(fake_slack.messages_in(CHANNEL)[-1].blocks)
    assert "and 27 more" in body  # 15 of 42 added paths listed
    assert "and 5 more" in body  # 15 of 20 failures listed


class BrokenIndex:
    def update(self, knowledge_dir: Path) -> IndexReport:
        raise RuntimeError("chroma is not reachable at chroma:8000")


def test_a_failed_run_is_reported_audited_and_raised(
    kb: Path, store: SqlStore, poster: WebClientGateway, fake_slack: FakeSlack
) -> None:
    with pytest.raises(RuntimeError, match="not reachable"):
        run_reindex(BrokenIndex(), kb, audit=store, poster=poster, channel=CHANNEL)

    fake_slack.assert_no_rejections()
    assert reports(fake_slack) == [
        "Knowledge index update failed: RuntimeError: chroma is not reachable at chroma:8000"
    ]
    [event] = store.audit_events()
    assert (event.kind, event.details["ok"]) == ("job.reindex", False)

    # a report Slack refuses does not hide the index's own error
    with pytest.raises(RuntimeError, match="not reachable"):
        run_reindex(BrokenIndex(), kb, audit=store, poster=poster, channel="#no-such-channel")


def test_without_a_channel_changes_are_only_logged(
    kb: Path, index: KnowledgeIndex, store: SqlStore, fake_slack: FakeSlack
) -> None:
    outcome = run_reindex(index, kb, audit=store, poster=None, channel=None)
    assert outcome.report.added == 2
    assert outcome.posted is None
    assert fake_slack.calls() == []
    [event] = store.audit_events()
    assert event.details["posted"] is False
