"""Request bodies: content type, JSON syntax, then the wire Struct — each its own problem.

msgspec stops at the first error; on failure we walk the Struct's fields once more
so a client sees every field error at once (422 ``VALIDATION_FAILED``).
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec

from hub.web.errors import FieldError, ProblemError

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


def parse_json(raw: bytes) -> Any:
    if not raw.strip():
        raise ProblemError("MALFORMED_JSON", "the request body is empty; send a JSON object")
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise ProblemError("MALFORMED_JSON", f"the body is not valid JSON: {exc}") from None


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
        return msgspec.convert(obj, type_)
    except msgspec.ValidationError:
        errors = collect_errors(obj, type_) or [FieldError(path="$", message="invalid body")]
        raise ProblemError(
            "VALIDATION_FAILED", "the body does not match the schema", errors=errors
        ) from None


def decode_body(raw: bytes, type_: type[T], content_type: str | None) -> T:
    """Fast path: one msgspec decode; slow path only to explain a failure."""
    check_json_content_type(content_type)
    try:
        return msgspec.json.decode(raw, type=type_)
    except msgspec.ValidationError:
        pass
    except msgspec.DecodeError:
        parse_json(raw)  # raises MALFORMED_JSON with the reason
        raise
    return convert(parse_json(raw), type_)
