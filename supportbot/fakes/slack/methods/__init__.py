"""The Web API methods the fake implements, with Slack's semantics and error names.

Importing this package registers every method in :data:`METHODS`.
"""

from . import auth, chat, conversations, files, reactions, users, views
from .base import (
    APP_TOKEN_METHODS,
    JSON_FIELDS,
    METHODS,
    ApiContext,
    Args,
    Handler,
    TokenKind,
    decode_json_fields,
    method,
)

__all__ = [
    "APP_TOKEN_METHODS",
    "JSON_FIELDS",
    "METHODS",
    "ApiContext",
    "Args",
    "Handler",
    "TokenKind",
    "auth",
    "chat",
    "conversations",
    "decode_json_fields",
    "files",
    "method",
    "reactions",
    "users",
    "views",
]
