"""Event ingest (issue 4 fills it in).

Interface other capabilities rely on (keep the signature): ``publish_internal``
lets the hub itself publish catalog events, e.g. the sandbox action handler
publishing ``lead.created`` with ``sandbox: true``. It commits the events and their
deliveries durably, then hands the deliveries to the delivery engine.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hub.runtime import Runtime


async def publish_internal(
    rt: Runtime,
    *,
    tenant_id: str,
    integration_id: str,
    event_type: str,
    producer_id: str,
    data: dict[str, Any],
    sandbox: bool,
    occurred_at: datetime | None = None,
) -> str | None:
    """Publish one event; returns the hub event id, or None if ``producer_id`` was seen."""
    raise NotImplementedError("event ingest lands with issue 4")
