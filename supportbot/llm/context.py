"""What a model sees of a question: passages with their source and heading, bounded history."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from supportbot.llm.types import ConversationTurn
from supportbot.retrieval.types import Passage

#: Earlier thread messages a model gets at most, and how long each may be.
MAX_HISTORY_TURNS = 6
MAX_TURN_CHARS = 800

#: A conservative characters-per-token ratio for budgeting a context window.
CHARS_PER_TOKEN = 3.5


def _attribute(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def render_passage(passage: Passage, number: int) -> str:
    heading = f' heading="{_attribute(passage.heading)}"' if passage.heading else ""
    return (
        f'<passage number="{number}" source="{_attribute(passage.source)}"{heading}>\n'
        f"{passage.text.strip()}\n</passage>"
    )


def render_passages(passages: Sequence[Passage]) -> str:
    if not passages:
        return "(no passages were found for this question)"
    return "\n\n".join(render_passage(p, i) for i, p in enumerate(passages, 1))


def bounded_history(
    history: Sequence[ConversationTurn],
    *,
    max_turns: int = MAX_HISTORY_TURNS,
    max_chars: int = MAX_TURN_CHARS,
) -> list[ConversationTurn]:
    """The last ``max_turns`` turns, each cut to ``max_chars`` characters."""
    recent = list(history)[-max_turns:] if max_turns > 0 else []
    return [
        t
        if len(t.text) <= max_chars
        else t.model_copy(update={"text": t.text[: max_chars - 1].rstrip() + "…"})
        for t in recent
    ]


def render_history(history: Sequence[ConversationTurn]) -> str:
    labels = {"user": "Customer", "assistant": "Support"}
    return "\n".join(f"{labels[t.role]}: {t.text.strip()}" for t in history)


def fit_passages(passages: Sequence[Passage], budget_chars: int) -> list[Passage]:
    """Passages in their given order while they fit ``budget_chars``; the first always fits."""
    chosen: list[Passage] = []
    used = 0
    for passage in passages:
        size = len(passage.text) + len(passage.source) + len(passage.heading) + 60
        if chosen and used + size > budget_chars:
            break
        chosen.append(passage)
        used += size
    return chosen


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with ``$ref``s resolved and titles removed (for ``format``)."""
    schema = model.model_json_schema()
    definitions: Mapping[str, Any] = schema.pop("$defs", {})

    def resolve(node: Any, *, is_properties: bool = False) -> Any:
        if isinstance(node, dict):
            if "$ref" in node and not is_properties:
                name = str(node["$ref"]).rsplit("/", 1)[-1]
                return resolve(copy.deepcopy(definitions[name]))
            return {
                k: resolve(v, is_properties=(k == "properties" and not is_properties))
                for k, v in node.items()
                if is_properties or not (k == "title" and isinstance(v, str))
            }
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


def schema_text(schema: Mapping[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False)
