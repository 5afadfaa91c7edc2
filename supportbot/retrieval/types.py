"""Value objects and seams of the retrieval half."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

Vectors = npt.NDArray[np.float32]


class Passage(BaseModel):
    """One retrieved chunk of a knowledge file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    chunk_id: str
    doc_id: str  # source path relative to the knowledge dir, without ".md"
    source: str  # source path relative to the knowledge dir
    heading: str  # heading path, " > "-joined ("" before the first heading)
    line_start: int
    line_end: int
    text: str
    score: float = Field(ge=0.0, le=1.0)


class RetrievalResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str
    passages: list[Passage]
    seconds: float = 0.0

    @property
    def top_score(self) -> float:
        return max((p.score for p in self.passages), default=0.0)


class FailedFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str
    error: str


class IndexReport(BaseModel):
    """What one ``supportbot index`` run did (the ``--json`` document)."""

    model_config = ConfigDict(extra="forbid")

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    failed: list[FailedFile] = Field(default_factory=list)
    chunks: int = 0  # chunks in the index after the run
    seconds: float = 0.0
    added_paths: list[str] = Field(default_factory=list)
    updated_paths: list[str] = Field(default_factory=list)
    removed_paths: list[str] = Field(default_factory=list)
    embedded_chunks: int = 0  # chunks embedded during this run

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.failed)


@runtime_checkable
class Embedder(Protocol):
    """Turns text into L2-normalised vectors."""

    @property
    def name(self) -> str:
        """Identifies the model and its settings; recorded in the index."""
        ...

    @property
    def dimension(self) -> int: ...

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """Vectors for passages to be stored, shape (len(texts), dimension)."""
        ...

    def embed_query(self, text: str) -> Vectors:
        """The vector of one query, shape (dimension,)."""
        ...


@runtime_checkable
class Retriever(Protocol):
    def retrieve(self, query: str, k: int) -> RetrievalResult: ...
