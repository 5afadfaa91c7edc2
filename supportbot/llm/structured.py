"""Helpers for structured model output: validation errors a model can read and act on."""

from __future__ import annotations

from pydantic import ValidationError

_MAX_REPORTED_ERRORS = 8


def describe_validation_error(error: ValidationError) -> str:
    """A compact list of what failed (``field: problem; ...``), fed back in repair turns."""
    errors = error.errors()
    parts = []
    for item in errors[:_MAX_REPORTED_ERRORS]:
        location = ".".join(str(p) for p in item["loc"]) or "(whole reply)"
        parts.append(f"{location}: {item['msg']}")
    if len(errors) > _MAX_REPORTED_ERRORS:
        parts.append(f"... and {len(errors) - _MAX_REPORTED_ERRORS} more")
    return "; ".join(parts)
