"""Event ingest: parse a batch item by item, store the new events and their
deliveries in one transaction, then hand the deliveries to the delivery engine.

Interface other capabilities rely on (keep the signature): ``publish_internal``
lets the hub itself publish catalog events, e.g. the sandbox action handler
publishing ``lead.created`` with ``sandbox: true``. It commits the events and their
deliveries durably, then hands the deliveries to the delivery engine (through
``rt.stores.outbox``: on Postgres one or two atomic autocommit statements instead of
a transaction, ``hub/store/outbox.py``).

Durability: nothing is answered 202 before the transaction commits, and a
database failure is a 503 (retry is safe: producer ids are deduplicated by a
unique constraint, per tenant, forever).
"""

from __future__ import annotations

import logging
from collections import Counter as Tally
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec

from hub.delivery.dispatch import enqueue_deliveries
from hub.events.catalog import EVENT_TYPES, RESERVED_MESSAGE
from hub.events.fanout import FanOut, delivery_rows, fan_out
from hub.events.metrics import DELIVERIES_CREATED, count_events
from hub.events.schemas import MAX_BATCH, MAX_BODY_DEPTH, EventIn, PublishResult, Rejected, utc
from hub.ids import new_id
from hub.store.driver import DATABASE_ERRORS
from hub.store.events import insert_new_events
from hub.store.outbox import DeliveryRow, EventRow
from hub.store.subscribers import Subscriber
from hub.web.decoding import malformed
from hub.web.errors import FieldError, ProblemError
from hub.web.input_rules import (
    DEPTH_MESSAGE,
    MAX_DEPTH,
    TIMESTAMP_MESSAGE,
    depth_exceeds,
    in_range,
    is_utf8,
    may_hold_nul,
    nesting_depth,
    nul_errors,
    timestamp_errors,
)

if TYPE_CHECKING:
    from hub.runtime import Runtime

log = logging.getLogger("hub.events")


@dataclass(frozen=True, slots=True)
class NewEvent:
    index: int  # position in the request
    producer_id: str
    type: str
    occurred_at: datetime
    data: Any  # the type's data Struct, validated


@dataclass
class Stored:
    accepted: list[tuple[str, NewEvent]] = field(default_factory=list)  # (hub id, event)
    duplicates: list[NewEvent] = field(default_factory=list)
    delivery_ids: list[str] = field(default_factory=list)


# -- parsing ---------------------------------------------------------------------------


def _validation_detail(exc: msgspec.ValidationError, prefix: str = "") -> str:
    return str(exc).replace("`$", f"`${prefix}", 1) if prefix else str(exc)


def split_items(raw: bytes) -> tuple[list[msgspec.Raw], bool]:
    """One event or ``{"events": [...]}``: the items, still raw, and whether the body
    nests deep enough that each item's own depth must be checked. Whole-body errors raise.
    """
    if not is_utf8(raw):
        raise ProblemError("MALFORMED_JSON", "the body is not valid UTF-8")
    depth = nesting_depth(raw)
    if depth > MAX_BODY_DEPTH:
        # Too deep to split safely; below this, depth is judged per item (parse_item).
        raise ProblemError(
            "VALIDATION_FAILED",
            f"the body nests deeper than {MAX_BODY_DEPTH} levels",
            errors=[FieldError(path="$", message=f"nested deeper than {MAX_BODY_DEPTH} levels")],
        )
    try:
        top = msgspec.json.decode(raw, type=dict[str, msgspec.Raw])
    except msgspec.ValidationError:
        raise ProblemError(
            "VALIDATION_FAILED",
            'send one event object or {"events": [...]}',
            errors=[FieldError(path="$", message="expected an object")],
        ) from None
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise malformed(exc) from None
    deep = depth > MAX_DEPTH
    if "events" not in top:
        return [msgspec.Raw(raw)], deep
    extra = sorted(set(top) - {"events"})
    errors = [FieldError(path=f"$.{name}", message="unknown field") for name in extra]
    try:
        items = msgspec.json.decode(top["events"], type=list[msgspec.Raw])
    except msgspec.ValidationError:
        items = []
        errors.append(FieldError(path="$.events", message="expected an array of events"))
    if not errors and not 1 <= len(items) <= MAX_BATCH:
        errors.append(
            FieldError(path="$.events", message=f"send 1 to {MAX_BATCH} events per request")
        )
    if errors:
        raise ProblemError("VALIDATION_FAILED", "the batch is not valid", errors=errors)
    return items, deep


def _invalid(index: int, error: FieldError) -> Rejected:
    """The per-item form of a field error, as msgspec words its own (path at the end)."""
    return Rejected(
        index=index, code="VALIDATION_FAILED", detail=f"{error.message} - at `{error.path}`"
    )


def parse_item(
    index: int, raw: msgspec.Raw, now: datetime, *, check_depth: bool = True
) -> NewEvent | Rejected:
    """One item against the rules of accepted input (docs/api.md), the envelope, the
    catalog and its type's data Struct: the event, or why it is rejected."""
    if check_depth and depth_exceeds(bytes(raw)):
        return _invalid(index, FieldError(path="$", message=DEPTH_MESSAGE))
    if may_hold_nul(bytes(raw)):
        try:
            nul = nul_errors(msgspec.json.decode(raw))
        except msgspec.DecodeError as exc:
            return Rejected(index=index, code="VALIDATION_FAILED", detail=str(exc))
        if nul:
            return _invalid(index, nul[0])
    try:
        item = msgspec.json.decode(raw, type=EventIn)
    except msgspec.ValidationError as exc:
        return Rejected(index=index, code="VALIDATION_FAILED", detail=_validation_detail(exc))
    event_type = EVENT_TYPES.get(item.type)
    if event_type is None:
        return Rejected(
            index=index,
            code="UNKNOWN_EVENT_TYPE",
            detail="no such event type; see the catalog in docs/events.md",
        )
    if event_type.hub_only:
        return _invalid(index, FieldError(path="$.type", message=RESERVED_MESSAGE))
    if item.occurred_at is not None and not in_range(item.occurred_at):
        return _invalid(index, FieldError(path="$.occurred_at", message=TIMESTAMP_MESSAGE))
    try:
        data = msgspec.json.decode(item.data, type=event_type.data_type)
    except msgspec.ValidationError as exc:
        return Rejected(
            index=index, code="VALIDATION_FAILED", detail=_validation_detail(exc, ".data")
        )
    out_of_range = timestamp_errors(data, event_type.data_type, root="$.data")
    if out_of_range:
        return _invalid(index, out_of_range[0])
    occurred_at = utc(item.occurred_at) if item.occurred_at is not None else now
    return NewEvent(index, item.id, item.type, occurred_at, data)


# -- storing ---------------------------------------------------------------------------


def _event_row(
    event_id: str, e: NewEvent, tenant_id: str, integration_id: str, sandbox: bool, now: datetime
) -> EventRow:
    return EventRow(
        id=event_id,
        tenant_id=tenant_id,
        integration_id=integration_id,
        producer_id=e.producer_id,
        type=e.type,
        sandbox=sandbox,
        occurred_at=e.occurred_at,
        received_at=now,
        data=msgspec.to_builtins(e.data),
    )


def _unavailable(tenant_id: str, events: int, exc: BaseException) -> ProblemError:
    log.error(
        "events not stored",
        extra={"tenant_id": tenant_id, "events": events, "error": type(exc).__name__},
    )
    return ProblemError(
        "UNAVAILABLE",
        "the events could not be stored and none was accepted; retry the request",
        headers={"Retry-After": "1"},
    )


async def _after_commit(rt: Runtime, stored: Stored, outcome: FanOut) -> None:
    """Metrics of what was committed, then hand the deliveries to the engine."""
    stored.delivery_ids = outcome.deliveries.ids
    outcome.sanitized.flush()
    for event_type, n in outcome.deliveries.per_type.items():
        DELIVERIES_CREATED.labels(event_type).inc(n)
    await enqueue_deliveries(rt, stored.delivery_ids)


async def store_events(
    rt: Runtime,
    *,
    tenant_id: str,
    integration_id: str,
    sandbox: bool,
    events: Sequence[NewEvent],
) -> Stored:
    """Insert the events not seen before and their deliveries, commit, then enqueue.

    Raises ``ProblemError("UNAVAILABLE")`` when the database fails: then nothing
    of the batch is stored.
    """
    stored = Stored()
    if not events:
        return stored
    now = rt.clock.now()
    first: dict[str, NewEvent] = {}
    for event in events:  # the same producer id twice in one batch: the first wins
        if event.producer_id in first:
            stored.duplicates.append(event)
        else:
            first[event.producer_id] = event
    by_id = {new_id("event"): event for event in first.values()}
    rows = [
        _event_row(event_id, e, tenant_id, integration_id, sandbox, now)._asdict()
        for event_id, e in by_id.items()
    ]
    try:
        async with rt.db.transaction() as session:
            inserted = await insert_new_events(session, rows)
            stored.accepted = [(i, e) for i, e in by_id.items() if i in inserted]
            outcome = await fan_out(
                rt, session, tenant_id=tenant_id, sandbox=sandbox, events=stored.accepted, now=now
            )
    except DATABASE_ERRORS as exc:
        raise _unavailable(tenant_id, len(rows), exc) from None
    stored.duplicates.extend(e for i, e in by_id.items() if i not in inserted)
    await _after_commit(rt, stored, outcome)
    return stored


async def store_one(
    rt: Runtime, *, tenant_id: str, integration_id: str, sandbox: bool, event: NewEvent
) -> Stored:
    """``store_events`` for one event, through the backend's outbox store (on Postgres
    one or two autocommit statements instead of a transaction: hub/store/outbox.py)."""
    now = rt.clock.now()
    event_id = new_id("event")
    outcome = FanOut()

    def deliveries_for(subscribers: Sequence[Subscriber]) -> Sequence[DeliveryRow]:
        nonlocal outcome
        rows, outcome = delivery_rows(
            rt,
            tenant_id=tenant_id,
            sandbox=sandbox,
            events=[(event_id, event)],
            subscribers={event.type: list(subscribers)},
            now=now,
        )
        return rows

    row = _event_row(event_id, event, tenant_id, integration_id, sandbox, now)
    try:
        inserted = await rt.stores.outbox.publish_one(row, deliveries_for)
    except DATABASE_ERRORS as exc:
        raise _unavailable(tenant_id, 1, exc) from None
    stored = Stored()
    if not inserted:
        stored.duplicates.append(event)
        return stored
    stored.accepted.append((event_id, event))
    await _after_commit(rt, stored, outcome)
    return stored


# -- the two ways in ---------------------------------------------------------------------


async def publish(
    rt: Runtime,
    *,
    tenant_id: str,
    integration_id: str,
    sandbox: bool,
    items: list[msgspec.Raw],
    deep: bool = True,
) -> PublishResult:
    """``POST /v1/events``: per-item results; one bad item never sinks the batch.

    ``deep`` (from ``split_items``): whether items may nest too deep and each is checked.
    """
    now = rt.clock.now()
    good: list[NewEvent] = []
    rejected: list[Rejected] = []
    rejected_types: Tally[str] = Tally()
    for index, raw in enumerate(items):
        parsed = parse_item(index, raw, now, check_depth=deep)
        if isinstance(parsed, Rejected):
            rejected.append(parsed)
            rejected_types["unknown" if parsed.code == "UNKNOWN_EVENT_TYPE" else _type_of(raw)] += 1
        else:
            good.append(parsed)
    stored = await store_events(
        rt, tenant_id=tenant_id, integration_id=integration_id, sandbox=sandbox, events=good
    )
    count_events("accepted", Tally(e.type for _, e in stored.accepted))
    count_events("duplicate", Tally(e.type for e in stored.duplicates))
    count_events("rejected", rejected_types)
    return PublishResult(
        accepted=len(stored.accepted), duplicates=len(stored.duplicates), rejected=rejected
    )


class _TypeOnly(msgspec.Struct):
    type: str = ""


def _type_of(raw: msgspec.Raw) -> str:
    """The item's type for the metrics label (``count_events`` bounds it to the catalog)."""
    try:
        return msgspec.json.decode(raw, type=_TypeOnly).type
    except msgspec.MsgspecError:
        return "unknown"


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
    """Publish one event; returns the hub event id, or None if ``producer_id`` was seen.

    Raises ``ValueError`` for an unknown type or data that does not fit its Struct
    (a bug in the caller), ``ProblemError("UNAVAILABLE")`` if the database fails.
    """
    catalog_entry = EVENT_TYPES.get(event_type)
    if catalog_entry is None:
        raise ValueError(f"unknown event type {event_type!r}")
    try:
        typed = msgspec.convert(data, catalog_entry.data_type)
    except msgspec.ValidationError as exc:
        raise ValueError(f"{event_type} data does not fit its schema: {exc}") from None
    now = rt.clock.now()
    event = NewEvent(0, producer_id, event_type, utc(occurred_at) if occurred_at else now, typed)
    stored = await store_one(
        rt, tenant_id=tenant_id, integration_id=integration_id, sandbox=sandbox, event=event
    )
    count_events("accepted", Tally(e.type for _, e in stored.accepted))
    count_events("duplicate", Tally(e.type for e in stored.duplicates))
    return stored.accepted[0][0] if stored.accepted else None
