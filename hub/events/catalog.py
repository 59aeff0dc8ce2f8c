"""The event catalog: every event type declared once (issue 4 fills it in).

Interface other capabilities rely on (keep it): ``EVENT_TYPES`` maps the type name
(e.g. ``lead.created``) to an ``EventType``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class EventType:
    name: str
    title: str
    description: str
    data_type: type[Any]  # a msgspec Struct
    sample: dict[str, Any]  # the ``data`` of a realistic example


EVENT_TYPES: dict[str, EventType] = {}
