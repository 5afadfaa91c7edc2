"""Keyword triggers: case-insensitive, word boundaries, inflection, phrases with small gaps."""

from __future__ import annotations

import pytest

from supportbot.routing.keywords import Keyword, matching_keywords, question_words


def hits(keyword: str, text: str) -> bool:
    return bool(matching_keywords([Keyword.compile(keyword)], text))


@pytest.mark.parametrize(
    ("keyword", "text"),
    [
        ("refund", "I want a REFUND"),
        ("refund", "they refunded me twice"),
        ("refund", "Refunds?"),
        ("chargeback", "We filed chargebacks"),
        ("fraud", "a fraudulent charge"),  # derived form that starts with the written word
        ("police", "the policeman called"),
        ("Chargeback", "CHARGEBACKS filed"),
        ("sue", "we will be suing you"),
        ("sue", "they sued us"),
        ("delete data", "please delete all my data"),  # two words between
        ("lost card", "I lost my credit card"),
        ("GDPR", "this is a gdpr request"),
        ("account takeover", "Account-takeover attempt"),
        ("don't", "I don’t know"),  # typographic apostrophe
    ],
)
def test_matches(keyword: str, text: str) -> None:
    assert hits(keyword, text)


@pytest.mark.parametrize(
    ("keyword", "text"),
    [
        ("card", "my cardinal is lost"),  # short stems do not match longer words
        ("sue", "I have an issue"),  # word boundary
        ("refund", "how do I request a reimbursement"),  # meaning is the embedder's job
        ("lost card", "card lost"),  # order matters
        ("delete data", "delete the old exported project data"),  # more than two words between
        ("MSA", "msaccess export"),
        ("police", "what is your refund policy?"),  # "polic" is a stem, not a written prefix
        ("police", "our policies say otherwise"),
        ("fraud", "fradulent"),  # a misspelling is not a derived form
    ],
)
def test_does_not_match(keyword: str, text: str) -> None:
    assert not hits(keyword, text)


def test_returns_the_keywords_as_written_in_the_policy() -> None:
    keywords = [Keyword.compile(k) for k in ["Chargeback", "money back", "lawyer"]]
    assert matching_keywords(keywords, "chargebacks and our lawyers") == ["Chargeback", "lawyer"]


def test_empty_keyword_never_matches() -> None:
    assert not Keyword.compile("!!!").found_in(question_words("anything"))
