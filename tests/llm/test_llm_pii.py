"""PII masking: what counts as personal data, and what does not."""

from __future__ import annotations

import pytest

from supportbot.llm.pii import PiiMasker, iban_valid, luhn_valid, mask_pii


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail me at Jane.Doe+billing@mail.example.co.uk.", "mail me at [EMAIL_1]."),
        ("card 4111 1111 1111 1111 expired", "card [CARD_1] expired"),
        ("card 4111-1111-1111-1111", "card [CARD_1]"),
        ("amex 378282246310005", "amex [CARD_1]"),
        ("IBAN GB82 WEST 1234 5698 7654 32 thanks", "IBAN [IBAN_1] thanks"),
        ("IBAN DE89370400440532013000", "IBAN [IBAN_1]"),
        ("my account number is 12345678", "my account number is [ACCOUNT_1]"),
        ("acct #: 0012-3456-78", "acct #: [ACCOUNT_1]"),
        ("call +44 20 7946 0958 today", "call [PHONE_1] today"),
        ("call (415) 555-0132", "call [PHONE_1]"),
        ("call 415.555.0132", "call [PHONE_1]"),
        ("call +49 30 901820", "call [PHONE_1]"),
    ],
)
def test_personal_data_is_masked(text: str, expected: str) -> None:
    assert mask_pii(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 1111 1112 (fails the Luhn check)",
        "order 12345, invoice INV-2024-0042, due 2024-01-31",
        "plan costs $1,299.00 a year for 25 seats",
        "version 1.2.3 released 31.01.2024",
        "account 42 is fine",  # too short to be an account number
        "support@ is not an address",
    ],
)
def test_ordinary_numbers_and_text_are_left_alone(text: str) -> None:
    assert mask_pii(text) == text


def test_an_iban_with_a_bad_checksum_is_masked_as_an_account() -> None:
    assert mask_pii("IBAN GB82 WEST 1234 5698 7654 33 (typo)") == "IBAN [ACCOUNT_1] (typo)"


def test_a_card_followed_by_more_digits_is_still_found() -> None:
    assert mask_pii("4111 1111 1111 1111 2025") == "[CARD_1] 2025"


def test_same_value_same_placeholder_and_counts() -> None:
    masker = PiiMasker()

    first = masker.mask("a@example.com wrote to b@example.com")
    second = masker.mask("reply to A@Example.com")

    assert first == "[EMAIL_1] wrote to [EMAIL_2]"
    assert second == "reply to [EMAIL_1]"
    assert masker.counts == {"EMAIL": 2}


def test_unmask_restores_only_the_allowed_kinds() -> None:
    masker = PiiMasker()
    masker.mask("jane@example.com, card 4111111111111111, phone +1 415 555 0132")

    restored = masker.unmask("Mail [EMAIL_1] or call [PHONE_1]; card [CARD_1]; [EMAIL_9]")

    assert restored == ("Mail jane@example.com or call +1 415 555 0132; card [CARD_1]; [EMAIL_9]")
    assert masker.unmask("[CARD_1]", kinds=("CARD",)) == "4111111111111111"


def test_checksums() -> None:
    assert luhn_valid("4111111111111111")
    assert not luhn_valid("4111111111111112")
    assert iban_valid("GB82WEST12345698765432")
    assert not iban_valid("GB82WEST12345698765433")
