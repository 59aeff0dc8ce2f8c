"""The OpenAPI ``webhooks``: what the hub POSTs to a subscriber, one entry per event type.

Each entry states the Standard Webhooks headers, the ``DeliveredBody`` the receiver
gets (its ``data`` as the type's policy leaves it, with the catalog sample sanitized
the same way as the example) and what each answer makes the hub do
(docs/delivery.md, "Outcomes"). Only types with a policy appear: nothing else is
ever delivered.
"""

from __future__ import annotations

from typing import Any

import msgspec

from hub.events.catalog import EVENT_TYPES, EventType
from hub.events.samples import catalog_sample
from hub.events.schemas import DeliveredBody
from hub.sanitize import Pseudonymizer, default_policies

# Pseudonyms in the examples come from a fixed, public key: they show the shape of a
# ``hash`` field, never a value a real tenant would see.
_EXAMPLE_PSEUDONYMS = Pseudonymizer(b"hub openapi example")

WEBHOOK_TYPES: tuple[type[Any], ...] = (DeliveredBody,)

_HEADERS: list[dict[str, Any]] = [
    {
        "name": "webhook-id",
        "in": "header",
        "required": True,
        "description": "The delivery id (`dlv_…`): the same on every retry and replay of "
        "this delivery.",
        "schema": {"type": "string"},
    },
    {
        "name": "webhook-timestamp",
        "in": "header",
        "required": True,
        "description": "When this attempt was signed, in Unix seconds. Refuse a "
        "timestamp far from your clock (Standard Webhooks suggests 5 minutes).",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    {
        "name": "webhook-signature",
        "in": "header",
        "required": True,
        "description": 'Space-separated `v1,<base64 HMAC-SHA256(secret, "{webhook-id}.'
        '{webhook-timestamp}.{body}")>`, one per live secret of the subscription (two '
        "while a rotation's grace period runs): accept the request if any one matches, "
        "comparing in constant time.",
        "schema": {"type": "string"},
    },
]

_RESPONSES: dict[str, Any] = {
    "2XX": {"description": "Received: the delivery is done and never sent again."},
    "410": {
        "description": "Gone: the hub deletes the subscription and cancels its open "
        "deliveries (no dead letter)."
    },
    "429": {
        "description": "Slow down: retried on the schedule, at least 60 s later; a "
        "`Retry-After` is honoured within [scheduled delay, 2 × scheduled delay].",
        "headers": {"Retry-After": {"schema": {"type": "string"}}},
    },
    "default": {
        "description": "408, 425 and 5xx (and timeouts, connection errors) are retried "
        "on the schedule, then dead-lettered; any other 4xx, 3xx or 1xx gets one more "
        "attempt, then is dead-lettered. Redirects are never followed."
    },
}


def _entry(event: EventType, example: dict[str, Any]) -> dict[str, Any]:
    schema = {
        "allOf": [
            {"$ref": "#/components/schemas/DeliveredBody"},
            {
                "type": "object",
                "properties": {
                    "type": {"const": event.name},
                    "data": {
                        "type": "object",
                        "description": f"`{event.name}` data as `policies/{event.name}"
                        ".json` (narrowed by the integration's override) leaves it: "
                        "dropped fields are absent, masked and hashed ones are text, "
                        "every revealed field is present (`null` when the event had "
                        "no value).",
                    },
                },
            },
        ]
    }
    return {
        "post": {
            "operationId": "deliver_" + event.name.replace(".", "_"),
            "summary": event.title,
            "description": event.description
            + "\n\nSent to every active subscription to this event type, signed per "
            "Standard Webhooks v1; `id` (the event id) is the same across retries and "
            "replays, so dedupe on it.",
            "parameters": _HEADERS,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": schema, "example": example}},
            },
            "responses": _RESPONSES,
        }
    }


def webhooks_document() -> dict[str, Any]:
    """``{event type: Path Item}`` for the OpenAPI document's ``webhooks``."""
    policies = default_policies()
    found: dict[str, Any] = {}
    for name in sorted(EVENT_TYPES):
        policy = policies.compiled(name)
        if policy is None:
            continue
        example = catalog_sample(name, policy, _EXAMPLE_PSEUDONYMS)
        found[name] = _entry(EVENT_TYPES[name], msgspec.json.decode(example))
    return found
