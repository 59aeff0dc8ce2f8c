"""The choices of the catalog's enumerated inputs (lead status, appointment kind and
channel), for the apps' dynamic dropdowns (Zapier) and RPCs (Make): read from the
hub at edit time, so a value the hub adds appears without a new app version.

Each list comes from the input type itself (the same ``Literal`` the action
validates against), so a dropdown can never offer a value the action refuses.
"""

from __future__ import annotations

import typing
from typing import Any

import msgspec

from hub.actions.lead_engine.appointments import AppointmentChannel, AppointmentKind
from hub.actions.lead_engine.fields import LeadStatus


class Choice(msgspec.Struct):
    value: str
    label: str


class ChoiceList(msgspec.Struct):
    name: str
    items: list[Choice]


def _values(kind: Any) -> list[str]:
    while typing.get_origin(kind) is typing.Annotated:
        kind = typing.get_args(kind)[0]
    return [str(v) for v in typing.get_args(kind)]


_LABELS = {"whatsapp": "WhatsApp"}


def _label(value: str) -> str:
    return _LABELS.get(value) or value.replace("_", " ").capitalize()


# name -> (a description, the values)
CHOICES: dict[str, tuple[str, list[str]]] = {
    "lead_status": ("a lead's status", _values(LeadStatus)),
    "appointment_kind": ("an appointment's kind", _values(AppointmentKind)),
    "appointment_channel": ("an appointment's channel", _values(AppointmentChannel)),
}


def fields_with_choices(input_schema: dict[str, Any]) -> dict[str, str]:
    """The input fields (top level) whose values are exactly a choice list's, by name."""
    out: dict[str, str] = {}
    for field, schema in (input_schema.get("properties") or {}).items():
        variants = [schema, *schema.get("anyOf", [])]
        for variant in variants:
            enum = variant.get("enum")
            if not enum:
                continue
            for name, (_, values) in CHOICES.items():
                if sorted(map(str, enum)) == sorted(values):
                    out[field] = name
    return out


def choice_list(name: str) -> ChoiceList | None:
    found = CHOICES.get(name)
    if found is None:
        return None
    return ChoiceList(name=name, items=[Choice(v, _label(v)) for v in found[1]])
