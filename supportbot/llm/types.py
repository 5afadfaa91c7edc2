"""Value objects and seams of the model tiers: executor (open model), escalator (frontier)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from supportbot.retrieval.types import Passage
from supportbot.routing.types import Reason


class Evidence(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str = Field(description="The source path of the passage the quote comes from.")
    quote: str = Field(description="A verbatim quote from that passage.")


class Draft(BaseModel):
    """The executor's structured answer (the JSON schema sent to Ollama as ``format``)."""

    model_config = ConfigDict(extra="forbid")

    classification: str = Field(description="Topic of the question, or a policy category name.")
    evidence: list[Evidence] = Field(description="Verbatim quotes that support the answer.")
    draft_response: str = Field(description="The reply to post to the asker.")
    confidence: float = Field(ge=0.0, le=1.0, description="0..1, how sure the answer is right.")
    escalate: bool = Field(description="True when a person or a stronger model should decide.")
    escalate_reason: str | None = Field(default=None, description="Why, when escalate is true.")


ModelTier = Literal["executor", "escalator"]
CallOutcome = Literal["ok", "invalid_output", "error", "timeout", "rate_limited"]


class ModelCall(BaseModel):
    """One request to a model, for the audit trail and the cost figures."""

    model_config = ConfigDict(extra="forbid")

    tier: ModelTier
    provider: str  # "ollama", "offline", "anthropic"
    model: str
    outcome: CallOutcome
    latency_ms: float
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    attempt: int = 1
    error: str | None = None
    retries: int = 0  # HTTP retries the client made inside this call (429/529/5xx/timeouts)
    request_id: str | None = None  # the provider's request id, for support tickets


class ConversationTurn(BaseModel):
    """An earlier message of the same Slack thread (bounded context for follow-ups)."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    text: str


class ExecutorOutcome(BaseModel):
    """What the executor produced: a validated draft, or the failure and its calls."""

    model_config = ConfigDict(extra="forbid")

    draft: Draft | None
    calls: list[ModelCall] = Field(default_factory=list)
    consecutive_failures: int = 0
    invalid_output: bool = False  # the last attempt did not validate
    invented_citations: list[Evidence] = Field(default_factory=list)  # dropped from the draft
    error: str | None = None
    last_output: str | None = None  # the raw text of the last attempt that did not validate


class EscalationRequest(BaseModel):
    """Everything the frontier model gets, and nothing more."""

    model_config = ConfigDict(extra="forbid")

    question: str
    passages: list[Passage]
    draft: Draft | None
    reasons: list[Reason]
    category: str | None = None


class FrontierAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    final_answer: str
    decision: Literal["answer", "needs_human"]
    rationale: str


class EscalatorOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid")

    result: FrontierAnswer | None
    calls: list[ModelCall] = Field(default_factory=list)
    error: str | None = None


class Executor(Protocol):
    """The open-model tier: drafts a structured answer from retrieved passages."""

    @property
    def name(self) -> str: ...

    def draft(
        self,
        question: str,
        passages: Sequence[Passage],
        *,
        history: Sequence[ConversationTurn] = (),
    ) -> ExecutorOutcome: ...


class Escalator(Protocol):
    """The frontier tier: decides on an escalated question."""

    @property
    def name(self) -> str: ...

    def escalate(self, request: EscalationRequest) -> EscalatorOutcome: ...
