"""Request bodies: content type, JSON syntax, then the wire Struct — each its own problem.

Before any decoder runs, the bytes must be UTF-8 (400 ``MALFORMED_JSON``) and nest at
most ``MAX_DEPTH`` levels (422); after decoding, no text may hold NUL and no
timestamp may leave the accepted range (422, with every path) — ``input_rules``.

msgspec stops at the first error; on failure we walk the Struct's fields once more
so a client sees every field error at once (422 ``VALIDATION_FAILED``).
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec

from hub.web.errors import FieldError, ProblemError
from hub.web.input_rules import (
    DEPTH_MESSAGE,
    MAX_DEPTH,
    depth_exceeds,
    is_utf8,
    may_hold_nul,
    nul_errors,
    timestamp_errors,
)
from hub.web.json_numbers import integral_floats_to_ints

T = TypeVar("T")

_PATH_RE = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_UNKNOWN_RE = re.compile(r"^Object contains unknown field `(?P<name>[^`]*)`")


def check_json_content_type(content_type: str | None) -> None:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media != "application/json" and not (
        media.startswith("application/") and media.endswith("+json")
    ):
        raise ProblemError(
            "UNSUPPORTED_MEDIA_TYPE",
            "send the body as application/json",
        )


def malformed(exc: Exception) -> ProblemError:
    if isinstance(exc, UnicodeDecodeError):
        return ProblemError("MALFORMED_JSON", "the body is not valid UTF-8")
    return ProblemError("MALFORMED_JSON", f"the body is not valid JSON: {exc}")


def check_raw_json(raw: bytes, max_depth: int = MAX_DEPTH) -> None:
    """What must hold before a decoder touches the bytes: UTF-8, bounded nesting."""
    if not is_utf8(raw):
        raise ProblemError("MALFORMED_JSON", "the body is not valid UTF-8")
    if depth_exceeds(raw, max_depth):
        raise too_deep()


def too_deep() -> ProblemError:
    return ProblemError(
        "VALIDATION_FAILED",
        f"the body nests deeper than {MAX_DEPTH} levels",
        errors=[FieldError(path="$", message=DEPTH_MESSAGE)],
    )


def check_no_nul(raw: bytes, decoded: Any) -> None:
    """422 with every path if a string or key of ``decoded`` (from ``raw``) holds NUL."""
    if may_hold_nul(raw):
        errors = nul_errors(decoded)
        if errors:
            raise ProblemError(
                "VALIDATION_FAILED", "text must not contain the NUL character", errors=errors
            )


def check_timestamps(value: Any, type_: Any) -> None:
    errors = timestamp_errors(value, type_)
    if errors:
        raise ProblemError(
            "VALIDATION_FAILED", "a timestamp is outside the accepted range", errors=errors
        )


def parse_json(raw: bytes) -> Any:
    """Any JSON value, after the byte rules; NUL anywhere is a 422."""
    if not raw.strip():
        raise ProblemError("MALFORMED_JSON", "the request body is empty; send a JSON object")
    check_raw_json(raw)
    try:
        decoded = msgspec.json.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise malformed(exc) from None
    check_no_nul(raw, decoded)
    return decoded


def _field_error(exc: msgspec.ValidationError, prefix: str) -> FieldError:
    message = str(exc)
    path = prefix or "$"
    match = _PATH_RE.search(message)
    if match:
        message = message[: match.start()]
        path = prefix + match.group("path")
    unknown = _UNKNOWN_RE.match(message)
    if unknown:
        # msgspec points at the object; the client needs the offending field itself.
        return FieldError(path=f"{path}.{unknown.group('name')}", message="unknown field")
    return FieldError(path=path, message=message)


def collect_errors(obj: Any, type_: Any) -> list[FieldError]:
    """Every top-level field error of ``obj`` against Struct ``type_``, in field order."""
    if not (isinstance(type_, type) and issubclass(type_, msgspec.Struct)) or not isinstance(
        obj, dict
    ):
        try:
            msgspec.convert(obj, type_)
        except msgspec.ValidationError as exc:
            return [_field_error(exc, "$")]
        return []
    errors: list[FieldError] = []
    fields = msgspec.structs.fields(type_)
    known = {f.encode_name for f in fields}
    for f in fields:
        if f.encode_name not in obj:
            if f.required:
                errors.append(
                    FieldError(path=f"$.{f.encode_name}", message="required field missing")
                )
            continue
        try:
            msgspec.convert(obj[f.encode_name], f.type)
        except msgspec.ValidationError as exc:
            errors.append(_field_error(exc, f"$.{f.encode_name}"))
    forbid = getattr(type_.__struct_config__, "forbid_unknown_fields", False)
    if forbid:
        for name in obj:
            if name not in known:
                errors.append(FieldError(path=f"$.{name}", message="unknown field"))
    if not errors:
        # Struct-level rules (__post_init__) or cross-field constraints.
        try:
            msgspec.convert(obj, type_)
        except msgspec.ValidationError as exc:
            errors.append(_field_error(exc, "$"))
    return errors


def convert(obj: Any, type_: type[T]) -> T:
    try:
        value = msgspec.convert(obj, type_)
    except msgspec.ValidationError:
        obj = integral_floats_to_ints(obj, type_)
        try:
            value = msgspec.convert(obj, type_)
        except msgspec.ValidationError:
            pass
        else:
            check_timestamps(value, type_)
            return value
        errors = collect_errors(obj, type_) or [FieldError(path="$", message="invalid body")]
        raise ProblemError(
            "VALIDATION_FAILED", "the body does not match the schema", errors=errors
        ) from None
    check_timestamps(value, type_)
    return value


def decode_body(raw: bytes, type_: type[T], content_type: str | None) -> T:
    """Fast path: one msgspec decode; slow path only to explain a failure."""
    check_json_content_type(content_type)
    check_raw_json(raw)
    try:
        value = msgspec.json.decode(raw, type=type_)
    except msgspec.ValidationError:
        fits = False
    except (msgspec.DecodeError, UnicodeDecodeError):
        parse_json(raw)  # raises MALFORMED_JSON with the reason
        raise
    else:
        fits = True
    if fits and not may_hold_nul(raw):
        check_timestamps(value, type_)
        return value
    try:
        decoded = msgspec.json.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        # The typed decode can fail on shape before it reaches the broken syntax.
        raise malformed(exc) from None
    # NUL and schema errors together: the client sees every error at once.
    errors = nul_errors(decoded) if may_hold_nul(raw) else []
    if not fits:
        # JSON Schema's integers include 1.0 (the document says "integer").
        decoded = integral_floats_to_ints(decoded, type_)
        errors += [e for e in collect_errors(decoded, type_) if e not in errors]
    if not errors:  # only a Struct-level rule failed (collect_errors explains all else)
        return convert(decoded, type_)
    raise ProblemError("VALIDATION_FAILED", "the body does not match the schema", errors=errors)
