"""The escalator on a frontier model, through the ``anthropic`` SDK.

It sends only the :class:`~supportbot.llm.types.EscalationRequest` (question, evidence
passages, the executor's draft, the reasons, the category), with personal data in the
customer's words masked when ``mask_pii`` is on. The decision comes back through forced tool use
(``tool_choice`` names the one tool) and is validated as a
:class:`~supportbot.llm.types.FrontierAnswer`; an invalid one gets one repair turn with the
validation error as the tool result. Rate limits (429), overload (529), 5xx and timeouts are
retried with backoff by the SDK itself (``max_retries``; it honours ``retry-after``); when the
SDK gives up, the outcome carries ``result=None`` and the error, and the pipeline routes the
question to people. The static system prompt is marked for prompt caching.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Self, cast

from pydantic import ValidationError

from supportbot.llm.context import inline_schema, render_passages
from supportbot.llm.pii import PiiMasker
from supportbot.llm.prompts import PromptTemplate, load_escalator_prompt
from supportbot.llm.structured import describe_validation_error
from supportbot.llm.types import (
    CallOutcome,
    Draft,
    EscalationRequest,
    EscalatorOutcome,
    FrontierAnswer,
    ModelCall,
)
from supportbot.routing.types import Reason

if TYPE_CHECKING:
    import anthropic
    from anthropic.types import Message, MessageParam, ToolParam

    from supportbot.settings import Settings

TOOL_NAME = "record_decision"
TOOL_DESCRIPTION = (
    "Record your decision on the escalated support question: the final answer (or a draft "
    "for the human reviewer), whether it can be answered now or needs a human, and why."
)
#: Placeholder kinds put back into the answer; card, IBAN and account numbers stay masked.
RESTORED_KINDS = ("EMAIL", "PHONE")


def _tag(name: str, body: str) -> str:
    return f"<{name}>\n{body.strip()}\n</{name}>"


def _render_draft(draft: Draft | None, masker: PiiMasker | None) -> str:
    if draft is None:
        return "(the assistant produced no usable draft)"

    def clean(text: str) -> str:
        return masker.mask(text) if masker else text

    lines = [
        f"classification: {draft.classification}",
        f"confidence: {draft.confidence:.2f}",
        f"assistant asked to escalate: {'yes' if draft.escalate else 'no'}",
    ]
    if draft.escalate_reason:
        lines.append(f"assistant's reason: {clean(draft.escalate_reason)}")
    lines.append("draft reply:\n" + clean(draft.draft_response))
    if draft.evidence:
        quotes = "\n".join(f'- [{e.source}] "{e.quote}"' for e in draft.evidence)
        lines.append("quotes it relied on:\n" + quotes)
    return "\n".join(lines)


def _render_reasons(reasons: Sequence[Reason], masker: PiiMasker | None) -> str:
    if not reasons:
        return "(none given)"
    return "\n".join(
        f"- {r.signal}: {masker.mask(r.detail) if masker else r.detail}" for r in reasons
    )


def render_request(request: EscalationRequest, masker: PiiMasker | None) -> str:
    """The user message: only what the frontier model needs, customer text masked."""
    question = masker.mask(request.question) if masker else request.question
    return "\n\n".join(
        [
            _tag("question", question),
            _tag("category", request.category or "(none matched)"),
            _tag("escalation_reasons", _render_reasons(request.reasons, masker)),
            _tag("evidence", render_passages(request.passages)),
            _tag("assistant_draft", _render_draft(request.draft, masker)),
        ]
    )


def _content_params(message: Message) -> list[dict[str, Any]]:
    """The assistant turn as request parameters (for the repair conversation)."""
    blocks: list[dict[str, Any]] = []
    for block in message.content:
        if block.type == "text":
            blocks.append({"type": "text", "text": block.text})
        elif block.type == "tool_use":
            blocks.append(
                {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
            )
    return blocks


class AnthropicEscalator:
    """Decides escalated questions with a frontier model (see the module docstring)."""

    provider = "anthropic"

    def __init__(
        self,
        client: anthropic.Anthropic,
        *,
        model: str,
        prompt: PromptTemplate,
        mask_pii: bool = True,
        max_tokens: int = 1024,
        max_attempts: int = 2,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._client = client
        self._model = model
        self._mask_pii = mask_pii
        self._max_tokens = max_tokens
        self._max_attempts = max_attempts
        self._system = prompt.render(tool_name=TOOL_NAME)
        self._tool: ToolParam = {
            "name": TOOL_NAME,
            "description": TOOL_DESCRIPTION,
            "input_schema": inline_schema(FrontierAnswer),
        }

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        import anthropic

        if settings.anthropic_api_key is None:
            from supportbot.errors import ConfigurationError

            raise ConfigurationError("ANTHROPIC_API_KEY", "is not set; the escalator needs it")
        client = anthropic.Anthropic(
            api_key=settings.anthropic_api_key.get_secret_value(),
            base_url=settings.anthropic_base_url or "https://api.anthropic.com",
            timeout=settings.anthropic_timeout_seconds,
            max_retries=settings.anthropic_max_retries,
        )
        return cls(
            client,
            model=settings.anthropic_model,
            prompt=load_escalator_prompt(settings.policies_dir),
            mask_pii=settings.mask_pii,
        )

    @property
    def name(self) -> str:
        return f"anthropic/{self._model}"

    @property
    def system_prompt(self) -> str:
        return self._system

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- escalating ----------------------------------------------------------------
    def escalate(self, request: EscalationRequest) -> EscalatorOutcome:
        masker = PiiMasker() if self._mask_pii else None
        messages: list[dict[str, Any]] = [
            {"role": "user", "content": render_request(request, masker)}
        ]
        calls: list[ModelCall] = []
        problem = "no attempt was made"
        for attempt in range(1, self._max_attempts + 1):
            call, message = self._call(messages, attempt)
            if message is None:
                calls.append(call)
                return EscalatorOutcome(result=None, calls=calls, error=call.error)
            answer, problem, tool_use_id = self._read(message)
            if answer is not None:
                calls.append(call)
                if masker is not None:
                    answer = answer.model_copy(
                        update={
                            "final_answer": masker.unmask(answer.final_answer, RESTORED_KINDS),
                            "rationale": masker.unmask(answer.rationale, RESTORED_KINDS),
                        }
                    )
                return EscalatorOutcome(result=answer, calls=calls)
            calls.append(call.model_copy(update={"outcome": "invalid_output", "error": problem}))
            messages = [*messages, *self._repair_turns(message, tool_use_id, problem)]
        return EscalatorOutcome(
            result=None,
            calls=calls,
            error=f"invalid output after {self._max_attempts} attempts: {problem}",
        )

    def _read(self, message: Message) -> tuple[FrontierAnswer | None, str, str | None]:
        """The validated answer, or None with the problem (and the tool_use id, if any)."""
        block = next(
            (b for b in message.content if b.type == "tool_use" and b.name == TOOL_NAME), None
        )
        if block is None:
            return None, f"you did not call {TOOL_NAME} (stop_reason={message.stop_reason})", None
        try:
            return FrontierAnswer.model_validate(block.input), "", block.id
        except ValidationError as exc:
            problem = describe_validation_error(exc)
            if message.stop_reason == "max_tokens":
                problem += " (the reply was cut off at max_tokens; keep it shorter)"
            return None, problem, block.id

    @staticmethod
    def _repair_turns(
        message: Message, tool_use_id: str | None, problem: str
    ) -> list[dict[str, Any]]:
        instruction = (
            f"That could not be used: {problem}. Call {TOOL_NAME} again with final_answer, "
            "decision (answer or needs_human) and rationale."
        )
        assistant = {"role": "assistant", "content": _content_params(message)}
        if tool_use_id is None:
            if not assistant["content"]:
                return [{"role": "user", "content": instruction}]
            return [assistant, {"role": "user", "content": instruction}]
        result = {
            "type": "tool_result",
            "tool_use_id": tool_use_id,
            "is_error": True,
            "content": instruction,
        }
        return [assistant, {"role": "user", "content": [result]}]

    def _call(
        self, messages: list[dict[str, Any]], attempt: int
    ) -> tuple[ModelCall, Message | None]:
        import anthropic

        started = time.perf_counter()
        outcome: CallOutcome = "error"
        request_id: str | None = None
        retries = self._client.max_retries
        try:
            raw = self._client.messages.with_raw_response.create(
                model=self._model,
                max_tokens=self._max_tokens,
                system=[
                    {"type": "text", "text": self._system, "cache_control": {"type": "ephemeral"}}
                ],
                tools=[self._tool],
                tool_choice={"type": "tool", "name": TOOL_NAME},
                messages=cast("list[MessageParam]", messages),
            )
            message = raw.parse()
        except anthropic.APITimeoutError:
            outcome = "timeout"
            problem = f"Anthropic did not answer in time (after {retries} retries)"
        except anthropic.RateLimitError as exc:
            outcome, request_id = "rate_limited", exc.request_id
            problem = f"Anthropic rate limit (429) after {retries} retries: {exc.message}"
        except anthropic.APIStatusError as exc:
            request_id = exc.request_id
            retries = retries if exc.status_code in (408, 409) or exc.status_code >= 500 else 0
            problem = f"Anthropic answered {exc.status_code} after {retries} retries: {exc.message}"
        except anthropic.APIConnectionError as exc:
            problem = f"Anthropic is unreachable (after {retries} retries): {exc}"
        else:
            usage = message.usage
            call = ModelCall(
                tier="escalator",
                provider=self.provider,
                model=self._model,
                outcome="ok",
                latency_ms=(time.perf_counter() - started) * 1000,
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cache_read_tokens=usage.cache_read_input_tokens or 0,
                cache_write_tokens=usage.cache_creation_input_tokens or 0,
                attempt=attempt,
                retries=raw.retries_taken,
                request_id=message._request_id,
            )
            return call, message
        call = ModelCall(
            tier="escalator",
            provider=self.provider,
            model=self._model,
            outcome=outcome,
            latency_ms=(time.perf_counter() - started) * 1000,
            attempt=attempt,
            error=problem,
            retries=retries,
            request_id=request_id,
        )
        return call, None
