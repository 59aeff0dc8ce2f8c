"""Admins set an integration's policy overrides; only narrowing ones are accepted."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Factory


async def _patch(
    client: httpx.AsyncClient, headers: dict[str, str], integration_id: str, overrides: Any
) -> httpx.Response:
    return await client.patch(
        f"/admin/v1/integrations/{integration_id}",
        json={"policy_overrides": overrides},
        headers=headers,
    )


async def test_narrowing_overrides_are_stored(
    client: httpx.AsyncClient, factory: Factory, admin_headers: dict[str, str]
) -> None:
    zap = await factory.integration()
    overrides = {
        "lead.created": {
            "contact.emails[].address": "drop",
            "contact.name": "truncate:1",
            "company_name": "hash",
            "contact.phones[]": "drop",
        },
        "message.received": {"body": "truncate:100", "lead": "drop"},
    }
    r = await _patch(client, admin_headers, zap["id"], overrides)
    assert r.status_code == 200, r.text
    assert r.json()["policy_overrides"] == overrides
    r = await _patch(client, admin_headers, zap["id"], {})
    assert r.status_code == 200
    assert r.json()["policy_overrides"] == {}


@pytest.mark.parametrize(
    ("overrides", "path"),
    [
        (
            {"lead.created": {"raw_email": "keep"}},
            "$.policy_overrides['lead.created']['raw_email']",
        ),
        ({"lead.created": {"notes": "truncate:5"}}, "$.policy_overrides['lead.created']['notes']"),
        (
            {"lead.created": {"contact.emails[].address": "keep"}},
            "$.policy_overrides['lead.created']['contact.emails[].address']",
        ),
        (
            {"message.received": {"body": "truncate:5000"}},
            "$.policy_overrides['message.received']['body']",
        ),
        (
            {"lead.created": {"document": "mask_email"}},
            "$.policy_overrides['lead.created']['document']",
        ),
        (
            {"lead.created": {"contact.fax": "drop"}},
            "$.policy_overrides['lead.created']['contact.fax']",
        ),
        ({"lead.created": {"lead_id": "reveal"}}, "$.policy_overrides['lead.created']['lead_id']"),
        ({"lead.exploded": {"a": "drop"}}, "$.policy_overrides['lead.exploded']"),
        ({"lead.created": {"source.row": "mask_phone"}}, "$.policy_overrides['lead.created']"),
    ],
)
async def test_widening_or_unknown_overrides_are_refused(
    client: httpx.AsyncClient,
    factory: Factory,
    admin_headers: dict[str, str],
    overrides: dict[str, Any],
    path: str,
) -> None:
    zap = await factory.integration()
    r = await _patch(client, admin_headers, zap["id"], overrides)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "VALIDATION_FAILED"
    assert [e["path"] for e in body["errors"]] == [path]
    stored = await client.get(f"/admin/v1/integrations/{zap['id']}", headers=admin_headers)
    assert stored.json()["policy_overrides"] == {}
