"""Exception handlers: every error leaves as problem+json with the request id."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import sqlalchemy.exc
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from hub.web.context import current_request_id
from hub.web.errors import PROBLEM_CONTENT_TYPE, FieldError, ProblemCode, ProblemError

log = logging.getLogger("hub.web")

_STATUS_CODES: dict[int, ProblemCode] = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN_SCOPE",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_FAILED",
    429: "RATE_LIMITED",
    502: "UPSTREAM_ERROR",
    503: "UNAVAILABLE",
    504: "UPSTREAM_TIMEOUT",
}

_SAFE_DETAILS = {
    404: "no route matches this path",
    405: "this path does not answer that method",
    413: "the request body is larger than allowed",
}


def problem_response(exc: ProblemError) -> Response[bytes]:
    headers = {"cache-control": "no-store", **exc.headers}
    return Response(
        content=exc.body(current_request_id()),
        status_code=exc.status,
        media_type=PROBLEM_CONTENT_TYPE,
        headers=headers,
    )


def handle_problem(_request: Request[Any, Any, Any], exc: ProblemError) -> Response[bytes]:
    return problem_response(exc)


def handle_http_exception(_request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    if isinstance(exc, ValidationException):
        extra = exc.extra if isinstance(exc.extra, list) else []
        errors = [
            FieldError(path=f"$.{e.get('key', '')}", message=str(e.get("message", "invalid")))
            for e in extra
            if isinstance(e, dict)
        ]
        return problem_response(
            ProblemError("VALIDATION_FAILED", "the request parameters are invalid", errors=errors)
        )
    status = exc.status_code
    fallback: ProblemCode = "INTERNAL" if status >= 500 else "BAD_REQUEST"
    code = _STATUS_CODES.get(status, fallback)
    detail = _SAFE_DETAILS.get(status)
    headers = dict(exc.headers or {})
    problem = ProblemError(code, detail, status=status, headers=headers)
    return problem_response(problem)


# A store that cannot be reached (Postgres down, restarting, failing over; the
# connection cut mid-request): the request changed nothing it can report, so it is a
# 503 the client retries, not a 500. Listed here, not imported from hub.store: the
# kernel's packages stand side by side.
_UNREACHABLE: tuple[type[BaseException], ...] = (
    ConnectionError,  # refused, reset, aborted (OSError's connection family)
    TimeoutError,
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,  # no pooled connection came free in time
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
)


def _unreachable(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(5):  # the driver's error is often wrapped (SQLAlchemy, asyncpg)
        if seen is None:
            return False
        if isinstance(seen, _UNREACHABLE):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def handle_unexpected(_request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    if _unreachable(exc):
        log.warning("a store is unreachable: 503", extra={"error": type(exc).__name__})
        return problem_response(
            ProblemError(
                "UNAVAILABLE",
                "the hub cannot reach its database; retry shortly",
                headers={"Retry-After": "5"},
            )
        )
    log.error("unhandled error", exc_info=exc)
    return problem_response(ProblemError("INTERNAL", "an internal error occurred"))


EXCEPTION_HANDLERS: dict[Any, Any] = {
    ProblemError: handle_problem,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}
