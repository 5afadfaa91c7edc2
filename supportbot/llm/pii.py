"""Masking personal data before text leaves for a third-party model.

Detected, in this order (earlier kinds win where matches overlap):

- ``EMAIL``: e-mail addresses;
- ``IBAN``: upper-case IBANs, plain or in groups of four, with a valid ISO 13616 checksum
  (IBAN-shaped text with a bad checksum is masked as ``ACCOUNT``: a mistyped account number);
- ``CARD``: 13 to 19 digit numbers (plain, or grouped with spaces or dashes) passing the Luhn
  check;
- ``ACCOUNT``: digit runs of six or more introduced by "account", "acct", "a/c", "routing" or
  "sort code" (with optional "number", "no.", "#", ":" or "is");
- ``PHONE``: numbers with 10 to 15 digits (7 to 15 when written with a leading "+"), grouped
  with spaces, dots, dashes or parentheses; dates such as ``2024-01-31`` have too few digits.

Each distinct value becomes a numbered placeholder such as ``[EMAIL_1]``; the same value gets
the same placeholder everywhere a :class:`PiiMasker` is used, so the model can still tell two
addresses apart. :meth:`PiiMasker.unmask` puts values back (e.g. the customer's own address in
the final answer) for the kinds the caller allows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from typing import Literal

PiiKind = Literal["EMAIL", "IBAN", "CARD", "ACCOUNT", "PHONE"]
PII_KINDS: tuple[PiiKind, ...] = ("EMAIL", "IBAN", "CARD", "ACCOUNT", "PHONE")

_EMAIL = re.compile(r"(?<![\w.+-])[\w.%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")
_DIGIT_GROUPS = re.compile(r"(?<![\w])\d+(?:[ -]\d+)*(?![\w])")
_ACCOUNT = re.compile(
    r"(?i)\b(?:account|acct|a/c|routing|sort\s+code)"
    r"(?:\s+(?:number|num|no\.?|#))?\s*(?:is\s+|:\s*|#\s*|=\s*)?"
    r"(\d(?:[\d -]*\d)?)(?![\w])"
)
_PHONE = re.compile(r"(?<![\w+])(?:\+\s?)?(?:\(\d{1,5}\)[\s.-]?)?\d[\d\s().-]*\d(?![\w])")
_PLACEHOLDER = re.compile(r"\[(EMAIL|IBAN|CARD|ACCOUNT|PHONE)_\d+\]")


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def iban_valid(compact: str) -> bool:
    if not 15 <= len(compact) <= 34 or not compact.isalnum():
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


class PiiMasker:
    """Replaces personal data with placeholders and remembers them for :meth:`unmask`."""

    def __init__(self) -> None:
        self._placeholders: dict[tuple[str, str], str] = {}
        self._originals: dict[str, str] = {}
        self._counts: dict[str, int] = {}

    @property
    def counts(self) -> dict[str, int]:
        """How many distinct values of each kind were masked."""
        return dict(self._counts)

    @property
    def originals(self) -> dict[str, str]:
        """Placeholder -> original text."""
        return dict(self._originals)

    def _placeholder(self, kind: PiiKind, original: str, key: str) -> str:
        existing = self._placeholders.get((kind, key))
        if existing is not None:
            return existing
        self._counts[kind] = self._counts.get(kind, 0) + 1
        placeholder = f"[{kind}_{self._counts[kind]}]"
        self._placeholders[(kind, key)] = placeholder
        self._originals[placeholder] = original
        return placeholder

    def mask(self, text: str) -> str:
        text = _EMAIL.sub(
            lambda m: self._placeholder("EMAIL", m.group(0), m.group(0).lower()), text
        )
        text = _IBAN.sub(self._iban, text)
        text = _DIGIT_GROUPS.sub(self._card, text)
        text = _ACCOUNT.sub(self._account, text)
        return _PHONE.sub(self._phone, text)

    def unmask(self, text: str, kinds: Collection[str] = ("EMAIL", "PHONE")) -> str:
        """Put back the original values of placeholders of the given kinds."""

        def restore(match: re.Match[str]) -> str:
            if match.group(1) not in kinds:
                return match.group(0)
            return self._originals.get(match.group(0), match.group(0))

        return _PLACEHOLDER.sub(restore, text)

    # -- per kind ------------------------------------------------------------------
    def _iban(self, match: re.Match[str]) -> str:
        span = match.group(0)
        compact = span.replace(" ", "")
        # The pattern may run on into a following group; try the longest valid prefix.
        for end in range(len(compact), 14, -1):
            if iban_valid(compact[:end]):
                cut = _position_after(span, end, str.isalnum)
                return self._placeholder("IBAN", span[:cut], compact[:end]) + span[cut:]
        if len(compact) >= 15 and sum(ch.isdigit() for ch in compact) >= 8:
            # IBAN-shaped with a bad checksum: most likely a mistyped account; still masked.
            return self._placeholder("ACCOUNT", span, compact)
        return span

    def _card(self, match: re.Match[str]) -> str:
        span = match.group(0)
        groups = re.split(r"([ -])", span)
        numbers = groups[0::2]
        # The longest run of whole groups that forms a Luhn-valid 13-19 digit number.
        best: tuple[int, int] | None = None
        for start in range(len(numbers)):
            for stop in range(len(numbers), start, -1):
                digits = "".join(numbers[start:stop])
                if 13 <= len(digits) <= 19 and luhn_valid(digits):
                    if best is None or stop - start > best[1] - best[0]:
                        best = (start, stop)
                    break
        if best is None:
            return span
        start, stop = best
        before = "".join(groups[: 2 * start])
        inside = "".join(groups[2 * start : 2 * stop - 1])
        after = "".join(groups[2 * stop - 1 :])
        digits = "".join(numbers[start:stop])
        return before + self._placeholder("CARD", inside, digits) + after

    def _account(self, match: re.Match[str]) -> str:
        number = match.group(1)
        digits = re.sub(r"\D", "", number)
        if len(digits) < 6:
            return match.group(0)
        start = match.start(1) - match.start(0)
        return match.group(0)[:start] + self._placeholder("ACCOUNT", number, digits)

    def _phone(self, match: re.Match[str]) -> str:
        span = match.group(0)
        digits = re.sub(r"\D", "", span)
        international = span.startswith("+")
        low = 7 if international else 10
        if not low <= len(digits) <= 15 or "  " in span or ".." in span:
            return span
        return self._placeholder("PHONE", span, digits)


def _position_after(text: str, count: int, predicate: Callable[[str], bool]) -> int:
    """The index just after the ``count``-th character of ``text`` matching ``predicate``."""
    seen = 0
    for index, char in enumerate(text):
        if predicate(char):
            seen += 1
            if seen == count:
                return index + 1
    return len(text)


def mask_pii(text: str) -> str:
    """Mask one text on its own (a fresh numbering)."""
    return PiiMasker().mask(text)
