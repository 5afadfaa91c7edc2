"""Knowledge-base pages (or sections) that a policy category owns: its ``sources``.

A help center often documents the risky processes themselves: how an account takeover is
handled, what happens with a chargeback, how the legal team answers the police. Such a page is
not evidence that a question is routine; it is evidence that the question belongs to the
category. A support lead says so with patterns in ``escalation.yaml``::

    security_incident:
      sources: ["security/suspected-account-takeover", "security/leaked-api-keys"]
    refund_exception:
      sources: ["billing/refund-policy#Exceptions*"]

A pattern is ``PATH`` or ``PATH#HEADING``:

* ``PATH`` is matched against a passage's doc id (its path relative to the knowledge dir,
  without ``.md``; a trailing ``.md`` in the pattern is ignored). ``*`` and ``?`` stay within
  one folder, ``**`` crosses folders: ``security/*`` is every page directly in ``security/``,
  ``security/**`` every page under it. A pattern ending in ``/`` means the whole folder.
* ``HEADING`` (optional) restricts the pattern to the sections whose heading path contains a
  heading that matches it, case-insensitively (``*`` matches anything, ``/`` included), so
  ``#Exceptions*`` covers the "Exceptions (require approval from the billing team)" section
  and its subsections, and nothing else of the page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from supportbot.retrieval.types import Passage

HEADING_SEPARATOR = " > "


def problem_with_pattern(pattern: str) -> str | None:
    """Why ``pattern`` is not a usable source pattern, or ``None`` when it is fine."""
    path, sep, heading = pattern.partition("#")
    checks = (
        (not path.strip(), "needs a page or folder path before any '#', e.g. 'security/**'"),
        (path != path.strip(), "the path must not start or end with spaces"),
        (
            path.startswith("/") or re.match(r"^[A-Za-z]:", path) is not None,
            "must be relative to the knowledge dir, e.g. 'security/**', not an absolute path",
        ),
        ("\\" in path, "use '/' between folders, not '\\'"),
        (
            any(part in ("", ".", "..") for part in _path_parts(path)),
            "must not contain empty, '.' or '..' path segments",
        ),
        (
            bool(sep) and not heading.strip(),
            "nothing after '#'; name a heading (e.g. 'page#Exceptions*') or drop the '#'",
        ),
    )
    return next((problem for failed, problem in checks if failed), None)


def _path_parts(path: str) -> list[str]:
    trimmed = path[:-1] if path.endswith("/") else path
    return trimmed.split("/")


def _glob_to_regex(glob: str, *, any_depth_star: bool) -> str:
    """Translate ``*``, ``**`` and ``?`` (no character classes: ``[`` is literal)."""
    out: list[str] = []
    index = 0
    while index < len(glob):
        char = glob[index]
        if glob.startswith("**", index):
            out.append(".*")
            index += 2
            continue
        if char == "*":
            out.append(".*" if any_depth_star else "[^/]*")
        elif char == "?":
            out.append("." if any_depth_star else "[^/]")
        else:
            out.append(re.escape(char))
        index += 1
    return "".join(out)


@dataclass(frozen=True)
class SourcePattern:
    """One compiled pattern of a category's ``sources``."""

    text: str  # as written in the policy
    path: re.Pattern[str]
    heading: re.Pattern[str] | None

    @classmethod
    def compile(cls, text: str) -> SourcePattern:
        problem = problem_with_pattern(text)
        if problem is not None:
            raise ValueError(f"source pattern {text!r}: {problem}")
        path, sep, heading = text.partition("#")
        if path.endswith("/"):
            path += "**"
        if path.lower().endswith(".md"):
            path = path[:-3]
        path_regex = re.compile(_glob_to_regex(path, any_depth_star=False) + r"\Z")
        heading_regex = (
            re.compile(_glob_to_regex(heading.strip(), any_depth_star=True) + r"\Z", re.I)
            if sep
            else None
        )
        return cls(text=text, path=path_regex, heading=heading_regex)

    def matches(self, doc_id: str, heading: str = "") -> bool:
        if self.path.match(doc_id) is None:
            return False
        if self.heading is None:
            return True
        headings = [h.strip() for h in heading.split(HEADING_SEPARATOR)] if heading else []
        return any(self.heading.match(h) is not None for h in headings)


@dataclass(frozen=True)
class SourcePatterns:
    """All the ``sources`` of one category."""

    patterns: tuple[SourcePattern, ...] = ()

    @classmethod
    def compile(cls, texts: Iterable[str]) -> SourcePatterns:
        return cls(tuple(_compiled(text) for text in texts))

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def owner(self, passage: Passage) -> str | None:
        """The first pattern that claims ``passage`` (as written), or ``None``."""
        for pattern in self.patterns:
            if pattern.matches(passage.doc_id, passage.heading):
                return pattern.text
        return None


@lru_cache(maxsize=1024)
def _compiled(text: str) -> SourcePattern:
    return SourcePattern.compile(text)


def unmatched_patterns(patterns: Sequence[str], doc_ids: Iterable[str]) -> list[str]:
    """The path parts of ``patterns`` that name no document in ``doc_ids`` (typos, moved pages).

    Only the path is checked (headings are only known per passage); use it where the
    knowledge base is at hand, e.g. after indexing, to warn the support lead.
    """
    ids = list(doc_ids)
    missing = []
    for text in patterns:
        pattern = _compiled(text)
        if not any(pattern.path.match(doc_id) for doc_id in ids):
            missing.append(text)
    return missing
