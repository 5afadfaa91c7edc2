"""``/supportbot``: ask privately, ``status``, ``reindex`` (reviewers only), ``help``.

:meth:`SlashCommands.handle` runs inside the listener and only decides what to ack with;
answers, status and the reindex are computed on the pools and sent through the command's
``response_url`` (ephemeral: only the person who typed the command sees them).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from supportbot.clock import Clock
from supportbot.errors import SupportBotError
from supportbot.pipeline.policy_source import PolicySource
from supportbot.retrieval.index import KnowledgeIndex
from supportbot.retrieval.types import IndexReport
from supportbot.slack import blocks
from supportbot.slack.answering import AnswerFlow
from supportbot.slack.blocks import SlackMessage, StatusView
from supportbot.slack.gateway import SlackDeliveryError, SlackGateway
from supportbot.slack.reviewers import ReviewerDirectory
from supportbot.slack.workers import WorkerPool
from supportbot.store.protocol import Store

log = logging.getLogger(__name__)

Subcommand = Literal["ask", "status", "reindex", "help"]


def parse(text: str) -> tuple[Subcommand, str]:
    """``ask <q>`` or bare text asks; ``status``, ``reindex`` and ``help`` alone are commands."""
    stripped = " ".join(text.split())
    word, _, rest = stripped.partition(" ")
    keyword = word.lower()
    if not stripped or (keyword in ("help", "?") and not rest):
        return "help", ""
    if keyword == "status" and not rest:
        return "status", ""
    if keyword == "reindex" and not rest:
        return "reindex", ""
    if keyword == "ask":
        return ("ask", rest) if rest else ("help", "")
    return "ask", stripped


@dataclass(frozen=True)
class CommandContext:
    user: str
    channel: str
    response_url: str


class SlashCommands:
    def __init__(
        self,
        *,
        answering: AnswerFlow,
        store: Store,
        index: KnowledgeIndex,
        policies: PolicySource,
        knowledge_dir: Path,
        gateway: SlackGateway,
        reviewers: ReviewerDirectory,
        answers: WorkerPool,
        interactions: WorkerPool,
        executor: str,
        escalator: str | None,
        clock: Clock,
    ) -> None:
        self.answering = answering
        self.store = store
        self.index = index
        self.policies = policies
        self.knowledge_dir = knowledge_dir
        self.gateway = gateway
        self.reviewers = reviewers
        self.answers = answers
        self.interactions = interactions
        self.executor = executor
        self.escalator = escalator
        self.clock = clock
        self._reindex = WorkerPool("reindex", workers=1, max_pending=1)

    def handle(self, text: str, context: CommandContext) -> SlackMessage | None:
        """What to ack with (None: an empty ack); the rest happens on the pools."""
        subcommand, question = parse(text)
        if subcommand == "help":
            return blocks.help_message()
        if subcommand == "ask":
            receipt = self.answering.receive_private(
                question,
                channel=context.channel,
                user=context.user,
                response_url=context.response_url,
            )
            if receipt == "busy":
                return None  # the busy notice is on its way
            return blocks.notice(
                ":eyes: Looking into it; the answer will appear here, only for you."
            )
        job: Callable[[], None] = (
            (lambda: self._status(context))
            if subcommand == "status"
            else (lambda: self._start_reindex(context))
        )
        if not self.interactions.submit(job, what=subcommand):
            return blocks.notice("I'm very busy right now; please try again in a minute.")
        return None

    # -- status -----------------------------------------------------------------------------
    def status(self) -> StatusView:
        documents = chunks = generation = None
        embedder = problem = None
        try:
            snapshot = self.index.snapshot()
        except SupportBotError as exc:
            problem = str(exc)
        else:
            documents, chunks = len(snapshot.manifest), snapshot.chunk_count
            generation, embedder = snapshot.generation, snapshot.embedder
        pending = self.store.pending_escalations()
        now = self.clock.now()
        oldest = min((e.created_at for e in pending), default=None)
        policy_error = self.policies.last_error
        return StatusView(
            documents=documents,
            chunks=chunks,
            generation=generation,
            embedder=embedder,
            index_problem=problem,
            pending_escalations=len(pending),
            oldest_pending=None if oldest is None else now - oldest,
            unfinished_questions=len(self.store.unfinished_questions()),
            running=self.answers.running,
            queued=self.answers.queued,
            workers=self.answers.workers,
            executor=self.executor,
            escalator=self.escalator,
            policy_problem=str(policy_error) if policy_error else None,
        )

    def _status(self, context: CommandContext) -> None:
        self._reply(context, blocks.status_message(self.status()))

    # -- reindex ------------------------------------------------------------------------------
    def _start_reindex(self, context: CommandContext) -> None:
        if not self.reviewers.allows(context.user):
            self.store.record_audit("slack.reindex_refused", actor=context.user)
            self._reply(context, blocks.notice("Only reviewers can reindex the knowledge base."))
            return
        if not self._reindex.submit(lambda: self._run_reindex(context), what="reindex"):
            self._reply(
                context, blocks.notice("A reindex is already running; try again when it is done.")
            )
            return
        self._reply(
            context, blocks.notice(":books: Reindexing the knowledge base; I'll report here.")
        )

    def _run_reindex(self, context: CommandContext) -> None:
        self.store.record_audit("slack.reindex", actor=context.user)
        try:
            report: IndexReport = self.index.update(self.knowledge_dir)
        except Exception as exc:
            log.exception("reindex failed")
            self._reply(
                context, blocks.notice(f":warning: The reindex failed: {blocks.escape(str(exc))}")
            )
            return
        self._reply(
            context,
            blocks.reindex_message(
                added=report.added,
                updated=report.updated,
                removed=report.removed,
                unchanged=report.unchanged,
                chunks=report.chunks,
                seconds=report.seconds,
                failed=[(f.path, f.error) for f in report.failed],
            ),
        )

    def _reply(self, context: CommandContext, message: SlackMessage) -> None:
        try:
            self.gateway.respond(context.response_url, message)
        except SlackDeliveryError as exc:  # the response_url expired (30 min): a DM instead
            log.warning("response_url failed (%s); sending a DM to %s", exc, context.user)
            self.gateway.post(context.user, message)

    def close(self) -> None:
        self._reindex.close(wait=False)
