"""The reviewers' buttons (Approve / Edit & send / Reject) and the two modals.

A modal submission is checked synchronously — an empty answer or reason comes back as
``response_action: errors`` under the field — and applied on the interactions pool."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from supportbot.slack import blocks
from supportbot.slack.listeners.context import ListenerContext, clicked

EMPTY_ANSWER = "Write the answer to send, or close this and use Approve or Reject."
EMPTY_REASON = "Say why, so the team knows what to follow up on."


def register(app: App, context: ListenerContext) -> None:
    reviewing = context.reviewing

    @app.action(blocks.REVIEW_APPROVE)
    def on_approve(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        user, escalation_id, channel = clicked(body)
        ephemeral = context.ephemeral_via(body.get("response_url"), channel, user)
        context.later(
            lambda: reviewing.approve(escalation_id, reviewer=user, ephemeral=ephemeral),
            ephemeral,
            what="approve",
        )

    @app.action(blocks.REVIEW_EDIT)
    def on_edit(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        user, escalation_id, channel = clicked(body)
        ephemeral = context.ephemeral_via(body.get("response_url"), channel, user)
        trigger_id = str(body.get("trigger_id") or "")
        context.later(
            lambda: reviewing.open_edit(
                escalation_id, user=user, trigger_id=trigger_id, ephemeral=ephemeral
            ),
            ephemeral,
            what="open edit",
        )

    @app.action(blocks.REVIEW_REJECT)
    def on_reject(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        user, escalation_id, channel = clicked(body)
        ephemeral = context.ephemeral_via(body.get("response_url"), channel, user)
        trigger_id = str(body.get("trigger_id") or "")
        context.later(
            lambda: reviewing.open_reject(
                escalation_id, user=user, trigger_id=trigger_id, ephemeral=ephemeral
            ),
            ephemeral,
            what="open reject",
        )

    def submission(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], block_id: str, empty: str
    ) -> tuple[str, str, str] | None:
        """(user, escalation id, text) of a valid submission; otherwise acks with errors."""
        user = str(body["user"]["id"])
        text = blocks.input_value(view, block_id).strip()
        if not text:
            ack(response_action="errors", errors={block_id: empty})
            return None
        if not reviewing.reviewers.allows(user):
            ack(response_action="errors", errors={block_id: blocks.REFUSAL_TEXT})
            return None
        escalation_id = blocks.decode_metadata(view.get("private_metadata")).get("escalation_id")
        if not escalation_id:
            ack(response_action="errors", errors={block_id: "This form is out of date."})
            return None
        ack()
        return user, escalation_id, text

    @app.view(blocks.EDIT_CALLBACK)
    def on_edit_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        found = submission(ack, body, view, blocks.ANSWER_BLOCK, EMPTY_ANSWER)
        if found is None:
            return
        user, escalation_id, text = found
        ephemeral = context.ephemeral_via(None, context.review_channel, user)
        context.later(
            lambda: reviewing.edit(escalation_id, reviewer=user, answer=text, ephemeral=ephemeral),
            ephemeral,
            what="edit",
        )

    @app.view(blocks.REJECT_CALLBACK)
    def on_reject_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        found = submission(ack, body, view, blocks.REASON_BLOCK, EMPTY_REASON)
        if found is None:
            return
        user, escalation_id, reason = found
        ephemeral = context.ephemeral_via(None, context.review_channel, user)
        context.later(
            lambda: reviewing.reject(
                escalation_id, reviewer=user, reason=reason, ephemeral=ephemeral
            ),
            ephemeral,
            what="reject",
        )
