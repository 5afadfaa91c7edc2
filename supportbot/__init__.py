"""supportbot: a Slack support bot that answers from your knowledge base and knows when not to."""

__version__ = "0.1.0"
