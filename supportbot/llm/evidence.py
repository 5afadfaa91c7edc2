"""Checking a draft's citations against the passages it was given.

A quote counts as found when, after normalisation, it occurs in one of the passages. The
normalisation forgives what does not change the words: Unicode compatibility forms, case,
curly versus straight quotes, dash variants, runs of whitespace, Markdown emphasis and link
syntax, and punctuation at the ends of the quote. A quote shortened with an ellipsis ("..."
or "…") counts when each part occurs, in order, in the same passage.

The quote decides, not the source it names: a quote found in a passage is kept and attributed
to that passage (the named one when it is there too), so a wrong file name does not discard a
real quote. A quote found in no passage is invented: it is dropped from the draft and reported.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from supportbot.llm.types import Draft, Evidence
from supportbot.retrieval.types import Passage

_CHARACTER_MAP = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\u00a0": " ",
    }
)
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"[*_`]+")
_SPACE = re.compile(r"\s+")
_ELLIPSIS = re.compile(r"\[\s*(?:\.\.\.|…)\s*\]|\.\.\.+|…")
_EDGE_PUNCTUATION = " \t\"'.,;:!?()[]"
_ALNUM = re.compile(r"\w")


def normalise(text: str) -> str:
    """The comparable form of a text (see the module docstring)."""
    text = unicodedata.normalize("NFKC", text).translate(_CHARACTER_MAP)
    text = _LINK.sub(r"\1", text)
    text = _EMPHASIS.sub("", text)
    return _SPACE.sub(" ", text).strip().casefold()


def quote_fragments(quote: str) -> list[str]:
    """The normalised parts of a quote, split at ellipses; empty when nothing quotable is left."""
    parts = (normalise(p).strip(_EDGE_PUNCTUATION) for p in _ELLIPSIS.split(quote))
    return [p for p in parts if _ALNUM.search(p)]


def occurs_in(fragments: Sequence[str], passage_text: str) -> bool:
    """True when every fragment occurs in the normalised passage, in order."""
    if not fragments:
        return False
    haystack = normalise(passage_text)
    position = 0
    for fragment in fragments:
        found = haystack.find(fragment, position)
        if found < 0:
            return False
        position = found + len(fragment)
    return True


def names_passage(source: str, passage: Passage) -> bool:
    """Whether a cited source refers to this passage (path, doc id, or path plus heading)."""
    cited = normalise(source).strip(_EDGE_PUNCTUATION).removeprefix("./")
    path = passage.source.casefold()
    if not cited:
        return False
    return (
        cited in (path, passage.doc_id.casefold())
        or path in cited
        or (cited.endswith(".md") and path.endswith("/" + cited))
    )


def verify_evidence(draft: Draft, passages: Sequence[Passage]) -> tuple[Draft, list[Evidence]]:
    """The draft with only citations found in ``passages``, and the invented ones dropped."""
    kept: list[Evidence] = []
    invented: list[Evidence] = []
    for item in draft.evidence:
        fragments = quote_fragments(item.quote)
        found = [p for p in passages if occurs_in(fragments, p.text)]
        if not found:
            invented.append(item)
            continue
        named = [p for p in found if names_passage(item.source, p)]
        evidence = Evidence(source=(named or found)[0].source, quote=item.quote.strip())
        if evidence not in kept:
            kept.append(evidence)
    return draft.model_copy(update={"evidence": kept}), invented
