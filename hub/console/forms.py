"""Reading a submitted form as hostile input: UTF-8 only, no NUL, bounded; then the same
msgspec Structs the admin API decodes, so a form refuses what the API refuses."""

from __future__ import annotations

from typing import Any, TypeVar
from urllib.parse import parse_qsl

import msgspec

from hub.web.errors import FieldError, ProblemError
from hub.web.requests import AnyRequest

T = TypeVar("T")

MAX_FORM_BYTES = 64 * 1024
MAX_FIELDS = 200


class Fields(dict[str, str]):
    """Submitted fields; one not submitted reads as empty (as an empty input would)."""

    def __missing__(self, key: str) -> str:
        return ""


def query_of(request: AnyRequest) -> Fields:
    return Fields({k: v for k, v in request.query_params.items() if isinstance(v, str)})


async def form_of(request: AnyRequest) -> Fields:
    """The form's fields (the last value of a repeated name wins)."""
    raw = await request.body()
    if len(raw) > MAX_FORM_BYTES:
        raise ProblemError("PAYLOAD_TOO_LARGE", f"a form is at most {MAX_FORM_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise ProblemError("BAD_REQUEST", "the form is not valid UTF-8 form data") from None
    fields = Fields(pairs)
    bad = [name for name, value in fields.items() if "\x00" in name or "\x00" in value]
    if bad:
        raise ProblemError(
            "VALIDATION_FAILED",
            "a form field holds NUL",
            errors=[FieldError(path=f"$.{name!r}", message="NUL is not allowed") for name in bad],
        )
    return fields


def present(fields: dict[str, str], *names: str) -> dict[str, Any]:
    """The named fields that were filled in (an empty input means "not given")."""
    return {n: fields[n].strip() for n in names if fields.get(n, "").strip()}


def convert(values: dict[str, Any], type_: type[T]) -> T:
    """``values`` as ``type_``, or the 422 problem the API would answer."""
    try:
        return msgspec.convert(values, type_, strict=False)
    except msgspec.ValidationError as exc:
        raise ProblemError("VALIDATION_FAILED", str(exc)) from None
