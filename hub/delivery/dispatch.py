"""Handing committed deliveries to the delivery engine (issue 5 fills it in).

Interface other capabilities rely on (keep the signature): call
``enqueue_deliveries`` only AFTER the transaction that created the deliveries has
committed. It must never raise on a Redis failure: the sweeper re-enqueues.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hub.runtime import Runtime


async def enqueue_deliveries(rt: Runtime, delivery_ids: Sequence[str]) -> None:
    """Until the engine lands, deliveries stay pending in Postgres (nothing is lost)."""
    return None
