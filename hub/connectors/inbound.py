"""Provider webhooks in: verify (the connector), normalize (the connector), publish
(the hub's ingest path, deduplicated per item).

A provider retries what was not answered 2xx, so the answer comes only after the
events are stored: a storage failure answers 503 and the provider's retry stores them
(the same provider ids, so once). An event the connector maps wrongly (unknown type,
data outside its schema) is logged and counted, never stored, and never fails the
rest: a provider cannot fix it by retrying.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter as Tally
from collections.abc import Sequence

import msgspec

from hub.connectors.metrics import INBOUND_EVENTS, INBOUND_REQUESTS
from hub.connectors.protocol import ConnectorRegistry, InboundEvent, InboundReply, InboundRequest
from hub.connectors.service import Configured, configured_by_id
from hub.events.catalog import EVENT_TYPES
from hub.events.ingest import NewEvent, store_events, store_one
from hub.events.metrics import count_events
from hub.runtime import Runtime
from hub.web.errors import ProblemError
from hub.web.input_rules import in_range, nul_errors, timestamp_errors
from hub.web.json_numbers import integral_floats_to_ints

log = logging.getLogger("hub.connectors.inbound")

MAX_PRODUCER_ID = 255


def _normalized(configured: Configured, index: int, event: InboundEvent) -> NewEvent | str:
    """The event as ingest stores it, or why it cannot be stored."""
    entry = EVENT_TYPES.get(event.type)
    if entry is None or entry.hub_only:
        return "not a publishable catalog type"
    producer_id = f"{configured.connector.name}:{event.id}"
    if not event.id or len(producer_id) > MAX_PRODUCER_ID:
        return "the event id is empty or too long"
    if event.occurred_at is None or not in_range(event.occurred_at):
        return "occurred_at is missing or out of range"
    data = integral_floats_to_ints(dict(event.data), entry.data_type)
    if nul_errors(data):
        return "the data holds NUL"
    try:
        typed = msgspec.convert(data, entry.data_type)
    except msgspec.ValidationError as exc:
        return f"the data does not fit {event.type}: {exc}"
    if timestamp_errors(typed, entry.data_type):
        return "a timestamp in the data is out of range"
    return NewEvent(index, producer_id, event.type, event.occurred_at, typed)


async def publish_inbound(
    rt: Runtime, configured: Configured, events: Sequence[InboundEvent]
) -> None:
    name = configured.connector.name
    good: list[NewEvent] = []
    for index, event in enumerate(events):
        normalized = _normalized(configured, index, event)
        if isinstance(normalized, str):
            INBOUND_EVENTS.labels(name, "rejected").inc()
            log.error(
                "a connector produced an event the catalog refuses",
                extra={"connector": name, "tenant_id": configured.tenant_id, "why": normalized},
            )
        else:
            good.append(normalized)
    publisher = configured.row_id  # the events' integration_id: this tenant connector
    if len(good) == 1:  # most webhook calls: the store's single-statement path
        stored = await store_one(
            rt,
            tenant_id=configured.tenant_id,
            integration_id=publisher,
            sandbox=False,
            event=good[0],
        )
    else:
        stored = await store_events(
            rt, tenant_id=configured.tenant_id, integration_id=publisher, sandbox=False, events=good
        )
    INBOUND_EVENTS.labels(name, "accepted").inc(len(stored.accepted))
    INBOUND_EVENTS.labels(name, "duplicate").inc(len(stored.duplicates))
    count_events("accepted", Tally(e.type for _, e in stored.accepted))
    count_events("duplicate", Tally(e.type for e in stored.duplicates))


async def receive(
    rt: Runtime,
    registry: ConnectorRegistry,
    name: str,
    connector_id: str,
    request: InboundRequest,
) -> InboundReply:
    """One provider call to ``/v1/inbound/{name}/{connector_id}``."""
    label = name if registry.get(name) is not None else "unknown"
    configured = await configured_by_id(rt, registry, name, connector_id)
    if configured is None:
        INBOUND_REQUESTS.labels(label, "not_found").inc()
        # The same answer for an unknown, disabled or mistyped URL: nothing to probe.
        raise ProblemError("NOT_FOUND", "no such inbound endpoint")
    request = dataclasses.replace(
        request, tenant_id=configured.tenant_id, connector_id=configured.row_id
    )
    try:
        reply = await configured.connector.receive(rt, configured.config, request)
    except ProblemError:
        INBOUND_REQUESTS.labels(label, "refused").inc()
        raise
    try:
        await publish_inbound(rt, configured, reply.events)
    except ProblemError:
        INBOUND_REQUESTS.labels(label, "unavailable").inc()
        raise
    if reply.on_stored is not None:
        await reply.on_stored()
    INBOUND_REQUESTS.labels(label, "accepted").inc()
    return reply
