"""How an action is declared: once, with everything the API, the docs and the apps need."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec

from hub.actions.handlers import ActionCall


@dataclass(frozen=True, slots=True)
class Simulation:
    """What the sandbox answers for a call, and the catalog event it publishes."""

    outputs: msgspec.Struct
    event_data: dict[str, Any] | None = None


@dataclass(frozen=True)
class ActionSpec:
    name: str
    title: str
    description: str
    input_type: type[msgspec.Struct]
    output_type: type[msgspec.Struct]
    sample_input: dict[str, Any]
    sample_output: dict[str, Any]
    # Handler names (see ``hub.actions.handlers``) for live and sandbox integrations.
    handler: str = "upstream"
    sandbox_handler: str = "sandbox"
    # The catalog event the sandbox publishes for this action (e.g. ``lead.created``).
    event_type: str | None = None
    simulate: Callable[[ActionCall], Simulation] | None = None
    # A short noun for app UIs ("Lead", "Appointment").
    noun: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)  # "search": offered as a search
    # A search's create (the apps' "Find or Create …"), e.g. ``create_lead``.
    creates_with: str | None = None

    @property
    def kind(self) -> str:
        return "search" if "search" in self.tags else "create"

    @property
    def scope(self) -> str:
        return f"actions:{self.name}"

    def handler_for(self, sandbox: bool) -> str:
        return self.sandbox_handler if sandbox else self.handler

    @functools.cached_property
    def input_schema(self) -> dict[str, Any]:
        """The input's JSON Schema with its cross-field rules (``schema_rules``: one of
        ``text``/``template``, at least one search criterion), as the OpenAPI states them."""
        rules: dict[str, Any] = getattr(self.input_type, "schema_rules", None) or {}
        if "#/components/" in msgspec.json.encode(rules).decode():
            rules = {}  # rules over the OpenAPI document's components (publish_event's)
        return {**struct_schema(self.input_type), **rules}

    @functools.cached_property
    def output_schema(self) -> dict[str, Any]:
        return struct_schema(self.output_type)

    @functools.cached_property
    def result_type(self) -> type[msgspec.Struct]:
        """The 200 answer's shape (``ActionResult`` with this action's outputs)."""
        name = "".join(part.title() for part in self.name.split("_")) + "Result"
        return msgspec.defstruct(
            name,
            [
                ("execution_id", str),
                ("action", Literal[self.name]),
                ("status", Literal["succeeded"]),
                ("outputs", self.output_type),
            ],
        )


@functools.lru_cache(maxsize=256)
def struct_schema(type_: Any) -> dict[str, Any]:
    """The Struct's JSON Schema with the top-level object inlined (apps read it directly).

    Cached and shared: callers must not mutate the answer.
    """
    schema: dict[str, Any] = msgspec.json.schema(type_)
    defs: dict[str, Any] = schema.pop("$defs", {})
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.rsplit("/", 1)[1] in defs:
        schema = defs.pop(ref.rsplit("/", 1)[1])
    if defs:
        schema["$defs"] = defs
    return schema
