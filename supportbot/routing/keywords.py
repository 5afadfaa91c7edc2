"""Keyword triggers: case-insensitive, on word boundaries, tolerant of inflection.

A keyword (one word or a phrase) matches when its words appear in the question in order,
each compared by Snowball stem ("refunds", "refunded" and "refunding" all match "refund"),
with at most :data:`MAX_GAP` other words between consecutive words of a phrase ("lost card"
matches "lost my credit card"). A keyword word of at least :data:`MIN_PREFIX_WORD` letters
also matches a longer derived form that starts with the word *as written* ("fraud" matches
"fraudulent", "chargeback" matches "chargebacks"). The prefix is the written word, not its
stem: the stem of "police" is "polic", a prefix of "policy", which is not a derived form.
Irregular forms ("steal", "stolen") are listed by the policy author.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from nltk.stem.snowball import SnowballStemmer

#: Other words allowed between consecutive words of a multi-word keyword.
MAX_GAP = 2
#: A keyword word this long also matches words that start with it (derivations).
MIN_PREFIX_WORD = 5

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
_STEMMER = SnowballStemmer("english")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Snowball stem, minus a final "e" (Snowball keeps "sue" but stems "sued" to "su")."""
    stemmed = str(_STEMMER.stem(word.casefold().replace("’", "'")))
    return stemmed[:-1] if len(stemmed) > 2 and stemmed.endswith("e") else stemmed


def words(text: str) -> list[str]:
    return [m.group(0) for m in _WORD.finditer(text)]


#: One word of a question: ``(casefolded word, stem)``.
QuestionWord = tuple[str, str]


@dataclass(frozen=True)
class Keyword:
    """One compiled keyword of a policy: per word, its casefolded form and its stem."""

    text: str
    stems: tuple[str, ...]
    forms: tuple[str, ...]

    @classmethod
    def compile(cls, text: str) -> Keyword:
        found = words(text)
        return cls(
            text=text, stems=tuple(stem(w) for w in found), forms=tuple(_fold(w) for w in found)
        )

    def found_in(self, question: Sequence[QuestionWord]) -> bool:
        """Whether the keyword occurs in a question given by :func:`question_words`."""
        if not self.stems:
            return False
        return any(
            self._same(0, pair) and self._rest_from(question, start)
            for start, pair in enumerate(question)
        )

    def _rest_from(self, pairs: Sequence[QuestionWord], start: int) -> bool:
        position = start
        for index in range(1, len(self.stems)):
            window = pairs[position + 1 : position + 2 + MAX_GAP]
            for offset, pair in enumerate(window):
                if self._same(index, pair):
                    position = position + 1 + offset
                    break
            else:
                return False
        return True

    def _same(self, index: int, pair: QuestionWord) -> bool:
        word, word_stem = pair
        if self.stems[index] == word_stem:
            return True
        form = self.forms[index]
        return len(form) >= MIN_PREFIX_WORD and word.startswith(form)


def _fold(word: str) -> str:
    return word.casefold().replace("’", "'")


def question_words(text: str) -> list[QuestionWord]:
    """The question's words with their stems, as :meth:`Keyword.found_in` takes them."""
    return [(_fold(w), stem(w)) for w in words(text)]


def matching_keywords(keywords: list[Keyword], text: str) -> list[str]:
    """The keywords (as written in the policy) that occur in ``text``."""
    question = question_words(text)
    return [k.text for k in keywords if k.found_in(question)]
