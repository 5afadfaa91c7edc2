"""What the router decides, and why."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Route = Literal["answer", "frontier", "human"]
ROUTES: tuple[Route, ...] = ("answer", "frontier", "human")


class Reason(BaseModel):
    """One explainable signal behind a decision, e.g. ``weak_retrieval``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    signal: str
    detail: str


class Decision(BaseModel):
    """The router's verdict on one question."""

    model_config = ConfigDict(extra="forbid")

    route: Route
    category: str | None = None
    reasons: list[Reason] = Field(default_factory=list)
    declined: bool = False  # off-topic: answered with a polite decline, not escalated

    @property
    def escalated(self) -> bool:
        return self.route != "answer"
