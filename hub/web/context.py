"""Per-request context that logs and problems read (request id, tenant, integration)."""

from __future__ import annotations

import re
from contextvars import ContextVar

from hub.ids import new_ulid

request_id_var: ContextVar[str] = ContextVar("request_id", default="")
tenant_id_var: ContextVar[str | None] = ContextVar("tenant_id", default=None)
integration_id_var: ContextVar[str | None] = ContextVar("integration_id", default=None)

_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def accept_or_make_request_id(offered: str | None) -> str:
    if offered and _SANE_REQUEST_ID.fullmatch(offered):
        return offered
    return f"req_{new_ulid()}"


def current_request_id() -> str:
    return request_id_var.get()
