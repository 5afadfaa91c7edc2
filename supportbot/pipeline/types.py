"""What the answer pipeline returns for one question."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from supportbot.llm.types import Draft, FrontierAnswer
from supportbot.retrieval.types import Passage
from supportbot.routing.types import Reason, Route
from supportbot.store.records import Escalation


class Citation(BaseModel):
    """A knowledge-base passage the answer rests on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    heading: str
    score: float
    line_start: int
    line_end: int

    @classmethod
    def of(cls, passage: Passage) -> Citation:
        return cls(
            source=passage.source,
            heading=passage.heading,
            score=round(passage.score, 4),
            line_start=passage.line_start,
            line_end=passage.line_end,
        )


class Timings(BaseModel):
    """Milliseconds spent in each step (0 when a step did not run)."""

    model_config = ConfigDict(extra="forbid")

    retrieve_ms: float = 0.0
    route_ms: float = 0.0
    executor_ms: float = 0.0
    frontier_ms: float = 0.0
    total_ms: float = 0.0

    @property
    def overhead_ms(self) -> float:
        """Everything except the model calls: what the pipeline itself costs."""
        return max(self.total_ms - self.executor_ms - self.frontier_ms, 0.0)


class PipelineResult(BaseModel):
    """The outcome of one question.

    ``answer`` is the text to post to the asker now: the open model's (or the frontier
    model's) answer, or the polite decline of an off-topic question. It is None when the
    question waits for a person (``route == "human"``); ``escalation`` then holds the review
    request and ``proposed_answer`` what a reviewer's "Approve" would send.
    """

    model_config = ConfigDict(extra="forbid")

    question_id: str
    question: str
    route: Route
    category: str | None
    declined: bool = False
    answer: str | None
    answered_by: str | None = Field(
        description="'executor', 'frontier' or 'decline' when answered now; None otherwise."
    )
    citations: list[Citation]
    reasons: list[Reason]
    passages: list[Passage]
    draft: Draft | None
    frontier: FrontierAnswer | None = None
    escalation: Escalation | None = None
    timings: Timings

    @property
    def proposed_answer(self) -> str | None:
        if self.frontier is not None:
            return self.frontier.final_answer
        return self.draft.draft_response if self.draft is not None else None

    def json_document(self) -> dict[str, object]:
        """The ``ask --json`` document (DESIGN.md's keys first, then the extras)."""
        return {
            "route": self.route,
            "category": self.category,
            "answer": self.answer,
            "citations": [
                c.model_dump(include={"source", "heading", "score"}) for c in self.citations
            ],
            "reasons": [r.model_dump() for r in self.reasons],
            "question_id": self.question_id,
            "declined": self.declined,
            "answered_by": self.answered_by,
            "proposed_answer": self.proposed_answer if self.answer is None else None,
            "escalation_id": self.escalation.id if self.escalation else None,
            "draft": self.draft.model_dump() if self.draft else None,
            "frontier": self.frontier.model_dump() if self.frontier else None,
            "timings": self.timings.model_dump(),
        }
