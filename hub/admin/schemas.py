"""Wire types of the admin API's own resources (tokens, audit) and list envelopes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

import msgspec
from msgspec import Meta

T = TypeVar("T")


class Page(msgspec.Struct, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class TokenCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    tenant_id: str | None = None


class TokenCreated(msgspec.Struct):
    id: str
    token: str
    tenant_id: str | None


class AuditView(msgspec.Struct):
    id: str
    at: datetime
    actor: str
    action: str
    outcome: str
    tenant_id: str | None
    integration_id: str | None
    target_type: str | None
    target_id: str | None
    correlation_id: str | None
    details: dict[str, Any]
