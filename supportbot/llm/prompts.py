"""Prompt templates: Markdown files under ``<policies dir>/prompts/`` that support leads edit.

A template is plain Markdown. ``{{name}}`` marks a placeholder that supportbot fills in; each
template has a fixed set of placeholders it may use, and any other one is an error that names
the file. HTML comments (``<!-- ... -->``) are notes for editors and are never sent to a model.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from supportbot.errors import PolicyError

PROMPTS_SUBDIR = "prompts"
EXECUTOR_PROMPT = "executor"
ESCALATOR_PROMPT = "escalator"

#: Placeholders each template may use (all of them are static per process, so the rendered
#: system prompts stay byte-identical between questions and can be cached).
ALLOWED_PLACEHOLDERS: dict[str, frozenset[str]] = {
    EXECUTOR_PROMPT: frozenset({"draft_schema"}),
    ESCALATOR_PROMPT: frozenset({"tool_name"}),
}

_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->\n?", re.DOTALL)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class PromptTemplate:
    """A loaded, checked template; :meth:`render` fills in its placeholders."""

    name: str
    path: Path
    text: str  # editor comments already removed
    placeholders: frozenset[str]

    def render(self, **values: str) -> str:
        missing = sorted(self.placeholders - values.keys())
        if missing:
            raise PolicyError(
                self.path, [f"no value supplied for placeholder {{{{{m}}}}}" for m in missing]
            )
        return _PLACEHOLDER.sub(lambda m: values[m.group(1).strip()], self.text).strip() + "\n"


def prompt_path(policies_dir: Path, name: str) -> Path:
    return Path(policies_dir) / PROMPTS_SUBDIR / f"{name}.md"


def load_prompt(
    policies_dir: Path, name: str, allowed: Iterable[str] | None = None
) -> PromptTemplate:
    """Read and check ``<policies_dir>/prompts/<name>.md``; errors name the file and the problem."""
    path = prompt_path(policies_dir, name)
    permitted = frozenset(allowed if allowed is not None else ALLOWED_PLACEHOLDERS.get(name, ()))
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError(path, [f"prompt template {name!r} not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(path, [f"cannot read prompt template: {exc}"]) from exc
    text = _COMMENT.sub("", raw)
    # Comments blanked out line for line, so reported line numbers match the file.
    checked = _COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), raw)
    problems: list[str] = []
    used: set[str] = set()
    for match in _PLACEHOLDER.finditer(checked):
        inner = match.group(1).strip()
        line = checked.count("\n", 0, match.start()) + 1
        if not _NAME.fullmatch(inner):
            problems.append(f"line {line}: malformed placeholder {match.group(0)!r}")
        elif inner not in permitted:
            allowed_text = ", ".join(f"{{{{{p}}}}}" for p in sorted(permitted)) or "none"
            problems.append(
                f"line {line}: unknown placeholder {{{{{inner}}}}} (allowed here: {allowed_text})"
            )
        else:
            used.add(inner)
    if not text.strip():
        problems.append("the template is empty")
    if problems:
        raise PolicyError(path, problems)
    return PromptTemplate(name=name, path=path, text=text, placeholders=frozenset(used))


def load_executor_prompt(policies_dir: Path) -> PromptTemplate:
    return load_prompt(policies_dir, EXECUTOR_PROMPT)


def load_escalator_prompt(policies_dir: Path) -> PromptTemplate:
    return load_prompt(policies_dir, ESCALATOR_PROMPT)
