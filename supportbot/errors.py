"""The exception hierarchy. Errors carry context; the CLI and Slack edges turn them into text."""

from __future__ import annotations

from pathlib import Path


class SupportBotError(Exception):
    """Base of every error supportbot raises on purpose."""


def describe_exception(exc: BaseException) -> str:
    """``"TypeName: message"`` (just the type when there is no message), for records."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class ConfigurationError(SupportBotError):
    """A setting is missing or wrong; the message names the setting."""

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{setting}: {problem}")
        self.setting = setting
        self.problem = problem


class PolicyError(SupportBotError):
    """A policy file is unreadable or invalid; names the file, the field and what is wrong."""

    def __init__(self, path: Path | str, problems: list[str]) -> None:
        self.path = Path(path)
        self.problems = problems
        joined = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid policy file {self.path}:\n{joined}")


class KnowledgeIndexError(SupportBotError):
    """The knowledge index cannot be built, opened or searched."""


class EmbedderMismatch(KnowledgeIndexError):
    """The index was built by another embedder than the one configured."""

    def __init__(self, index_embedder: str, configured: str) -> None:
        super().__init__(
            f"the index was built with embedder {index_embedder!r} but {configured!r} is "
            "configured; vectors from different embedders cannot be compared. "
            "Run `supportbot index --full` to rebuild the index with the configured embedder."
        )
        self.index_embedder = index_embedder
        self.configured = configured


class ModelError(SupportBotError):
    """A model call failed."""

    def __init__(self, message: str, *, model: str, attempts: int = 1) -> None:
        super().__init__(message)
        self.model = model
        self.attempts = attempts


class ModelUnavailable(ModelError):
    """The model server could not be reached, timed out or answered with an error."""


class InvalidModelOutput(ModelError):
    """The model answered, but not with output that validates against the schema."""

    def __init__(self, message: str, *, model: str, attempts: int, last_output: str) -> None:
        super().__init__(message, model=model, attempts=attempts)
        self.last_output = last_output


class StoreError(SupportBotError):
    """The store cannot be opened or migrated."""


class RecordNotFound(StoreError):
    """A store write named a question or escalation that does not exist."""

    def __init__(self, entity: str, entity_id: str) -> None:
        super().__init__(f"{entity} {entity_id} does not exist in the store")
        self.entity = entity
        self.entity_id = entity_id


class TransitionConflict(StoreError):
    """A compare-and-set state transition found the row in another state."""

    def __init__(self, entity: str, entity_id: str, expected: str, actual: str | None) -> None:
        super().__init__(
            f"{entity} {entity_id} is {actual or 'missing'}, not {expected}; nothing changed"
        )
        self.entity = entity
        self.entity_id = entity_id
        self.expected = expected
        self.actual = actual
