"""Quotable sentences of a Markdown passage, for the extractive (offline) executor.

Each sentence is the passage's own words: paragraphs and list items are joined across line
breaks (so a sentence equals the passage text up to whitespace), list markers and block-quote
markers are left out, and headings, code blocks, HTML comments and table rules are skipped.
"""

from __future__ import annotations

import re

#: Sentences with fewer words say too little to quote on their own.
MIN_WORDS = 3

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
_QUOTE_MARK = re.compile(r"^\s*>\s?")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
# A sentence ends at . ! or ? (optionally closed by a quote or bracket) followed by space and
# an upper-case letter, a digit or an opening quote/bracket.
_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[\"'(\[*_]?[A-Z0-9])")


def _blocks(text: str) -> list[str]:
    """Paragraphs, list items and table rows, each joined into one line."""
    blocks: list[str] = []
    current: list[str] = []
    in_code = False

    def flush() -> None:
        if current:
            blocks.append(" ".join(current))
            current.clear()

    for raw in _COMMENT.sub("", text).splitlines():
        if _FENCE.match(raw):
            flush()
            in_code = not in_code
            continue
        if in_code:
            continue
        line = _QUOTE_MARK.sub("", raw)
        if not line.strip() or _HEADING.match(line) or _TABLE_RULE.match(line) or _RULE.match(line):
            flush()
            continue
        if line.lstrip().startswith("|"):
            flush()
            blocks.append(line.strip())
            continue
        item = _LIST_ITEM.match(line)
        if item:
            flush()
            current.append(line[item.end() :].strip())
            continue
        current.append(line.strip())
    flush()
    return blocks


def split_sentences(text: str, *, min_words: int = MIN_WORDS) -> list[str]:
    """The passage's sentences in order, each with at least ``min_words`` words."""
    sentences: list[str] = []
    for block in _blocks(text):
        for piece in _BOUNDARY.split(block):
            sentence = piece.strip()
            if len(sentence.split()) >= min_words:
                sentences.append(sentence)
    return sentences
