"""Wiring: the one place that turns Settings into working parts.

The CLI, the Slack app, the scheduler and the demo all build their parts here, so each seam
(embedder, retriever, store, executor, escalator) has exactly one place where its
implementation is chosen — and tests replace a part by passing it in, not by patching.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from supportbot.clock import Clock, SystemClock
from supportbot.llm.factory import build_escalator, build_executor
from supportbot.llm.types import Escalator, Executor
from supportbot.pipeline.answer import AnswerPipeline
from supportbot.pipeline.policy_source import PolicySource
from supportbot.pipeline.reviews import ReviewDesk
from supportbot.retrieval import build_embedder, open_index
from supportbot.retrieval.search import KnowledgeRetriever
from supportbot.retrieval.types import Embedder
from supportbot.settings import Settings
from supportbot.store import SqlStore, open_store

if TYPE_CHECKING:
    from supportbot.retrieval.index import KnowledgeIndex


@dataclass
class Services:
    settings: Settings
    clock: Clock
    embedder: Embedder
    index: KnowledgeIndex
    retriever: KnowledgeRetriever
    store: SqlStore
    policies: PolicySource
    executor: Executor
    escalator: Escalator | None
    pipeline: AnswerPipeline
    reviews: ReviewDesk

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        clock: Clock | None = None,
        embedder: Embedder | None = None,
        executor: Executor | None = None,
        escalator: Escalator | Literal["auto"] | None = "auto",
        call_frontier: bool = True,
    ) -> Services:
        """Everything ``ask``/``serve``/``demo`` need; pass a part to use it instead."""
        clock = clock or SystemClock()
        embedder = embedder or build_embedder(settings)
        policies = PolicySource(settings.policies_dir, embedder)  # a broken policy stops here
        index = open_index(settings, embedder)
        retriever = KnowledgeRetriever(index)
        store = open_store(settings, clock)
        max_failures = policies.current().policy.thresholds.max_model_failures
        executor = executor or build_executor(settings, embedder, max_attempts=max_failures)
        chosen_escalator = build_escalator(settings) if escalator == "auto" else escalator
        pipeline = AnswerPipeline(
            retriever=retriever,
            policies=policies,
            executor=executor,
            escalator=chosen_escalator,
            store=store,
            k=settings.retrieval_k,
            timezone=settings.timezone,
            call_frontier=call_frontier,
        )
        return cls(
            settings=settings,
            clock=clock,
            embedder=embedder,
            index=index,
            retriever=retriever,
            store=store,
            policies=policies,
            executor=executor,
            escalator=chosen_escalator,
            pipeline=pipeline,
            reviews=ReviewDesk(store),
        )

    def close(self) -> None:
        for part in (self.executor, self.escalator):
            close = getattr(part, "close", None)
            if callable(close):
                close()
        self.store.close()

    def __enter__(self) -> Services:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
