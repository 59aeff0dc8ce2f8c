"""Validation of an integration's policy overrides (they may only narrow).

Placeholder until the sanitizer lands (issue 4): no override is accepted yet.
"""

from __future__ import annotations

from hub.web.errors import FieldError, ProblemError


def validate_overrides(overrides: dict[str, dict[str, str]]) -> None:
    if overrides:
        raise ProblemError(
            "VALIDATION_FAILED",
            "policy overrides are not supported yet",
            errors=[FieldError(path="$.policy_overrides", message="not supported yet")],
        )
