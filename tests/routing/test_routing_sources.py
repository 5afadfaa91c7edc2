"""Source patterns: which knowledge-base pages or sections a policy category owns."""

from __future__ import annotations

from pathlib import Path

import pytest
from routing_support import passage

from supportbot.routing.policy import load_policy
from supportbot.routing.sources import (
    SourcePattern,
    SourcePatterns,
    problem_with_pattern,
    unmatched_patterns,
)

REPO = Path(__file__).resolve().parents[2]


def claims(pattern: str, doc_id: str, heading: str = "") -> bool:
    return SourcePattern.compile(pattern).matches(doc_id, heading)


@pytest.mark.parametrize(
    ("pattern", "doc_id"),
    [
        ("security/leaked-api-keys", "security/leaked-api-keys"),
        ("security/leaked-api-keys.md", "security/leaked-api-keys"),  # the suffix is optional
        ("security/*", "security/leaked-api-keys"),
        ("security/**", "security/incidents/takeover"),
        ("security/", "security/incidents/takeover"),  # a folder: everything under it
        ("**/takeover", "security/incidents/takeover"),
        ("billing/refund-?olicy", "billing/refund-policy"),
        ("faq (old)/a[1]", "faq (old)/a[1]"),  # brackets and parentheses are literal
    ],
)
def test_paths_that_match(pattern: str, doc_id: str) -> None:
    assert claims(pattern, doc_id)


@pytest.mark.parametrize(
    ("pattern", "doc_id"),
    [
        ("security/*", "security/incidents/takeover"),  # one '*' stays in its folder
        ("security/leaked-api-keys", "security/leaked-api-keys-2"),  # whole id, not a prefix
        ("security/**", "privacy/security-notes"),
        ("billing/refund-policy", "Billing/refund-policy"),  # doc ids are case-sensitive
        ("faq (old)/a[1]", "faq (old)/a1"),
    ],
)
def test_paths_that_do_not_match(pattern: str, doc_id: str) -> None:
    assert not claims(pattern, doc_id)


def test_a_heading_pattern_claims_one_section_and_its_subsections() -> None:
    pattern = "billing/refund-policy#exceptions*"
    doc = "billing/refund-policy"
    assert claims(pattern, doc, "Refund policy > Exceptions (require approval)")
    assert claims(pattern, doc, "Refund policy > Exceptions (require approval) > Over $5,000")
    assert not claims(pattern, doc, "Refund policy > Summary")
    assert not claims(pattern, doc, "")  # the text before the first heading
    assert not claims(pattern, "billing/billing-faq", "Billing FAQ > Exceptions")


def test_owner_names_the_first_pattern_that_claims_a_passage() -> None:
    patterns = SourcePatterns.compile(["privacy/*#Legal holds", "privacy/**"])
    held = passage(doc="privacy/data-retention").model_copy(
        update={"heading": "Data retention > Legal holds"}
    )
    other = passage(doc="privacy/data-retention").model_copy(update={"heading": "Data retention"})
    assert patterns.owner(held) == "privacy/*#Legal holds"
    assert patterns.owner(other) == "privacy/**"
    assert patterns.owner(passage(doc="billing/refunds")) is None
    assert not SourcePatterns.compile([])


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("", "needs a page or folder path"),
        ("#Exceptions", "needs a page or folder path"),
        ("/security/**", "must be relative to the knowledge dir"),
        ("C:/kb/security", "must be relative to the knowledge dir"),
        ("security\\takeover", "use '/' between folders"),
        ("security/../billing", "must not contain empty, '.' or '..' path segments"),
        ("security//takeover", "must not contain empty, '.' or '..' path segments"),
        ("billing/refund-policy#", "nothing after '#'"),
        (" security/**", "must not start or end with spaces"),
    ],
)
def test_unusable_patterns_say_why(pattern: str, problem: str) -> None:
    found = problem_with_pattern(pattern)
    assert found is not None
    assert problem in found
    with pytest.raises(ValueError, match="source pattern"):
        SourcePattern.compile(pattern)


def test_usable_patterns_have_no_problem() -> None:
    for pattern in ["security/**", "security/", "a/b.md#Contact support when*", "**"]:
        assert problem_with_pattern(pattern) is None


def test_unmatched_patterns_find_typos() -> None:
    doc_ids = ["security/leaked-api-keys", "billing/refund-policy"]
    patterns = ["security/leaked-api-key", "billing/refund-policy#Exceptions*", "security/*"]
    assert unmatched_patterns(patterns, doc_ids) == ["security/leaked-api-key"]


def test_the_sample_policy_sources_name_existing_pages() -> None:
    policy = load_policy(REPO / "policies")
    doc_ids = [
        p.relative_to(REPO / "knowledge").with_suffix("").as_posix()
        for p in (REPO / "knowledge").rglob("*.md")
    ]
    patterns = [s for category in policy.categories.values() for s in category.sources or []]
    assert patterns  # the sample policy uses the feature
    assert unmatched_patterns(patterns, doc_ids) == []
