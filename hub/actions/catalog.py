"""The action catalog, and the catalog document (``GET /v1/catalog``; ``hub export``).

The document lists actions and event types with their JSON Schemas and samples.
Everything in it is derived from declarations (action specs, the event catalog),
so it is the same on every process and every run: the Zapier and Make apps are
generated from it.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any, cast

import msgspec

from hub.actions.lead_engine import LEAD_ENGINE_ACTIONS
from hub.actions.publish import PUBLISH_EVENT
from hub.actions.spec import ActionSpec, struct_schema
from hub.events.catalog import EVENT_TYPES, EventType
from hub.tenancy.scopes import scope_allows

ACTIONS: dict[str, ActionSpec] = {spec.name: spec for spec in (*LEAD_ENGINE_ACTIONS, PUBLISH_EVENT)}


class ActionEntry(msgspec.Struct):
    name: str
    title: str
    description: str
    noun: str
    scope: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    sample_input: dict[str, Any]
    sample: dict[str, Any]  # sample outputs
    # The event the sandbox publishes for this action (null: none).
    sandbox_event: str | None


class EventTypeEntry(msgspec.Struct):
    type: str
    title: str
    description: str
    noun: str
    scope: str
    data_schema: dict[str, Any]
    sample: dict[str, Any]


class CatalogView(msgspec.Struct):
    actions: list[ActionEntry]
    events: list[EventTypeEntry]


def action_named(name: str) -> ActionSpec | None:
    return ACTIONS.get(name)


def action_entry(spec: ActionSpec) -> ActionEntry:
    return ActionEntry(
        name=spec.name,
        title=spec.title,
        description=spec.description,
        noun=spec.noun,
        scope=spec.scope,
        input_schema=spec.input_schema,
        output_schema=spec.output_schema,
        sample_input=spec.sample_input,
        sample=spec.sample_output,
        sandbox_event=spec.event_type,
    )


def event_entry(event: EventType) -> EventTypeEntry:
    return EventTypeEntry(
        type=event.name,
        title=event.title,
        description=event.description,
        noun=event.name.split(".", 1)[0].replace("_", " ").title(),
        scope=f"triggers:{event.name}",
        data_schema=struct_schema(cast(Hashable, event.data_type)),
        sample=event.sample,
    )


def catalog_for(scopes: Iterable[str] | None = None) -> CatalogView:
    """Everything, or only what ``scopes`` (an integration's) allow; sorted by name."""
    granted = tuple(scopes) if scopes is not None else None
    actions = [
        action_entry(spec)
        for name, spec in sorted(ACTIONS.items())
        if granted is None or scope_allows(granted, spec.scope)
    ]
    events = [
        event_entry(event)
        for name, event in sorted(EVENT_TYPES.items())
        if granted is None or scope_allows(granted, f"triggers:{name}")
    ]
    return CatalogView(actions=actions, events=events)
