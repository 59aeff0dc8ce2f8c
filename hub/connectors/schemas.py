"""Wire types of the connectors' admin API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from msgspec import Meta


class ConnectorPut(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A tenant's configuration of one connector (replaces the stored one).

    Secret fields left out keep their stored value, so a client that read the
    configuration (which never shows secrets) can send it back changed.
    """

    config: Annotated[
        dict[str, Any],
        Meta(description="The connector's configuration (its `config_schema`)."),
    ]
    enabled: bool = True


class ConnectorView(msgspec.Struct, kw_only=True):
    """A tenant's connector; secret fields are listed by name, never shown."""

    id: Annotated[str, Meta(examples=["con_01jd2w8b0d2f4h6k8m0p2r4t6v"])]
    tenant_id: str
    name: str
    kind: str
    enabled: bool
    config: dict[str, Any]
    secrets_set: list[str]
    actions: list[str]
    # Where the provider sends its webhooks (relative to the hub's public URL).
    inbound_path: str | None
    # Set when the provider refused the credentials: nothing is sent until it is
    # configured again (docs/connectors.md, "Health").
    failing_reason: str | None = None
    failing_since: datetime | None = None
    created_at: datetime
    updated_at: datetime


class ConnectorType(msgspec.Struct, kw_only=True):
    """A connector this hub can run: what it handles and how it is configured."""

    name: str
    kind: str
    title: str
    actions: list[str]
    inbound: bool
    secret_fields: list[str]
    config_schema: dict[str, Any]
