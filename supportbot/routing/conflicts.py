"""Conflicting evidence: relevant passages that state different values for the same quantity.

The heuristic, concrete enough to test and to explain in a reason:

1. Only passages with ``score >= min_score`` count (relevant to the question), and only pairs
   of passages from **different documents** (one document contradicting itself across its
   own chunks is rare and not what this check is for).
2. In every sentence of those passages, find **quantities**: a number (digits or a number word,
   optionally a range such as "5 to 7") with a unit — a currency symbol or code (``$25``,
   ``25 USD``), a percent sign (``10%``, ``10 percent``), or the word after the number
   (``14 days``, ``3 business days``, ``5 seats``; qualifiers like *business*, *calendar*
   and *working* stay part of the unit, so "10 days" and "10 business days" differ).
   Minutes, hours, days and weeks are one unit, *duration*, compared in minutes, so
   "60 minutes" conflicts with "24 hours" and "24 hours" agrees with "1 day".
3. Each quantity's *context* is the content words (stemmed, stop words and the unit removed)
   within :data:`CONTEXT_WORDS` words on either side of it, inside its sentence.
4. Two quantities **conflict** when they have the same unit and different values, their
   contexts share at least :data:`MIN_SHARED_TERMS` words (they talk about the same thing),
   and both contexts contain the same, non-empty set of the question's words (both answer
   the question, in the same respect).

So "Refunds are available within 14 days of purchase" (billing/refunds.md) against "You can
request a refund within 30 days of purchase" (faq.md), for "how long do I have to ask for a
refund?", is a conflict on a duration (14 vs 30 days; shared: refund, purchase). "Checks
arrive by mail in 7 to 10 business days" against "Replacement cards arrive in 5 to 7 business
days by mail" is not, for "when will my new card arrive in the mail?": only the second context
mentions the card.

Limits, on purpose (a false conflict costs a frontier call; a missed one is still exposed to
the executor's and the frontier model's judgement): the check does not know synonyms ("10% off"
is not recognised as a "discount"), ignores numbers without a unit, and cannot tell that two
values apply to different plans or customers when the sentences do not say so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

from bm25s.stopwords import STOPWORDS_EN_PLUS
from pydantic import BaseModel, ConfigDict

from supportbot.retrieval.types import Passage
from supportbot.routing.keywords import stem, words

#: Content words two contexts must share for their quantities to be "the same quantity".
MIN_SHARED_TERMS = 2
#: Words on each side of a quantity that make up its context.
CONTEXT_WORDS = 8

_NUMBER_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "hundred": 100,
}
_QUALIFIERS = {"business", "calendar", "working", "consecutive", "full", "billing"}
#: Durations with a fixed length, compared in minutes ("60 minutes" conflicts with "24 hours",
#: "24 hours" agrees with "1 day"); months and years vary in length and keep their own units.
_MINUTES = {"minut": 1, "min": 1, "hour": 60, "hr": 60, "day": 1440, "week": 10080}
_CURRENCY_CODES = {"usd", "eur", "gbp", "cad", "aud", "chf", "jpy", "dollars", "euros", "pounds"}
_CURRENCY_SYMBOLS = {"$": "usd", "€": "eur", "£": "gbp", "¥": "jpy"}
_EXTRA_STOPWORDS = {
    "within",
    "can",
    "may",
    "must",
    "also",
    "per",
    "us",
    "get",
    "one",
    "every",
    "each",
    "would",
    "could",
    "use",
    "plus",
    "least",
    "less",
}
_STOP_STEMS = frozenset(stem(w) for w in set(STOPWORDS_EN_PLUS) | _EXTRA_STOPWORDS)

_NUM = r"\d[\d,]*(?:\.\d+)?|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
_QUANTITY = re.compile(
    rf"(?:(?P<symbol>[$€£¥])\s?)?\b(?P<low>{_NUM})\b"
    rf"(?:\s?(?:-|–|to)\s?(?P=symbol)?(?P<high>{_NUM}))?"
    r"(?P<percent>\s?%|\s+percent\b)?"
    r"(?:\s+(?P<unit>[^\W\d_]+)(?:\s+(?P<unit2>[^\W\d_]+))?)?",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


class QuantityMention(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    text: str  # the quantity as written
    value: str  # normalised value ("14", "5-7", "12.5")
    unit: str  # normalised unit ("day", "business day", "%", "usd")
    sentence: str
    context: str  # the words around the quantity that say what it is about


class Conflict(BaseModel):
    """Two relevant passages stating different values for the same quantity."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    unit: str
    first: QuantityMention
    second: QuantityMention
    shared_terms: list[str]

    def describe(self) -> str:
        return (
            f"{self.first.source} says {self.first.text!r} but {self.second.source} says "
            f"{self.second.text!r} (same unit {self.unit!r}; both about "
            f"{', '.join(self.shared_terms)})"
        )


@dataclass(frozen=True)
class _Mention:
    mention: QuantityMention
    doc_id: str
    terms: frozenset[str]


def _number(token: str) -> float | None:
    token = token.lower().replace(",", "")
    if token in _NUMBER_WORDS:
        return float(_NUMBER_WORDS[token])
    try:
        return float(token)
    except ValueError:
        return None


def _format(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def content_terms(text: str) -> frozenset[str]:
    """Stemmed content words of ``text`` (no stop words, no numbers)."""
    return frozenset(
        s for s in (stem(w) for w in words(text)) if s not in _STOP_STEMS and not s[0].isdigit()
    )


def quantities(text: str, source: str = "") -> list[QuantityMention]:
    """Every number-with-unit in ``text`` (see the module docstring)."""
    mentions: list[QuantityMention] = []
    for sentence in _SENTENCE_END.split(text):
        for found in _QUANTITY.finditer(sentence):
            mention = _mention(found, sentence.strip(), source)
            if mention is not None:
                mentions.append(mention)
    return mentions


def _mention(found: re.Match[str], sentence: str, source: str) -> QuantityMention | None:
    start, end = found.span()
    if start > 0 and (sentence[start - 1].isalnum() or sentence[start - 1] in "-/."):
        return None  # part of a word, a date or an identifier
    low = _number(found.group("low"))
    if low is None:
        return None
    high = _number(found.group("high")) if found.group("high") else None
    value = _format(low) if high is None else f"{_format(low)}-{_format(high)}"
    unit_word = (found.group("unit") or "").lower()
    unit_word2 = (found.group("unit2") or "").lower()
    text_end = end
    if found.group("symbol"):
        unit = _CURRENCY_SYMBOLS[found.group("symbol")]
        text_end = found.end("high") if found.group("high") else found.end("low")
    elif found.group("percent"):
        unit = "%"
        text_end = found.end("percent")
    elif unit_word in _CURRENCY_CODES:
        unit = {"dollars": "usd", "euros": "eur", "pounds": "gbp"}.get(unit_word, unit_word)
        text_end = found.end("unit")
    elif unit_word in _QUALIFIERS and unit_word2:
        unit = f"{unit_word} {stem(unit_word2)}"
    elif stem(unit_word) in _MINUTES:
        factor = _MINUTES[stem(unit_word)]
        unit = "duration"
        value = _format(low * factor)
        if high is not None:
            value += f"-{_format(high * factor)}"
        text_end = found.end("unit")
    elif unit_word and stem(unit_word) not in _STOP_STEMS:
        unit = stem(unit_word)
        text_end = found.end("unit")
    else:
        return None
    if found.group("low").isalpha() and not found.group("unit"):
        return None  # "one" alone is a pronoun far more often than a quantity
    before = words(sentence[:start])[-CONTEXT_WORDS:]
    after = words(sentence[text_end:])[:CONTEXT_WORDS]
    return QuantityMention(
        source=source,
        text=sentence[start:text_end].strip(),
        value=value,
        unit=unit,
        sentence=sentence,
        context=" ".join([*before, *after]),
    )


def find_conflicts(
    question: str, passages: Sequence[Passage], *, min_score: float
) -> list[Conflict]:
    """Conflicts among the passages scoring at least ``min_score`` (see the module docstring)."""
    question_terms = content_terms(question)
    mentions: list[_Mention] = []
    for passage in passages:
        if passage.score < min_score:
            continue
        for mention in quantities(passage.text, passage.source):
            unit_terms = {mention.unit, *(stem(w) for w in mention.unit.split())}
            terms = content_terms(mention.context) - unit_terms
            mentions.append(_Mention(mention, passage.doc_id, terms))
    conflicts: list[Conflict] = []
    seen: set[tuple[str, ...]] = set()
    for a, b in combinations(mentions, 2):
        if a.doc_id == b.doc_id or a.mention.unit != b.mention.unit:
            continue
        if a.mention.value == b.mention.value:
            continue
        shared = a.terms & b.terms
        if len(shared) < MIN_SHARED_TERMS:
            continue
        asked = a.terms & question_terms
        if not asked or asked != b.terms & question_terms:
            continue
        key = (a.mention.unit, *sorted((a.doc_id, b.doc_id)))
        if key in seen:
            continue
        seen.add(key)
        conflicts.append(
            Conflict(
                unit=a.mention.unit,
                first=a.mention,
                second=b.mention,
                shared_terms=sorted(shared),
            )
        )
    return conflicts
