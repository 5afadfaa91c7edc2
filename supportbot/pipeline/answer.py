"""The answer pipeline: one question from retrieval to an answer, a frontier verdict or a review.

::

    retrieve -> route (before any model) -> executor draft -> route (after the model)
      -> answer                      (route "answer": the open model's draft is posted)
      -> frontier model -> answer    (route "frontier")
      -> human review                (route "human": an escalation waits for a reviewer)

Every step is recorded in the store as it happens (retrieval, decisions with their stage,
drafts, model calls, the escalation), so the audit trail explains each answer and a crash
leaves a question the start-up recovery can find. State changes are compare-and-set: a
question another worker has claimed is left alone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from supportbot.errors import SupportBotError, describe_exception
from supportbot.llm.types import (
    ConversationTurn,
    Draft,
    EscalationRequest,
    Escalator,
    Executor,
    FrontierAnswer,
)
from supportbot.pipeline.policy_source import PolicySource
from supportbot.pipeline.types import Citation, PipelineResult, Timings
from supportbot.retrieval.types import Passage, RetrievalResult, Retriever
from supportbot.routing.router import (
    BudgetState,
    Channel,
    FrontierState,
    after_frontier,
    after_model,
    before_model,
)
from supportbot.routing.types import Decision
from supportbot.store.protocol import Store
from supportbot.store.records import Escalation, NewEscalation, NewQuestion, Question

log = logging.getLogger(__name__)

#: What an off-topic question gets instead of an escalation.
DECLINE_MESSAGE = (
    "Sorry, that looks outside what I can help with: I answer questions about our product "
    "and services from the support knowledge base. If it is about your account or our "
    "product, try rephrasing it, or ask for a human and a teammate will pick it up."
)

#: Citations shown when the draft names no evidence: the best passages, at most this many.
MAX_FALLBACK_CITATIONS = 3


class PipelineFailure(SupportBotError):
    """The pipeline could not finish a question; it is recorded as ``failed``."""

    def __init__(self, question_id: str, cause: BaseException) -> None:
        super().__init__(f"question {question_id} failed: {cause}")
        self.question_id = question_id
        self.cause = cause


class AnswerPipeline:
    """Answers questions; thread-safe (one instance serves every Slack worker)."""

    def __init__(
        self,
        *,
        retriever: Retriever,
        policies: PolicySource,
        executor: Executor,
        escalator: Escalator | None,
        store: Store,
        k: int = 5,
        timezone: str = "UTC",
        call_frontier: bool = True,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.retriever = retriever
        self.policies = policies
        self.executor = executor
        self.escalator = escalator
        self.store = store
        self.k = k
        self.timezone = timezone
        self.call_frontier = call_frontier
        self._timer = timer

    # -- entry points ----------------------------------------------------------------
    def submit(self, new: NewQuestion) -> Question:
        """Record a question as received (before any work, so a crash cannot lose it)."""
        return self.store.create_question(new)

    def ask(
        self,
        new: NewQuestion,
        *,
        history: Sequence[ConversationTurn] = (),
        channel: Channel | None = None,
    ) -> PipelineResult:
        """Record and answer a question (the CLI's ``ask``)."""
        question = self.submit(new)
        result = self.process(question, history=history, channel=channel)
        if result is None:  # pragma: no cover - a fresh question cannot be claimed elsewhere
            raise SupportBotError(f"question {question.id} was claimed by another worker")
        return result

    def process(
        self,
        question: Question,
        *,
        history: Sequence[ConversationTurn] = (),
        channel: Channel | None = None,
    ) -> PipelineResult | None:
        """Claim and answer a recorded question; None when another worker holds it.

        A question left ``in_progress`` by a crash is re-claimed (one worker wins); a
        ``failed`` one is retried. Any error marks the question ``failed`` with the error
        and raises :class:`PipelineFailure`.
        """
        if not self._claim(question):
            return None
        try:
            return self._run(question, history, channel)
        except Exception as exc:
            log.exception("question %s failed", question.id)
            self.store.transition_question(
                question.id, expected="in_progress", to="failed", error=describe_exception(exc)
            )
            raise PipelineFailure(question.id, exc) from exc

    # -- steps ---------------------------------------------------------------------------
    def _claim(self, question: Question) -> bool:
        if question.status == "in_progress":
            return self.store.transition_question(
                question.id,
                expected="in_progress",
                to="in_progress",
                expected_attempts=question.attempts,
            )
        if question.status in ("received", "failed"):
            return self.store.transition_question(
                question.id, expected=question.status, to="in_progress"
            )
        return False

    def _run(
        self,
        question: Question,
        history: Sequence[ConversationTurn],
        channel: Channel | None,
    ) -> PipelineResult:
        timings = Timings()
        started = self._timer()
        text = question.text
        qid = question.id

        retrieval = self.retrieve(text, history)
        timings.retrieve_ms = retrieval.seconds * 1000
        self.store.record_retrieval(qid, retrieval.passages)

        mark = self._timer()
        loaded = self.policies.current()
        policy = loaded.policy
        match = loaded.matcher.match(text, retrieval)
        decision = before_model(text, retrieval, policy, match, channel=channel)
        timings.route_ms += (self._timer() - mark) * 1000
        self.store.record_decision(qid, decision, stage="pre_model")

        if decision.declined:
            self.store.transition_question(
                qid, expected="in_progress", to="declined", answer_text=DECLINE_MESSAGE
            )
            timings.total_ms = (self._timer() - started) * 1000
            return self._result(
                question,
                decision=decision,
                retrieval=retrieval,
                draft=None,
                frontier=None,
                answer=DECLINE_MESSAGE,
                answered_by="decline",
                timings=timings,
            )

        mark = self._timer()
        outcome = self.executor.draft(text, retrieval.passages, history=history)
        timings.executor_ms = (self._timer() - mark) * 1000
        self.store.record_model_calls(qid, outcome.calls)
        draft = outcome.draft
        if draft is not None:
            self.store.record_draft(qid, draft)

        mark = self._timer()
        frontier_state = FrontierState(
            configured=self.escalator is not None or not self.call_frontier,
            budget=BudgetState(frontier_calls_today=self._frontier_calls_today()),
        )
        decision = after_model(decision, outcome, policy, frontier=frontier_state)
        timings.route_ms += (self._timer() - mark) * 1000
        self.store.record_decision(qid, decision, stage="post_model")

        frontier: FrontierAnswer | None = None
        if decision.route == "frontier" and self.call_frontier and self.escalator is not None:
            mark = self._timer()
            escalated = self.escalator.escalate(
                EscalationRequest(
                    question=text,
                    passages=retrieval.passages,
                    draft=draft,
                    reasons=decision.reasons,
                    category=decision.category,
                )
            )
            timings.frontier_ms = (self._timer() - mark) * 1000
            self.store.record_model_calls(qid, escalated.calls)
            frontier = escalated.result
            after = after_frontier(decision, escalated)
            if after != decision:
                self.store.record_decision(qid, after, stage="frontier")
            decision = after

        answer, answered_by = self._settle(question, decision, draft, frontier)
        escalation = None
        if decision.route == "human":
            escalation = self.store.escalate_question(
                NewEscalation(
                    question_id=qid,
                    route="human",
                    category=decision.category,
                    reasons=decision.reasons,
                    draft=draft,
                    proposed_answer=_proposed_answer(draft, frontier),
                ),
                expected="in_progress",
            )
        timings.total_ms = (self._timer() - started) * 1000
        return self._result(
            question,
            decision=decision,
            retrieval=retrieval,
            draft=draft,
            frontier=frontier,
            answer=answer,
            answered_by=answered_by,
            timings=timings,
            escalation=escalation,
        )

    def _settle(
        self,
        question: Question,
        decision: Decision,
        draft: Draft | None,
        frontier: FrontierAnswer | None,
    ) -> tuple[str | None, str | None]:
        """Mark an answered question answered; returns (answer, who answered)."""
        if decision.route == "answer" and draft is not None:
            answer, by = draft.draft_response, "executor"
        elif decision.route == "frontier" and frontier is not None:
            answer, by = frontier.final_answer, "frontier"
        else:  # waits for a person (or, in evaluation, for the frontier model)
            return None, None
        self.store.transition_question(
            question.id, expected="in_progress", to="answered", answer_text=answer
        )
        return answer, by

    def retrieve(self, text: str, history: Sequence[ConversationTurn] = ()) -> RetrievalResult:
        """Top-k passages; a follow-up also searches with the thread's previous question."""
        result = self.retriever.retrieve(text, self.k)
        previous = next((t.text for t in reversed(history) if t.role == "user"), None)
        if not previous:
            return result
        combined = self.retriever.retrieve(f"{previous}\n{text}", self.k)
        best: dict[str, Passage] = {}
        for passage in [*result.passages, *combined.passages]:
            kept = best.get(passage.chunk_id)
            if kept is None or passage.score > kept.score:
                best[passage.chunk_id] = passage
        ranked = sorted(best.values(), key=lambda p: p.score, reverse=True)[: self.k]
        return RetrievalResult(
            query=text, passages=ranked, seconds=result.seconds + combined.seconds
        )

    def _frontier_calls_today(self) -> int:
        return self.store.frontier_calls_today(self.timezone)

    def _result(
        self,
        question: Question,
        *,
        decision: Decision,
        retrieval: RetrievalResult,
        draft: Draft | None,
        frontier: FrontierAnswer | None,
        answer: str | None,
        answered_by: str | None,
        timings: Timings,
        escalation: Escalation | None = None,
    ) -> PipelineResult:
        return PipelineResult(
            question_id=question.id,
            question=question.text,
            route=decision.route,
            category=decision.category,
            declined=decision.declined,
            answer=answer,
            answered_by=answered_by,
            citations=[] if decision.declined else citations(draft, retrieval.passages),
            reasons=decision.reasons,
            passages=retrieval.passages,
            draft=draft,
            frontier=frontier,
            escalation=escalation,
            timings=timings,
        )


def citations(draft: Draft | None, passages: Sequence[Passage]) -> list[Citation]:
    """The passages the draft's evidence quotes, in order; else the best few passages."""
    cited: list[Citation] = []
    seen: set[tuple[str, str]] = set()
    if draft is not None:
        for evidence in draft.evidence:
            passage = _passage_for(evidence.source, evidence.quote, passages)
            if passage is None:
                continue
            key = (passage.source, passage.heading)
            if key not in seen:
                seen.add(key)
                cited.append(Citation.of(passage))
    if cited:
        return cited
    for passage in passages[:MAX_FALLBACK_CITATIONS]:
        key = (passage.source, passage.heading)
        if key not in seen:
            seen.add(key)
            cited.append(Citation.of(passage))
    return cited


def _passage_for(source: str, quote: str, passages: Sequence[Passage]) -> Passage | None:
    needle = " ".join(quote.split()).casefold()
    for passage in passages:
        if passage.source == source and needle in " ".join(passage.text.split()).casefold():
            return passage
    return next((p for p in passages if p.source == source), None)


def _proposed_answer(draft: Draft | None, frontier: FrontierAnswer | None) -> str | None:
    if frontier is not None and frontier.final_answer.strip():
        return frontier.final_answer
    return draft.draft_response if draft is not None else None
