"""Alembic migrations of the store; ``supportbot.store.migrate`` runs them at open."""
