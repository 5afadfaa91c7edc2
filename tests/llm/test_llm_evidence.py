"""Citation checking: forgiving about typography, strict about words."""

from __future__ import annotations

import pytest

from supportbot.llm.evidence import names_passage, verify_evidence
from supportbot.llm.types import Draft, Evidence
from supportbot.retrieval.types import Passage


def draft_with(*quotes: tuple[str, str]) -> Draft:
    return Draft(
        classification="x",
        evidence=[Evidence(source=s, quote=q) for s, q in quotes],
        draft_response="...",
        confidence=0.5,
        escalate=False,
    )


@pytest.mark.parametrize(
    "quote",
    [
        "open Settings > Security and choose Reset password",  # Markdown emphasis removed
        "We send a reset link to your account's e-mail address",  # straight apostrophe
        "we SEND a reset   link",  # case and spacing
        '"The link expires after 24 hours."',  # wrapping quotes and the full stop
        "To reset your password ... choose *Reset password*",  # an ellipsis between parts
        "To reset your password … The link expires",
    ],
)
def test_real_quotes_survive_normalisation(quote: str, passages: list[Passage]) -> None:
    checked, invented = verify_evidence(draft_with(("accounts/password.md", quote)), passages)

    assert invented == []
    assert checked.evidence == [Evidence(source="accounts/password.md", quote=quote.strip())]


@pytest.mark.parametrize(
    "quote",
    [
        "The link expires after 48 hours.",  # one word changed
        "The link expires ... after 24 days",  # a fragment that is not there
        "The link expires after 24 hours ... To reset your password",  # parts out of order
        "...",  # nothing quotable
        "",
    ],
)
def test_changed_or_empty_quotes_are_invented(quote: str, passages: list[Passage]) -> None:
    checked, invented = verify_evidence(draft_with(("accounts/password.md", quote)), passages)

    assert checked.evidence == []
    assert invented == [Evidence(source="accounts/password.md", quote=quote)]


def test_duplicate_citations_are_kept_once(passages: list[Passage]) -> None:
    quote = "The link expires after 24 hours."
    checked, _ = verify_evidence(
        draft_with(("accounts/password.md", quote), ("accounts/password", quote)), passages
    )

    assert checked.evidence == [Evidence(source="accounts/password.md", quote=quote)]


@pytest.mark.parametrize(
    ("cited", "expected"),
    [
        ("accounts/password.md", True),
        ("accounts/password", True),
        ("knowledge/accounts/password.md > Passwords", True),
        ("password.md", True),
        ("accounts/passwords.md", False),
        ("", False),
    ],
)
def test_names_passage(cited: str, expected: bool, passages: list[Passage]) -> None:
    assert names_passage(cited, passages[1]) is expected
