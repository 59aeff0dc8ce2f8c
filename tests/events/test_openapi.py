"""The events, hooks and policy routes are in the OpenAPI document with their bodies."""

from __future__ import annotations

import httpx


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
