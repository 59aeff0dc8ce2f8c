"""Which problems an operation can answer, derived from what it takes.

An operation answers only what its inputs and its guard can cause: a credential
(401, 403), a JSON body (400, 413, 415, 422), a path id (404, and 422 for a NUL),
query values (422), plus what the operation declares itself (``opt["errors"]``:
e.g. the idempotency and upstream codes of an action). Every operation can fail
inside (500) or find the database or Redis away (503).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from hub.web.errors import CODES, ProblemCode

_REF = "#/components/schemas/Problem"

_BY_SECURITY: dict[str, tuple[ProblemCode, ...]] = {
    "apiKey": ("UNAUTHENTICATED", "KEY_EXPIRED", "KEY_REVOKED", "INTEGRATION_DISABLED"),
    # A tenant admin token on a platform-only operation: FORBIDDEN_SCOPE.
    "adminToken": ("UNAUTHENTICATED", "TENANT_DISABLED", "FORBIDDEN_SCOPE"),
}
_BODY: tuple[ProblemCode, ...] = (
    "MALFORMED_JSON",
    "PAYLOAD_TOO_LARGE",
    "UNSUPPORTED_MEDIA_TYPE",
    "VALIDATION_FAILED",
)
_PATH: tuple[ProblemCode, ...] = ("NOT_FOUND", "VALIDATION_FAILED")
_QUERY: tuple[ProblemCode, ...] = ("VALIDATION_FAILED",)
_ALWAYS: tuple[ProblemCode, ...] = ("INTERNAL", "UNAVAILABLE")

# Problems that tell the client when to come back.
_RETRY_AFTER: set[ProblemCode] = {
    "RATE_LIMITED",
    "QUOTA_EXCEEDED",
    "IDEMPOTENCY_IN_PROGRESS",
    "UNAVAILABLE",
}


def operation_codes(
    *,
    security: str | None,
    has_body: bool,
    has_path_params: bool,
    has_query_params: bool,
    declared: Iterable[str] = (),
) -> set[ProblemCode]:
    codes: set[str] = set(_ALWAYS) | set(declared)
    if security is not None:
        codes |= set(_BY_SECURITY[security])
    if has_body:
        codes |= set(_BODY)
    if has_path_params:
        codes |= set(_PATH)
    if has_query_params:
        codes |= set(_QUERY)
    unknown = codes - CODES.keys()
    if unknown:
        raise ValueError(f"undocumented problem codes {sorted(unknown)}")
    # ``declared`` comes untyped from a handler's ``opt``; every code is now known.
    return cast("set[ProblemCode]", codes)


def problem_responses(codes: Iterable[ProblemCode]) -> dict[str, Any]:
    """One response per status, naming its codes, with the problem schema."""
    by_status: dict[int, list[ProblemCode]] = {}
    for code in sorted(codes):
        by_status.setdefault(CODES[code][0], []).append(code)
    responses: dict[str, Any] = {}
    for status, names in sorted(by_status.items()):
        response: dict[str, Any] = {
            "description": "; ".join(f"`{c}`: {CODES[c][1]}" for c in names),
            "content": {"application/problem+json": {"schema": {"$ref": _REF}}},
            "headers": {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}},
        }
        if _RETRY_AFTER.intersection(names):
            response["headers"]["Retry-After"] = {"$ref": "#/components/headers/Retry-After"}
        if status == 401:
            response["headers"]["WWW-Authenticate"] = {
                "$ref": "#/components/headers/WWW-Authenticate"
            }
        if status == 429:
            for name in ("RateLimit", "RateLimit-Policy"):
                response["headers"][name] = {"$ref": f"#/components/headers/{name}"}
        responses[str(status)] = response
    return responses


HEADERS: dict[str, Any] = {
    "X-Request-Id": {
        "description": "The request's id: the `correlation_id` of problems and audit "
        "entries, and the `request_id` of log lines.",
        "required": True,
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    "WWW-Authenticate": {
        "description": 'The scheme to authenticate with: `Bearer realm="hub"`.',
        "schema": {"type": "string"},
    },
    "RateLimit": {
        "description": 'IETF draft RateLimit: `"<policy>";r=<remaining>;t=<seconds until '
        "full>` for each limit (integration-minute, tenant-minute, tenant-day).",
        "schema": {"type": "string"},
    },
    "RateLimit-Policy": {
        "description": 'IETF draft RateLimit-Policy: `"<policy>";q=<quota>;w=<window '
        "seconds>` for each limit.",
        "schema": {"type": "string"},
    },
    "Idempotent-Replayed": {
        "description": "`true` when the answer is the stored one of an earlier request "
        "with this Idempotency-Key (byte for byte); absent on the first answer.",
        "schema": {"type": "string", "enum": ["true"]},
    },
}
