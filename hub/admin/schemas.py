"""Wire types of the admin API's own resources (tokens, audit) and list envelopes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, TypeVar

import msgspec
from msgspec import Meta

from hub.audit.schemas import AuditView
from hub.web.patterns import VISIBLE

__all__ = ["AuditView", "Page", "TokenCreate", "TokenCreated", "TokenView"]

T = TypeVar("T")


class Page(msgspec.Struct, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class TokenCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=200, pattern=VISIBLE)]
    # Omitted or null: a platform token (platform admins only).
    tenant_id: Annotated[str, Meta(max_length=40)] | None = None


class TokenCreated(msgspec.Struct):
    id: str
    token: str
    tenant_id: str | None


class TokenView(msgspec.Struct):
    """An admin token without its value (which is never stored)."""

    id: str
    name: str
    tenant_id: str | None
    created_at: datetime
    revoked_at: datetime | None
