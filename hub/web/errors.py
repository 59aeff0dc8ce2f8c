"""RFC 9457 problems: the one error shape every endpoint answers.

Services raise ``ProblemError`` with a stable ``code``; the web layer renders it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import msgspec

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://docs.hub.dev/problems/"

# Every problem code, so mypy rejects a misspelt one at the raise site. A new code goes
# here and into CODES (tests/foundation/test_problem_codes.py checks they agree).
ProblemCode = Literal[
    "UNAUTHENTICATED",
    "KEY_EXPIRED",
    "KEY_REVOKED",
    "FORBIDDEN_SCOPE",
    "FORBIDDEN",
    "INTEGRATION_DISABLED",
    "TENANT_DISABLED",
    "NOT_FOUND",
    "METHOD_NOT_ALLOWED",
    "MALFORMED_JSON",
    "BAD_REQUEST",
    "IDEMPOTENCY_KEY_MISSING",
    "IDEMPOTENCY_KEY_INVALID",
    "IDEMPOTENCY_IN_PROGRESS",
    "CONFLICT",
    "VALIDATION_FAILED",
    "IDEMPOTENCY_KEY_REUSED",
    "TARGET_NOT_ALLOWED",
    "NO_HANDLER",
    "RECIPIENT_SUPPRESSED",
    "PAYLOAD_TOO_LARGE",
    "UNSUPPORTED_MEDIA_TYPE",
    "RATE_LIMITED",
    "QUOTA_EXCEEDED",
    "INTERNAL",
    "UPSTREAM_ERROR",
    "UNAVAILABLE",
    "UPSTREAM_TIMEOUT",
]

# code -> (HTTP status, title). Part of the public contract (docs/api.md, "Errors").
CODES: dict[ProblemCode, tuple[int, str]] = {
    "UNAUTHENTICATED": (401, "Authentication required"),
    "KEY_EXPIRED": (401, "API key expired"),
    "KEY_REVOKED": (401, "API key revoked"),
    "FORBIDDEN_SCOPE": (403, "Scope not granted"),
    "FORBIDDEN": (403, "Forbidden"),
    "INTEGRATION_DISABLED": (403, "Integration disabled"),
    "TENANT_DISABLED": (403, "Tenant disabled"),
    "NOT_FOUND": (404, "Not found"),
    "METHOD_NOT_ALLOWED": (405, "Method not allowed"),
    "MALFORMED_JSON": (400, "Malformed JSON"),
    "BAD_REQUEST": (400, "Bad request"),
    "IDEMPOTENCY_KEY_MISSING": (400, "Idempotency-Key header missing"),
    "IDEMPOTENCY_KEY_INVALID": (400, "Idempotency-Key header invalid"),
    "IDEMPOTENCY_IN_PROGRESS": (409, "Request with this Idempotency-Key in progress"),
    "CONFLICT": (409, "Conflict"),
    "VALIDATION_FAILED": (422, "Validation failed"),
    "IDEMPOTENCY_KEY_REUSED": (422, "Idempotency-Key reused with another request"),
    "TARGET_NOT_ALLOWED": (422, "Target URL not allowed"),
    "NO_HANDLER": (422, "Nothing carries out this action"),
    "RECIPIENT_SUPPRESSED": (422, "Recipient suppressed"),
    "PAYLOAD_TOO_LARGE": (413, "Payload too large"),
    "UNSUPPORTED_MEDIA_TYPE": (415, "Unsupported media type"),
    "RATE_LIMITED": (429, "Rate limited"),
    "QUOTA_EXCEEDED": (429, "Quota exceeded"),
    "INTERNAL": (500, "Internal error"),
    "UPSTREAM_ERROR": (502, "Upstream error"),
    "UNAVAILABLE": (503, "Service unavailable"),
    "UPSTREAM_TIMEOUT": (504, "Upstream timeout"),
}


class FieldError(msgspec.Struct, frozen=True):
    path: str
    message: str


class Problem(msgspec.Struct, omit_defaults=True):
    type: str
    title: str
    status: int
    code: str
    detail: str
    correlation_id: str = ""
    errors: list[FieldError] = []


class ProblemError(Exception):
    """Raise to answer a problem. ``detail`` must never hold a secret or personal data."""

    def __init__(
        self,
        code: ProblemCode,
        detail: str | None = None,
        *,
        errors: Sequence[FieldError] = (),
        headers: Mapping[str, str] | None = None,
        status: int | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        if code not in CODES:
            raise ValueError(f"unknown problem code {code}")
        default_status, title = CODES[code]
        self.code: ProblemCode = code
        self.status = status or default_status
        self.title = title
        self.detail = detail or title
        self.errors = list(errors)
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})
        super().__init__(f"{code}: {self.detail}")

    def to_problem(self, correlation_id: str) -> Problem:
        return Problem(
            type=PROBLEM_TYPE_BASE + self.code.lower().replace("_", "-"),
            title=self.title,
            status=self.status,
            code=self.code,
            detail=self.detail,
            correlation_id=correlation_id,
            errors=self.errors,
        )

    def body(self, correlation_id: str) -> bytes:
        encoded = msgspec.json.encode(self.to_problem(correlation_id))
        if not self.extra:
            return encoded
        merged = msgspec.json.decode(encoded)
        merged.update(self.extra)
        return msgspec.json.encode(merged)
