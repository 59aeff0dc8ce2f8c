"""The sandbox handler: no outside call, deterministic outputs, the matching event published.

Sandbox integrations let a user build a zap or scenario end to end without touching
the product: ``create_lead`` answers a synthetic lead id derived from the
Idempotency-Key and publishes ``lead.created`` with ``"sandbox": true``, so a
sandbox trigger fires too. The event's producer id is derived from the key's
record, so a retry after a crash does not publish twice.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import msgspec

from hub.actions.handlers import ActionCall
from hub.events import ingest
from hub.events.catalog import EVENT_TYPES, EventType
from hub.runtime import Runtime

log = logging.getLogger("hub.actions")


def producer_id(call: ActionCall) -> str:
    """The event's dedupe id: one per Idempotency-Key window, whatever the retries."""
    return f"action:{call.idempotency_id}"


@functools.lru_cache(maxsize=64)
def _fields(data_type: type[msgspec.Struct]) -> tuple[msgspec.structs.FieldInfo, ...]:
    return msgspec.structs.fields(data_type)


def shape_event_data(event: EventType, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` narrowed to what the event type accepts, field by field; a required field
    it lacks (or cannot fill) comes from the type's sample. So the sandbox publishes a
    valid event even when the events schema evolves apart from the actions."""
    if not (isinstance(event.data_type, type) and issubclass(event.data_type, msgspec.Struct)):
        return data
    fields = _fields(event.data_type)
    shaped = {
        f.encode_name: data[f.encode_name] for f in fields if data.get(f.encode_name) is not None
    }
    for f in fields:
        if f.required and f.encode_name not in shaped and f.encode_name in event.sample:
            shaped[f.encode_name] = event.sample[f.encode_name]
    try:
        msgspec.convert(shaped, event.data_type)
        return shaped  # the usual case: one validation for the whole object
    except msgspec.ValidationError:
        pass
    for f in fields:
        value = shaped.get(f.encode_name)
        if value is None:
            continue
        try:
            msgspec.convert(value, f.type)
        except msgspec.ValidationError:
            if f.required and f.encode_name in event.sample:
                shaped[f.encode_name] = event.sample[f.encode_name]
            else:
                del shaped[f.encode_name]
    return shaped


async def sandbox_handler(rt: Runtime, call: ActionCall) -> Any:
    simulate = call.action.simulate
    if simulate is None:
        raise RuntimeError(f"action {call.action.name} has no sandbox simulation")
    simulation = simulate(call)
    event_type = call.action.event_type
    if event_type is not None and simulation.event_data is not None:
        event = EVENT_TYPES.get(event_type)
        if event is None:
            # The event catalog does not declare it (yet): nothing a trigger could receive.
            log.debug("sandbox event type not in the catalog", extra={"event_type": event_type})
        else:
            await ingest.publish_internal(
                rt,
                tenant_id=call.tenant_id,
                integration_id=call.integration_id,
                event_type=event_type,
                producer_id=producer_id(call),
                data=shape_event_data(event, simulation.event_data),
                sandbox=True,
            )
    return simulation.outputs
