"""Query values every list shares: the page size and time bounds, one rule each.

``limit`` outside its range is 422 (never silently clamped). A time is an RFC 3339
timestamp with an offset (``2025-11-26T18:00:00Z``), inside the accepted range: litestar
alone would read ``until=0.5`` as a Unix time, so times arrive as text and are read
here, strictly.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar.params import Parameter

from hub.web.errors import FieldError, ProblemError
from hub.web.input_rules import TIMESTAMP_MESSAGE, in_range

MAX_PAGE = 500

PageLimit = Annotated[
    int, Parameter(ge=1, le=MAX_PAGE, description=f"items per page, 1 to {MAX_PAGE}")
]

_TIME_DOC = "RFC 3339 timestamp with an offset, e.g. 2025-11-26T18:00:00Z"
QueryTime = Annotated[
    str | None,
    Parameter(description=_TIME_DOC, schema_extra={"format": "date-time"}),
]


def time_range(since: str | None, until: str | None) -> tuple[datetime | None, datetime | None]:
    """``since`` and ``until`` as aware datetimes; one 422 naming every bad one."""
    errors: list[FieldError] = []
    bounds = tuple(
        _read_time(name, value, errors) for name, value in (("since", since), ("until", until))
    )
    if errors:
        raise ProblemError("VALIDATION_FAILED", "the request parameters are invalid", errors=errors)
    return bounds[0], bounds[1]


def _read_time(name: str, value: str | None, errors: list[FieldError]) -> datetime | None:
    if value is None:
        return None
    try:
        moment = msgspec.convert(value, datetime)
    except msgspec.ValidationError:
        moment = None
    if moment is None or moment.tzinfo is None:
        errors.append(FieldError(path=f"$.{name}", message=_TIME_DOC))
        return None
    if not in_range(moment):
        errors.append(FieldError(path=f"$.{name}", message=TIMESTAMP_MESSAGE))
        return None
    return moment
