"""The action catalog, and the catalog document (``GET /v1/catalog``; ``hub export``).

The document lists actions and event types with their JSON Schemas and samples.
Everything in it is derived from declarations (action specs, the event catalog),
so it is the same on every process and every run: the Zapier and Make apps are
generated from it.
"""

from __future__ import annotations

import functools
from collections.abc import Hashable, Iterable
from typing import Any, cast

import msgspec

from hub.actions.lead_engine import LEAD_ENGINE_ACTIONS
from hub.actions.publish import PUBLISH_EVENT
from hub.actions.spec import ActionSpec, struct_schema
from hub.events.catalog import EVENT_TYPES
from hub.events.samples import catalog_sample
from hub.sanitize import default_policies
from hub.sanitize.delivered import delivered_schema
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
    # "search" (changes nothing; the apps offer it as a search) or "create".
    kind: str = "create"
    # A search's create, paired by the apps as "Find or Create …" (null: none).
    creates_with: str | None = None


class EventTypeEntry(msgspec.Struct):
    type: str
    title: str
    description: str
    noun: str
    scope: str
    data_schema: dict[str, Any]  # what a publisher sends (POST /v1/events)
    sample: dict[str, Any]  # a publisher's ``data``
    # What a subscriber receives under the default policy: the data schema pruned to the
    # revealed fields (masked ones as text), and the sample's delivered body.
    delivered_schema: dict[str, Any]
    delivered_sample: dict[str, Any]


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
        kind=spec.kind,
        creates_with=spec.creates_with,
    )


@functools.cache
def event_entry(name: str) -> EventTypeEntry:
    """Pure in the build (catalog and policies), so computed once per event type."""
    event = EVENT_TYPES[name]
    data_schema = struct_schema(cast(Hashable, event.data_type))
    policy = default_policies().compiled(event.name)
    rules = policy.rules if policy is not None else {}
    delivered = msgspec.json.decode(catalog_sample(event.name, policy)) if policy else {}
    return EventTypeEntry(
        type=event.name,
        title=event.title,
        description=event.description,
        noun=event.name.split(".", 1)[0].replace("_", " ").title(),
        scope=f"triggers:{event.name}",
        data_schema=data_schema,
        sample=event.sample,
        delivered_schema=delivered_schema(data_schema, rules),
        delivered_sample=delivered,
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
        event_entry(name)
        for name in sorted(EVENT_TYPES)
        if granted is None or scope_allows(granted, f"triggers:{name}")
    ]
    return CatalogView(actions=actions, events=events)
