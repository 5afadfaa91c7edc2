"""The escalation policy: schema of ``policies/escalation.yaml`` and its loader.

A support lead edits one YAML file to say when the bot leaves the routine lane::

    scope:                        # optional: what the knowledge base is about
      description: "..."          # (helps tell off-topic questions from uncovered ones)
      examples: ["..."]
    categories:                   # risk topics that leave the routine lane
      refund_exception:
        description: "..."
        examples: ["...", "..."]
        keywords: ["chargeback"]  # optional, explicit triggers
        escalate_to: human        # frontier | human
        sources: ["billing/chargebacks-and-disputes"]   # optional: knowledge-base pages
                                  # (or page#section) that document this category's process;
                                  # [] = no page does
        routine_examples: ["..."] # optional: look-alike questions the help center answers
    thresholds:
      min_retrieval_score: 0.3
      min_confidence: 0.6
      max_model_failures: 2
    budget:
      frontier_calls_per_day: 500
    channels:                     # optional per-channel rules, keyed by channel ID or name
      C0123LEGAL: {escalate_to: human, note: "Legal questions are always answered by a person"}

Every mapping forbids unknown keys. Any problem becomes one :class:`PolicyError` that names
the file, the field path (``categories.refunds.escalate_to``) and what is wrong.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from supportbot.errors import PolicyError
from supportbot.routing.sources import problem_with_pattern

POLICY_FILENAME = "escalation.yaml"

EscalateTo = Literal["frontier", "human"]
NonEmptyText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def _check_source_pattern(value: str) -> str:
    problem = problem_with_pattern(value)
    if problem is not None:
        raise ValueError(f"source pattern {value!r}: {problem}")
    return value


SourcePatternText = Annotated[str, AfterValidator(_check_source_pattern)]
CategoryName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
]

#: Phrases that mean "let me talk to a person"; a policy may replace them.
DEFAULT_HUMAN_REQUEST_PHRASES: tuple[str, ...] = (
    "talk to a human",
    "speak to a human",
    "talk to a person",
    "speak to a person",
    "talk to someone",
    "speak to someone",
    "talk to an agent",
    "speak to an agent",
    "talk to a real person",
    "speak with a human",
    "speak with a person",
    "speak with someone",
    "speak with an agent",
    "human agent",
    "live agent",
    "real person",
    "customer service representative",
    "talk to a representative",
    "speak to a representative",
    "speak with a representative",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Scope(_Strict):
    """What the knowledge base is about; texts that count as "in the domain"."""

    description: NonEmptyText | None = None
    examples: list[NonEmptyText] = Field(default_factory=list)

    @property
    def texts(self) -> list[str]:
        return ([self.description] if self.description else []) + list(self.examples)


class Category(_Strict):
    """A risk topic that leaves the routine lane."""

    description: NonEmptyText
    examples: list[NonEmptyText] = Field(min_length=1)
    keywords: list[NonEmptyText] = Field(default_factory=list)
    escalate_to: EscalateTo
    sources: list[SourcePatternText] | None = None
    """Knowledge-base pages or sections that document this category's process (patterns such
    as ``security/**`` or ``billing/refund-policy#Exceptions*``; see
    :mod:`supportbot.routing.sources`). They are not routine-lane evidence against the
    category, and a question whose best evidence is one of them belongs to the category.
    Not given: nobody said which pages document it, so any page might. ``[]``: none does,
    the whole knowledge base is routine for this category. Either way, once the lead has said
    which pages are not routine, the rest is trusted as routine lane (see
    :mod:`supportbot.routing.categories`)."""
    routine_examples: list[NonEmptyText] = Field(default_factory=list)
    """Look-alike questions that the help center answers on its own ("How do I reset my
    password?" next to account takeovers). A question closer to one of these than to every
    example of the category is not matched by meaning (keywords still apply)."""

    @field_validator("examples", "keywords", "sources", "routine_examples")
    @classmethod
    def _no_duplicates(cls, values: list[str] | None) -> list[str] | None:
        if values is None:
            return None
        seen: set[str] = set()
        for value in values:
            key = value.casefold()
            if key in seen:
                raise ValueError(f"duplicate entry {value!r}")
            seen.add(key)
        return values

    @model_validator(mode="after")
    def _routine_examples_are_not_examples(self) -> Category:
        examples = {e.casefold() for e in self.examples}
        both = [r for r in self.routine_examples if r.casefold() in examples]
        if both:
            raise ValueError(
                f"routine_examples: {both[0]!r} is also one of the examples; a question "
                "cannot be both routine and an example of the category"
            )
        return self


class Thresholds(_Strict):
    """Numbers the router compares signals against (similarities are cosine, 0..1)."""

    min_retrieval_score: float = Field(0.3, ge=0.0, le=1.0)
    """Below this top retrieval score the knowledge base cannot ground an answer; a question
    that is also unrelated to every category (and to the scope) is off-topic."""
    min_confidence: float = Field(0.6, ge=0.0, le=1.0)
    """The executor's self-reported confidence below which its draft is not sent as is."""
    max_model_failures: int = Field(2, ge=1)
    """Consecutive failed or invalid executor calls that escalate with ``model_failure``."""
    category_margin: float = Field(0.0, ge=-1.0, le=1.0)
    """A category matches by meaning when its similarity to the question (and, for a category
    with ``sources``, that of its closest example) is at least the best retrieved passage
    outside the category's own ``sources`` plus this margin (the knowledge base is the
    routine lane); an own page also needs this margin to count as the best evidence by score.
    0 means a tie goes to the category: escalating is cheap, answering a risky question is
    not."""
    category_min_score: float | None = Field(None, ge=0.0, le=1.0)
    """Floor for a match by meaning; defaults to ``min_retrieval_score`` (a question must be
    at least as related to a category as an answerable question is to the knowledge base)."""
    category_strong_score: float = Field(0.75, ge=0.0, le=1.0)
    """A similarity at which a category matches whatever the knowledge base says (the
    question is a near-paraphrase of one of the lead's examples)."""
    off_topic_score: float | None = Field(None, ge=0.0, le=1.0)
    """A question whose best similarity to the knowledge base, the scope and every category
    is below this is declined as off-topic; defaults to ``min_retrieval_score``."""
    conflict_min_score: float | None = Field(None, ge=0.0, le=1.0)
    """Passages count as evidence for the conflict check from this score; defaults to
    ``min_retrieval_score``."""

    @property
    def category_floor(self) -> float:
        return (
            self.min_retrieval_score if self.category_min_score is None else self.category_min_score
        )

    @property
    def off_topic_below(self) -> float:
        return self.min_retrieval_score if self.off_topic_score is None else self.off_topic_score

    @property
    def conflict_floor(self) -> float:
        return (
            self.min_retrieval_score if self.conflict_min_score is None else self.conflict_min_score
        )


class Budget(_Strict):
    frontier_calls_per_day: int = Field(500, ge=0)


class ChannelRule(_Strict):
    """A rule for every question asked in one channel."""

    escalate_to: EscalateTo | None = None
    """At least this route for every question (``human``: a person approves every answer)."""
    auto_answer: bool = True
    """False: never post an answer without a person's approval (same as ``escalate_to: human``)."""
    decline_off_topic: bool = True
    """False: off-topic questions in this channel go to a person instead of a polite decline."""
    note: str | None = None

    @property
    def minimum_route(self) -> EscalateTo | None:
        if not self.auto_answer:
            return "human"
        return self.escalate_to


class Routing(_Strict):
    """Where the router sends questions that no category claims."""

    weak_retrieval_to: EscalateTo = "human"
    """The knowledge base has nothing to ground an answer on: a person (who can also fix the
    gap in the knowledge base), or the frontier model."""
    conflicting_evidence_to: EscalateTo = "frontier"
    executor_escalation_to: EscalateTo = "frontier"
    """Where the executor's own flag, low confidence, invalid output, invented citations and
    model failures send the question."""
    human_request_phrases: list[NonEmptyText] = Field(
        default_factory=lambda: list(DEFAULT_HUMAN_REQUEST_PHRASES)
    )
    """Phrases with which an asker asks for a person (signal ``user_requested``)."""


class Policy(_Strict):
    """The whole escalation policy."""

    scope: Scope | None = None
    categories: dict[CategoryName, Category] = Field(default_factory=dict)
    thresholds: Thresholds = Field(default_factory=Thresholds)
    budget: Budget = Field(default_factory=Budget)
    channels: dict[NonEmptyText, ChannelRule] = Field(default_factory=dict)
    routing: Routing = Field(default_factory=Routing)

    @model_validator(mode="after")
    def _unique_category_names(self) -> Policy:
        seen: dict[str, str] = {}
        for name in self.categories:
            key = name.casefold()
            if key in seen:
                raise ValueError(
                    f"categories: {name!r} and {seen[key]!r} differ only in letter case"
                )
            seen[key] = name
        return self

    @property
    def fingerprint(self) -> str:
        """A hash of everything the category matcher embeds (its cache key)."""
        payload = json.dumps(
            {
                "scope": self.scope.model_dump() if self.scope else None,
                "categories": {k: v.model_dump() for k, v in self.categories.items()},
            },
            sort_keys=True,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def channel_rule(self, *channel_keys: str | None) -> tuple[str, ChannelRule] | None:
        """The rule for a channel given its ID and/or name (``#`` optional)."""
        for key in channel_keys:
            if not key:
                continue
            for candidate in (key, key.lstrip("#")):
                rule = self.channels.get(candidate) or self.channels.get("#" + candidate)
                if rule is not None:
                    return candidate, rule
        return None


# -- loading ---------------------------------------------------------------------------


class _UniqueKeyLoader(yaml.SafeLoader):
    """A SafeLoader that rejects duplicate mapping keys (YAML silently keeps the last)."""


def _construct_unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> Any:
    seen: dict[Any, yaml.Node] = {}
    for key_node, _value_node in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            first = seen[key].start_mark
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (first defined on line {first.line + 1})",
                key_node.start_mark,
            )
        seen[key] = key_node
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_unique_mapping,
)


def policy_path(policies_dir: Path) -> Path:
    return Path(policies_dir) / POLICY_FILENAME


def load_policy(policies_dir: Path) -> Policy:
    """Load ``escalation.yaml`` from the policies dir (``Settings.policies_dir``)."""
    return load_policy_file(policy_path(policies_dir))


def load_policy_file(path: Path) -> Policy:
    """Read, parse and validate one policy file; every problem is a :class:`PolicyError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError(path, ["file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(path, [f"cannot read the file: {exc}"]) from exc
    return parse_policy(text, path)


def parse_policy(text: str, path: Path | str = "<policy>") -> Policy:
    """Validate policy YAML text; ``path`` is only used in error messages."""
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = exc.problem or str(exc)
        kind = (
            "YAML error"
            if isinstance(exc, yaml.constructor.ConstructorError)
            else "YAML syntax error"
        )
        raise PolicyError(path, [f"{kind} at {where}{problem}"]) from exc
    except yaml.YAMLError as exc:
        raise PolicyError(path, [f"YAML syntax error: {exc}"]) from exc
    if data is None:
        raise PolicyError(path, ["the file is empty; it needs at least a 'categories' mapping"])
    if not isinstance(data, dict):
        raise PolicyError(
            path, [f"the top level must be a mapping of sections, not {type(data).__name__}"]
        )
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(path, _describe(exc)) from exc


def _allowed_keys(model: type[BaseModel]) -> list[str]:
    return list(model.model_fields)


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The pydantic model that validates the mapping at ``loc`` (for listing allowed keys)."""
    model: type[BaseModel] = Policy
    index = 0
    while index < len(loc):
        name = loc[index]
        field = model.model_fields.get(str(name))
        if field is None:
            return None
        annotation = field.annotation
        index += 1
        if name in ("categories", "channels"):
            index += 1  # skip the user's key (category or channel name)
            annotation = Category if name == "categories" else ChannelRule
        inner = _unwrap_model(annotation)
        if inner is None:
            return None
        model = inner
    return model


def _unwrap_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _unwrap_model(arg)
        if found is not None:
            return found
    return None


def _describe(exc: ValidationError) -> list[str]:
    problems: list[str] = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        field = ".".join(str(part) for part in loc) or "(top level)"
        kind = error["type"]
        if kind == "extra_forbidden":
            parent = _model_at(loc[:-1])
            allowed = ", ".join(_allowed_keys(parent)) if parent else "?"
            problems.append(f"{field}: unknown key {loc[-1]!r}; allowed keys: {allowed}")
        elif kind == "literal_error":
            expected = error.get("ctx", {}).get("expected", "")
            problems.append(f"{field}: {error['input']!r} is not allowed; expected {expected}")
        elif kind == "missing":
            problems.append(f"{field}: required field is missing")
        elif kind == "too_short" and loc and loc[-1] == "examples":
            problems.append(f"{field}: needs at least one example question")
        elif kind == "string_too_short":
            problems.append(f"{field}: must not be empty")
        elif kind == "string_pattern_mismatch":
            problems.append(f"{field}: names may use only letters, digits, '_', '-' and '.'")
        elif kind == "value_error" and error.get("ctx", {}).get("error") is not None:
            problems.append(f"{field}: {error['ctx']['error']}")
        else:
            got = error.get("input")
            problems.append(f"{field}: {error['msg']} (got {_short(got)})")
    return problems


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
