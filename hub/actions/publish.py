"""``publish_event``: a scenario emits a catalog event into the hub (served by the hub itself).

The event's producer id comes from the Idempotency-Key's record, so a retried call
publishes once; a sandbox integration publishes sandbox events.
"""

from __future__ import annotations

from typing import Any

import msgspec

from hub.actions.defaults import PublishEventInput, PublishEventOutput
from hub.actions.handlers import ActionCall, ActionRejected
from hub.actions.sandbox import producer_id
from hub.events import ingest
from hub.events.catalog import EVENT_TYPES
from hub.runtime import Runtime
from hub.web.decoding import collect_errors
from hub.web.errors import FieldError


async def publish_handler(rt: Runtime, call: ActionCall) -> Any:
    inputs: PublishEventInput = call.inputs
    event = EVENT_TYPES.get(inputs.type)
    if event is None:
        raise ActionRejected(
            "unknown event type",
            errors=[FieldError(path="$.type", message="not an event type of the catalog")],
        )
    try:
        msgspec.convert(inputs.data, event.data_type)
    except msgspec.ValidationError:
        errors = [
            FieldError(path="$.data" + e.path.removeprefix("$"), message=e.message)
            for e in collect_errors(inputs.data, event.data_type)
        ]
        raise ActionRejected(
            "the data does not match the event type's schema", errors=errors
        ) from None
    event_id = await ingest.publish_internal(
        rt,
        tenant_id=call.tenant_id,
        integration_id=call.integration_id,
        event_type=inputs.type,
        producer_id=producer_id(call),
        data=inputs.data,
        sandbox=call.sandbox,
        occurred_at=inputs.occurred_at,
    )
    return PublishEventOutput(event_id=event_id, type=inputs.type, duplicate=event_id is None)
