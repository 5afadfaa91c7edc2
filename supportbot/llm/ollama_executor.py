"""The executor on an open model served by Ollama (``/api/chat`` with a JSON-schema ``format``).

One question costs at most ``max_attempts`` calls (default 2). Output that is not JSON or does
not validate as a :class:`~supportbot.llm.types.Draft` gets a repair attempt in the same
conversation, with the validation error fed back (the instructor pattern); a failed call or a
timeout is retried as it was. Every failed attempt is a model failure; the outcome reports the
failures in a row at the end, and the router escalates with reason ``model_failure`` when that
reaches the policy's ``max_model_failures``. There is no fallback to another executor.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Self

from pydantic import ValidationError

from supportbot.llm.context import (
    CHARS_PER_TOKEN,
    bounded_history,
    fit_passages,
    inline_schema,
    render_history,
    render_passages,
    schema_text,
)
from supportbot.llm.evidence import verify_evidence
from supportbot.llm.prompts import PromptTemplate, load_executor_prompt
from supportbot.llm.structured import describe_validation_error
from supportbot.llm.types import (
    CallOutcome,
    ConversationTurn,
    Draft,
    ExecutorOutcome,
    ModelCall,
)
from supportbot.retrieval.types import Passage

if TYPE_CHECKING:
    import ollama

    from supportbot.settings import Settings

#: Tokens kept free in the context window for the model's answer.
OUTPUT_RESERVE_TOKENS = 1024
_FENCE = re.compile(r"^\s*```(?:json)?\s*|\s*```\s*$")
_THINK = re.compile(r"<think>.*?</think>", re.DOTALL)


def draft_format_schema() -> dict[str, Any]:
    """Draft's JSON schema as sent in ``format``: refs inlined, every field required."""
    schema = inline_schema(Draft)
    schema.pop("description", None)
    schema["required"] = list(schema["properties"])
    return schema


def parse_draft(raw: str) -> Draft:
    """Validate a model reply as a Draft (tolerating a code fence or a ``<think>`` block)."""
    text = _FENCE.sub("", _THINK.sub("", raw)).strip()
    return Draft.model_validate_json(text)


def repair_message(problem: str) -> str:
    return (
        "Your reply could not be used: "
        f"{problem}.\n"
        "Reply again with exactly one JSON object that matches the schema, and nothing else. "
        "Keep every quote word for word from the passages."
    )


def question_message(
    question: str, passages: Sequence[Passage], history: Sequence[ConversationTurn]
) -> str:
    parts = []
    if history:
        parts.append(
            "## Earlier messages in this thread (oldest first)\n\n" + render_history(history)
        )
    parts.append("## Knowledge-base passages\n\n" + render_passages(passages))
    parts.append("## Customer question\n\n" + question.strip())
    return "\n\n".join(parts)


class OllamaExecutor:
    """Drafts structured answers with a model on an Ollama server."""

    provider = "ollama"

    def __init__(
        self,
        client: ollama.Client,
        *,
        model: str,
        prompt: PromptTemplate,
        num_ctx: int = 8192,
        max_attempts: int = 2,
        max_history_turns: int = 6,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._client = client
        self._model = model
        self._num_ctx = num_ctx
        self._max_attempts = max_attempts
        self._max_history_turns = max_history_turns
        self._schema = draft_format_schema()
        self._system = prompt.render(draft_schema=schema_text(self._schema))

    @classmethod
    def from_settings(cls, settings: Settings, *, max_attempts: int = 2) -> Self:
        import ollama

        if settings.ollama_host is None:
            from supportbot.errors import ConfigurationError

            raise ConfigurationError("OLLAMA_HOST", "is not set; the Ollama executor needs it")
        client = ollama.Client(host=settings.ollama_host, timeout=settings.ollama_timeout_seconds)
        return cls(
            client,
            model=settings.ollama_model,
            prompt=load_executor_prompt(settings.policies_dir),
            num_ctx=settings.ollama_num_ctx,
            max_attempts=max_attempts,
        )

    @property
    def name(self) -> str:
        return f"ollama/{self._model}"

    @property
    def system_prompt(self) -> str:
        return self._system

    def close(self) -> None:
        self._client.close()  # type: ignore[no-untyped-call]

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- drafting ------------------------------------------------------------------
    def draft(
        self,
        question: str,
        passages: Sequence[Passage],
        *,
        history: Sequence[ConversationTurn] = (),
    ) -> ExecutorOutcome:
        turns = bounded_history(history, max_turns=self._max_history_turns)
        fixed = len(self._system) + len(question) + sum(len(t.text) + 16 for t in turns) + 200
        budget = int((self._num_ctx - OUTPUT_RESERVE_TOKENS) * CHARS_PER_TOKEN) - fixed
        sent = fit_passages(passages, budget)
        messages: list[dict[str, str]] = [
            {"role": "system", "content": self._system},
            {"role": "user", "content": question_message(question, sent, turns)},
        ]
        calls: list[ModelCall] = []
        failures = 0
        invalid = False
        error: str | None = None
        last_output: str | None = None
        for attempt in range(1, self._max_attempts + 1):
            call, content = self._call(messages, attempt)
            if content is None:
                calls.append(call)
                failures += 1
                invalid = False
                error = call.error
                continue
            try:
                draft = parse_draft(content)
            except ValidationError as exc:
                problem = describe_validation_error(exc)
                calls.append(
                    call.model_copy(update={"outcome": "invalid_output", "error": problem})
                )
                failures += 1
                invalid = True
                error = f"invalid output: {problem}"
                last_output = content
                messages = [
                    *messages,
                    {"role": "assistant", "content": content},
                    {"role": "user", "content": repair_message(problem)},
                ]
                continue
            calls.append(call)
            checked, invented = verify_evidence(draft, sent)
            return ExecutorOutcome(draft=checked, calls=calls, invented_citations=invented)
        return ExecutorOutcome(
            draft=None,
            calls=calls,
            consecutive_failures=failures,
            invalid_output=invalid,
            error=error,
            last_output=last_output,
        )

    def _call(self, messages: list[dict[str, str]], attempt: int) -> tuple[ModelCall, str | None]:
        """One chat request; the reply text, or None and a ModelCall that says what failed."""
        import httpx
        import ollama

        started = time.perf_counter()
        outcome: CallOutcome = "error"
        try:
            response = self._client.chat(
                model=self._model,
                messages=messages,
                format=self._schema,
                options={"temperature": 0, "num_ctx": self._num_ctx},
                stream=False,
            )
        except httpx.TimeoutException as exc:
            outcome, problem = "timeout", f"Ollama did not answer in time ({type(exc).__name__})"
        except ollama.ResponseError as exc:
            outcome = "rate_limited" if exc.status_code == 429 else "error"
            problem = f"Ollama answered {exc.status_code}: {exc.error}"
        except (ConnectionError, httpx.HTTPError, OSError) as exc:
            problem = f"Ollama is unreachable: {exc}"
        except ValueError as exc:  # a reply that is not in Ollama's format
            problem = f"Ollama sent an unreadable response: {exc}"
        else:
            latency = (time.perf_counter() - started) * 1000
            call = ModelCall(
                tier="executor",
                provider=self.provider,
                model=self._model,
                outcome="ok",
                latency_ms=latency,
                input_tokens=response.prompt_eval_count or 0,
                output_tokens=response.eval_count or 0,
                attempt=attempt,
            )
            return call, response.message.content or ""
        latency = (time.perf_counter() - started) * 1000
        call = ModelCall(
            tier="executor",
            provider=self.provider,
            model=self._model,
            outcome=outcome,
            latency_ms=latency,
            attempt=attempt,
            error=problem,
        )
        return call, None
