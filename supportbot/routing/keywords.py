"""Keyword triggers: case-insensitive, on word boundaries, tolerant of inflection.

A keyword (one word or a phrase) matches when its words appear in the question in order,
each compared by Snowball stem ("refunds", "refunded" and "refunding" all match "refund"),
with at most :data:`MAX_GAP` other words between consecutive words of a phrase ("lost card"
matches "lost my credit card"). A word also matches a longer derived form that starts with
the keyword's stem when that stem has at least :data:`MIN_PREFIX_STEM` letters ("fraud"
matches "fraudulent", "chargeback" matches "chargebacks"). Irregular forms ("steal",
"stolen") are listed by the policy author.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from nltk.stem.snowball import SnowballStemmer

#: Other words allowed between consecutive words of a multi-word keyword.
MAX_GAP = 2
#: A keyword stem this long also matches words that start with it (derivations).
MIN_PREFIX_STEM = 5

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
_STEMMER = SnowballStemmer("english")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Snowball stem, minus a final "e" (Snowball keeps "sue" but stems "sued" to "su")."""
    stemmed = str(_STEMMER.stem(word.casefold().replace("’", "'")))
    return stemmed[:-1] if len(stemmed) > 2 and stemmed.endswith("e") else stemmed


def words(text: str) -> list[str]:
    return [m.group(0) for m in _WORD.finditer(text)]


@dataclass(frozen=True)
class Keyword:
    """One compiled keyword of a policy."""

    text: str
    stems: tuple[str, ...]

    @classmethod
    def compile(cls, text: str) -> Keyword:
        return cls(text=text, stems=tuple(stem(w) for w in words(text)))

    def found_in(self, question_stems: list[str]) -> bool:
        """Whether the keyword occurs in a question given as its word stems."""
        if not self.stems:
            return False
        return any(
            _same(self.stems[0], word_stem) and self._rest_from(question_stems, start)
            for start, word_stem in enumerate(question_stems)
        )

    def _rest_from(self, question_stems: list[str], start: int) -> bool:
        position = start
        for keyword_stem in self.stems[1:]:
            window = question_stems[position + 1 : position + 2 + MAX_GAP]
            for offset, word_stem in enumerate(window):
                if _same(keyword_stem, word_stem):
                    position = position + 1 + offset
                    break
            else:
                return False
        return True


def _same(keyword_stem: str, word_stem: str) -> bool:
    if keyword_stem == word_stem:
        return True
    return len(keyword_stem) >= MIN_PREFIX_STEM and word_stem.startswith(keyword_stem)


def question_stems(text: str) -> list[str]:
    return [stem(w) for w in words(text)]


def matching_keywords(keywords: list[Keyword], text: str) -> list[str]:
    """The keywords (as written in the policy) that occur in ``text``."""
    stems = question_stems(text)
    return [k.text for k in keywords if k.found_in(stems)]
