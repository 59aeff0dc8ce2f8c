"""Checks of every request before any handler runs: no NUL in the URL, no
compressed body.

Postgres cannot store or compare text holding NUL (SQLite would), so a NUL reaching
a query is a 500 on one backend and a silent mismatch on the other. Bodies are held
to the same rule at decoding (``hub.web.decoding``); here the values of the URL.
The rule: a NUL in a path or query value (or a query name) is 422
``VALIDATION_FAILED`` at ``$.<parameter name>`` — for path ids too, so the answer
names what was wrong instead of pretending the object is missing.

A body under a ``Content-Encoding`` other than ``identity`` is 415
``UNSUPPORTED_MEDIA_TYPE`` with ``Accept-Encoding: identity`` (RFC 9110 §15.5.16).
The hub refuses rather than decompresses: a few KiB of gzip can inflate past any
body limit, and bodies are small JSON.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from litestar.types import ASGIApp, Receive, Scope, Send

from hub.web.errors import FieldError, ProblemError
from hub.web.input_rules import MAX_REPORTED, NUL_MESSAGE


def _escaped(name: str) -> str:
    return name.replace("\x00", "\\u0000")


def parameter_errors(scope: Scope) -> list[FieldError]:
    errors = [
        FieldError(path=f"$.{name}", message=NUL_MESSAGE)
        for name, value in (scope.get("path_params") or {}).items()
        if isinstance(value, str) and "\x00" in value
    ]
    query = scope.get("query_string") or b""
    # Percent-encoded or (from a lenient server) raw; the decode below only then.
    if b"%00" in query or b"\x00" in query:
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            if "\x00" in name or "\x00" in value:
                errors.append(FieldError(path=f"$.{_escaped(name)}", message=NUL_MESSAGE))
    return errors[:MAX_REPORTED]


def compressed_body(scope: Scope) -> bool:
    """Whether the request carries a body under a coding other than ``identity``.

    Only a body counts (a ``Content-Length`` above 0, or chunked): a bodiless GET
    with a stray ``Content-Encoding`` has nothing to decode, so nothing to refuse.
    """
    coded = has_body = False
    for name, value in scope.get("headers") or ():  # ASGI names are lower case
        if name == b"content-encoding":
            codings = (c.strip().lower() for c in value.decode("latin-1").split(","))
            coded = coded or any(c and c != "identity" for c in codings)
        elif name == b"content-length":
            has_body = has_body or value.strip() != b"0"
        elif name == b"transfer-encoding":
            has_body = True
    return coded and has_body


def parameter_guard(app: ASGIApp) -> ASGIApp:
    """litestar middleware: runs after routing, so path parameters have their names."""

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if compressed_body(scope):
            raise ProblemError(
                "UNSUPPORTED_MEDIA_TYPE",
                "the hub does not accept compressed bodies: send the body uncompressed "
                "(no Content-Encoding, or identity)",
                headers={"Accept-Encoding": "identity"},
            )
        errors = parameter_errors(scope)
        if errors:
            raise ProblemError(
                "VALIDATION_FAILED",
                "path and query values must not contain the NUL character",
                errors=errors,
            )
        await app(scope, receive, send)

    return guarded
