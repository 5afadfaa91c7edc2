"""Bolt listeners, one module per concern. Each acks within milliseconds: it decides,
records what must survive a crash, and hands the rest to the worker pools."""

from __future__ import annotations

from slack_bolt import App

from supportbot.slack.listeners import commands, feedback, messages, review
from supportbot.slack.listeners.context import ListenerContext

__all__ = ["ListenerContext", "register"]


def register(app: App, context: ListenerContext) -> None:
    """Attach every listener the manifest subscribes to."""
    messages.register(app, context)
    feedback.register(app, context)
    review.register(app, context)
    commands.register(app, context)
