"""The model tiers: an executor (open model, or the offline extractive default) drafts answers,
an escalator (frontier model) decides escalated questions."""

from supportbot.llm.factory import build_escalator, build_executor
from supportbot.llm.types import (
    ConversationTurn,
    Draft,
    EscalationRequest,
    Escalator,
    EscalatorOutcome,
    Evidence,
    Executor,
    ExecutorOutcome,
    FrontierAnswer,
    ModelCall,
)

__all__ = [
    "ConversationTurn",
    "Draft",
    "EscalationRequest",
    "Escalator",
    "EscalatorOutcome",
    "Evidence",
    "Executor",
    "ExecutorOutcome",
    "FrontierAnswer",
    "ModelCall",
    "build_escalator",
    "build_executor",
]
