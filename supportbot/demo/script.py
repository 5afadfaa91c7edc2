"""The demo's scripted conversation: who asks what where, and what the reviewers do.

The questions were picked by running them through the shipped ``policies/`` and
``knowledge/`` (``supportbot ask``): the routine one is one the offline executor answers with
enough confidence; the others leave the routine lane for the policy's own reasons. Nothing
in the product knows about them: the demo plays them through the real Slack app and reacts
to what it does (a review action happens only if a review message is there to act on).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ReviewAction = Literal["approve", "edit"]


@dataclass(frozen=True)
class Review:
    """What a reviewer does with the review message, if one is posted."""

    reviewer: str
    action: ReviewAction
    edited: str | None = None  # the answer the reviewer writes (``edit``)


@dataclass(frozen=True)
class Scene:
    title: str
    note: str  # what the scene shows, printed under its title
    user: str
    channel: str
    text: str
    trigger: Literal["message", "mention"]  # a plain message (support channel, DM) or @mention
    review: Review | None = None


ASKER = "U0ALICE"
APPROVER = "U0BOB"
EDITOR = "U0CAROL"

SCENES: tuple[Scene, ...] = (
    Scene(
        title="A routine question",
        note="Posted in #support, where every top-level message is a question: answered in "
        "the thread from the knowledge base, with its sources.",
        user=ASKER,
        channel="C0SUPPORT",
        text="How do I turn on two-factor authentication for my account?",
        trigger="message",
    ),
    Scene(
        title="A refund exception",
        note="The policy says refund exceptions need a person: the bot drafts, a reviewer "
        "approves in #support-review, and the answer reaches the asker marked as reviewed.",
        user=ASKER,
        channel="C0GENERAL",
        text="We forgot to cancel and our annual plan renewed two months ago. "
        "Can we get our money back?",
        trigger="mention",
        review=Review(reviewer=APPROVER, action="approve"),
    ),
    Scene(
        title="A contract question for the frontier tier",
        note="The policy sends enterprise-contract questions to the frontier model, which "
        "answers or hands them to people; without ANTHROPIC_API_KEY they go to people, with "
        "that reason. If it reaches the reviewers, nobody acts on it in the demo: the digest "
        "counts it as pending.",
        user=ASKER,
        channel="D0ALICE",
        text="Our MSA says 60 days' notice for cancellation. "
        "Does that override your standard cancellation policy?",
        trigger="message",
    ),
    Scene(
        title="A privacy request, edited by a reviewer",
        note="GDPR requests always go to a person (compliance). The reviewer rewrites the "
        "draft with Edit & send: a modal prefilled with the draft, then Send.",
        user=ASKER,
        channel="C0SUPPORT",
        text="Please delete all the personal data you hold about me. "
        "I'm exercising my right to be forgotten under GDPR.",
        trigger="message",
        review=Review(
            reviewer=EDITOR,
            action="edit",
            edited=(
                "Thanks, your deletion request is with our privacy team. First we confirm it "
                "comes from you: please click the confirmation link we email to the address "
                "on your account. We reply within one month, as GDPR requires. We then delete "
                "your account data and support conversations and remove you from our "
                "marketing lists; invoices are kept for 7 years because tax law requires it."
            ),
        ),
    ),
)
