"""``publish_event``: a scenario emits a catalog event into the hub (served by the hub itself).

The event's producer id comes from the Idempotency-Key's record, so a retried call
publishes once; a sandbox integration publishes sandbox events.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

import msgspec
from msgspec import Meta

from hub.actions.handlers import ActionCall, ActionRejected
from hub.actions.lead_engine.fields import AwareDateTime
from hub.actions.sandbox import producer_id
from hub.actions.spec import ActionSpec
from hub.events import ingest
from hub.events.catalog import EVENT_TYPES, RESERVED_MESSAGE
from hub.runtime import Runtime
from hub.web.decoding import collect_errors
from hub.web.errors import FieldError
from hub.web.input_rules import timestamp_errors
from hub.web.json_numbers import integral_floats_to_ints

# The types a scenario may publish (hub-only ones are the hub's own notices).
_PUBLISHABLE = {name: t for name, t in EVENT_TYPES.items() if not t.hub_only}


class PublishEventInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A catalog event to publish into the hub (delivered to the tenant's subscriptions)."""

    # What the handler checks, as the document states it (hub.actions.routes): the type
    # is a publishable catalog type and ``data`` is that type's data.
    schema_rules: ClassVar[dict[str, Any]] = {
        "oneOf": [
            {
                "properties": {
                    "type": {"const": name},
                    "data": {"$ref": f"#/components/schemas/{t.data_type.__name__}"},
                }
            }
            for name, t in sorted(_PUBLISHABLE.items())
        ]
    }
    schema_types: ClassVar[tuple[Any, ...]] = tuple(
        t.data_type for _, t in sorted(_PUBLISHABLE.items())
    )

    type: Annotated[
        str,
        Meta(
            pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$",
            max_length=80,
            description="A catalog event type (see the catalog's event_types).",
            examples=["lead.created"],
        ),
    ]
    data: Annotated[
        dict[str, Any],
        Meta(description="The event's data, as the event type's schema describes it."),
    ]
    occurred_at: AwareDateTime | None = None


class PublishEventOutput(msgspec.Struct, kw_only=True):
    """The published event (``duplicate`` when this Idempotency-Key already published it)."""

    event_id: Annotated[str, Meta(examples=["evt_01jd2w8b0d2f4h6k8m0p2r4t6v"])] | None
    type: str
    duplicate: bool = False


PUBLISH_EVENT = ActionSpec(
    name="publish_event",
    title="Publish Event",
    description="Publishes a catalog event into the hub, as if the product had emitted it: "
    "lets a scenario feed other zaps and scenarios. Sandbox integrations publish sandbox "
    "events.",
    noun="Event",
    input_type=PublishEventInput,
    output_type=PublishEventOutput,
    # The event catalog's own sample, so the example stays a valid lead.created event
    # as the event schema evolves (the Zapier and Make apps' live tests publish it).
    sample_input={"type": "lead.created", "data": EVENT_TYPES["lead.created"].sample},
    sample_output={
        "event_id": "evt_01jd2w8b0d2f4h6k8m0p2r4t6v",
        "type": "lead.created",
        "duplicate": False,
    },
    handler="publish",
    sandbox_handler="publish",
)


async def publish_handler(rt: Runtime, call: ActionCall) -> Any:
    inputs: PublishEventInput = call.inputs
    event = EVENT_TYPES.get(inputs.type)
    if event is None:
        raise ActionRejected(
            "unknown event type",
            errors=[FieldError(path="$.type", message="not an event type of the catalog")],
        )
    if event.hub_only:
        raise ActionRejected(
            "this event type is reserved for the hub",
            errors=[FieldError(path="$.type", message=RESERVED_MESSAGE)],
        )
    data = integral_floats_to_ints(inputs.data, event.data_type)  # 1.0 is an integer
    try:
        typed = msgspec.convert(data, event.data_type)
    except msgspec.ValidationError:
        errors = [
            FieldError(path="$.data" + e.path.removeprefix("$"), message=e.message)
            for e in collect_errors(data, event.data_type)
        ]
        raise ActionRejected(
            "the data does not match the event type's schema", errors=errors
        ) from None
    out_of_range = timestamp_errors(typed, event.data_type, root="$.data")
    if out_of_range:
        raise ActionRejected("a timestamp is outside the accepted range", errors=out_of_range)
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
