"""The events, hooks and policy routes are in the OpenAPI document with their bodies."""

from __future__ import annotations

import re
from typing import Any

import httpx
from jsonschema import Draft202012Validator

from hub.sanitize import default_policies
from tests.conftest import Factory, bearer
from tests.events.helpers import subscriber


async def test_routes_and_bodies_are_documented(client: httpx.AsyncClient) -> None:
    r = await client.get("/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for path, method in [
        ("/v1/events", "post"),
        ("/v1/events/{event_type}/samples", "get"),
        ("/v1/hooks", "post"),
        ("/v1/hooks/{hook_id}", "delete"),
        ("/admin/v1/subscriptions", "get"),
        ("/admin/v1/subscriptions/{subscription_id}/secrets/rotate", "post"),
        ("/admin/v1/policies/{event_type}/preview", "post"),
    ]:
        assert method in paths[path], (path, method)
    assert "requestBody" in paths["/v1/events"]["post"]
    assert "requestBody" in paths["/v1/hooks"]["post"]


# -- webhooks: what a subscriber receives, per event type ---------------------------------


def _shape(value: Any) -> Any:
    """Keys and JSON kinds, not values: pseudonyms differ per tenant, shapes never."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return type(value).__name__


def _validator(document: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    """``schema`` with the document's components beside it, where its refs point."""
    return Draft202012Validator({**schema, "components": document["components"]})


async def test_every_deliverable_event_type_is_a_documented_webhook(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    document = (await client.get("/openapi.json")).json()
    webhooks = document["webhooks"]
    assert sorted(webhooks) == default_policies().event_types()
    zap = await subscriber(factory, (await factory.tenant())["id"])
    for name, item in webhooks.items():
        post = item["post"]
        assert post["operationId"] == "deliver_" + name.replace(".", "_")
        headers = {p["name"]: p for p in post["parameters"] if p["in"] == "header"}
        assert sorted(headers) == ["webhook-id", "webhook-signature", "webhook-timestamp"]
        assert all(h["required"] for h in headers.values())
        assert {"2XX", "410", "429", "default"} <= set(post["responses"])
        content = post["requestBody"]["content"]["application/json"]
        example = content["example"]
        _validator(document, content["schema"]).validate(example)
        assert example["type"] == name
        # The example is what this event type's delivery carries, shape for shape.
        r = await client.get(f"/v1/events/{name}/samples", headers=bearer(zap["api_key"]))
        assert r.status_code == 200, r.text
        assert _shape(example) == _shape(r.json()[0])


async def test_a_webhook_body_of_the_wrong_type_breaks_its_schema(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    content = document["webhooks"]["lead.created"]["post"]["requestBody"]["content"]
    validator = _validator(document, content["application/json"]["schema"])
    example = content["application/json"]["example"]
    assert not validator.is_valid({**example, "type": "lead.updated"})
    assert not validator.is_valid({k: v for k, v in example.items() if k != "occurred_at"})


async def test_every_operation_is_named_and_described(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    operations = [
        op
        for item in [*document["paths"].values(), *document["webhooks"].values()]
        for op in item.values()
        if isinstance(op, dict) and "responses" in op
    ]
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z]+(_[a-z0-9]+)+", i) for i in ids), ids
    assert all(op.get("summary") and op.get("description") for op in operations), [
        op["operationId"] for op in operations if not (op.get("summary") and op.get("description"))
    ]
