"""Hostile input at the decoding layer: NUL, invalid UTF-8, deep nesting, edge timestamps.

Each rule answers its documented 4xx problem on every backend and changes nothing
(docs/api.md, "Limits of accepted input"). Event- and action-specific cases live in
tests/events/test_hostile_items.py and tests/actions/test_hostile_input.py.
"""

from __future__ import annotations

from typing import Any

import httpx
import msgspec
import pytest

from hub.actions.idempotency import canonical_json
from hub.runtime import Runtime
from hub.web.errors import ProblemError
from hub.web.input_rules import MAX_DEPTH, depth_exceeds
from tests.conftest import Factory, bearer
from tests.foundation.conftest import Admin, problem
from tests.support.snapshots import unchanged

JSON = {"Content-Type": "application/json"}
NUL_MESSAGE = "text must not contain the NUL character (\\u0000)"


def nested(levels: int, leaf: bytes = b"1") -> bytes:
    """A JSON value nested ``levels`` deep: arrays and objects alternating."""
    opening = b"".join(b'{"k":' if i % 2 else b"[" for i in range(levels))
    closing = b"".join(b"}" if i % 2 else b"]" for i in reversed(range(levels)))
    return opening + leaf + closing


def paths(body: dict[str, Any]) -> list[str]:
    return [e["path"] for e in body["errors"]]


@pytest.fixture
async def subscriber_key(factory: Factory) -> str:
    integration = await factory.integration(scopes=["triggers:*"])
    return str(integration["api_key"])


# -- NUL ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        (b'{"name": "Ac\\u0000me"}', "$.name"),
        (b'{"name": "Acme", "contact\\u0000": "x"}', "$.contact\\u0000"),
        (b'{"name": "Acme", "settings": {"a": ["ok", "\\u0000"]}}', "$.settings.a[1]"),
    ],
)
async def test_nul_in_an_admin_body_is_a_validation_error_at_its_path(
    rt: Runtime, admin: Admin, raw: bytes, path: str
) -> None:
    async with unchanged(rt.db):
        r = await admin.client.post("/admin/v1/tenants", content=raw, headers=admin._headers(JSON))
    body = problem(r, 422, "VALIDATION_FAILED")
    assert path in paths(body)
    assert body["errors"][0]["message"] == NUL_MESSAGE
    assert "\x00" not in r.text  # the path shows the escape, never the byte


async def test_an_escaped_backslash_before_u0000_is_no_nul(admin: Admin) -> None:
    r = await admin.client.post(
        "/admin/v1/tenants", content=b'{"name": "C:\\\\u0000 Ltda"}', headers=admin._headers(JSON)
    )
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "C:\\u0000 Ltda"


async def test_nul_in_a_hook_body(
    rt: Runtime, client: httpx.AsyncClient, subscriber_key: str
) -> None:
    raw = b'{"event": "lead.created", "target_url": "http://127.0.0.1:9/h\\u0000ok"}'
    async with unchanged(rt.db):
        r = await client.post("/v1/hooks", content=raw, headers={**bearer(subscriber_key), **JSON})
    assert paths(problem(r, 422, "VALIDATION_FAILED")) == ["$.target_url"]


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("/admin/v1/tenants/ten_x%00y", "$.tenant_id"),
        ("/admin/v1/integrations/int_%00/keys/rotate", "$.integration_id"),
        ("/admin/v1/subscriptions/sub_%00", "$.subscription_id"),
        ("/admin/v1/audit?action=tenant.created%00", "$.action"),
        ("/admin/v1/audit?since=2025-01-01T00:00:00Z&tenant_id=%00", "$.tenant_id"),
        ("/admin/v1/executions?status=ok&cur%00sor=x", "$.cur\\u0000sor"),
    ],
)
async def test_nul_in_a_path_or_query_value_is_422_at_the_parameter(
    rt: Runtime, admin: Admin, url: str, path: str
) -> None:
    method = "POST" if url.endswith("/rotate") else "GET"
    async with unchanged(rt.db):
        r = await admin.client.request(method, url, headers=admin.headers)
    body = problem(r, 422, "VALIDATION_FAILED")
    assert paths(body) == [path]
    assert body["errors"][0]["message"] == NUL_MESSAGE


async def test_nul_in_an_integration_path(
    rt: Runtime, client: httpx.AsyncClient, subscriber_key: str
) -> None:
    for method, url, path in [
        ("GET", "/v1/executions/exe_%00", "$.execution_id"),
        ("DELETE", "/v1/hooks/sub_%00", "$.hook_id"),
        ("GET", "/v1/events/lead.created%00/samples", "$.event_type"),
    ]:
        async with unchanged(rt.db):
            r = await client.request(method, url, headers=bearer(subscriber_key))
        assert paths(problem(r, 422, "VALIDATION_FAILED")) == [path], url


# -- invalid UTF-8 and lone surrogates ------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b'{"name": "Padaria P\xe3o"}',  # latin-1, not UTF-8
        b'{"name": "ok", "ignored": "\xff"}',  # also where no decoder would look
        b'{"name": "\xed\xa0\x80"}',  # an encoded surrogate
        b'{"name": "\\ud800"}',  # lone high surrogate
        b'{"name": "\\udc00x"}',  # lone low surrogate
        b'{"name": "\\ud800\\u0041"}',  # high surrogate without its pair
    ],
)
async def test_text_that_is_not_unicode_is_malformed_json(
    rt: Runtime, admin: Admin, raw: bytes
) -> None:
    async with unchanged(rt.db):
        r = await admin.client.post("/admin/v1/tenants", content=raw, headers=admin._headers(JSON))
    problem(r, 400, "MALFORMED_JSON")


async def test_invalid_utf8_on_every_json_endpoint(
    rt: Runtime, client: httpx.AsyncClient, admin: Admin, factory: Factory, subscriber_key: str
) -> None:
    tenant = await factory.tenant()
    integration = await factory.integration(tenant["id"], scopes=["events:publish", "actions:*"])
    key = bearer(integration["api_key"])
    bad = b'{"name": "\xff"}'
    calls = [
        ("/admin/v1/tenants", bad, admin.headers),
        (f"/admin/v1/tenants/{tenant['id']}/integrations", bad, admin.headers),
        ("/admin/v1/policies/lead.created/preview", bad, admin.headers),
        ("/v1/hooks", bad, bearer(subscriber_key)),
        ("/v1/events", b'{"id": "e1", "type": "lead.created", "data": {"x": "\xff"}}', key),
        ("/v1/events", b'{"events": [{"id": "\xff"}]}', key),
        ("/v1/actions/create_lead", bad, {**key, "Idempotency-Key": "k-utf8"}),
    ]
    for url, raw, headers in calls:
        async with unchanged(rt.db):
            r = await client.post(url, content=raw, headers={**headers, **JSON})
        problem(r, 400, "MALFORMED_JSON")
        assert "UTF-8" in r.json()["detail"], url


# -- nesting depth ---------------------------------------------------------------------------


def test_depth_is_counted_outside_strings_and_without_recursion() -> None:
    assert not depth_exceeds(nested(MAX_DEPTH))
    assert depth_exceeds(nested(MAX_DEPTH + 1))
    assert depth_exceeds(b"[" * 100_000)  # unclosed counts: the decoder would descend
    assert depth_exceeds(nested(200_000))
    brackets_in_strings = b'["' + b"[{" * 100 + b'", "\\"[[[", "\\\\"]'
    assert not depth_exceeds(brackets_in_strings)
    assert depth_exceeds(b'["\\\\", ' + nested(MAX_DEPTH) + b"]")


def test_the_fingerprint_refuses_what_it_would_recurse_into() -> None:
    deep: list[Any] = []
    inner = deep
    for _ in range(5000):
        inner.append([])
        inner = inner[0]
    with pytest.raises(ProblemError) as raised:
        canonical_json(deep)
    assert raised.value.code == "VALIDATION_FAILED"
    assert canonical_json(msgspec.json.decode(nested(MAX_DEPTH)))


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 2000, 100_000])
async def test_bodies_nested_too_deep_are_422_everywhere(
    rt: Runtime, client: httpx.AsyncClient, admin: Admin, subscriber_key: str, levels: int
) -> None:
    deep = nested(levels)
    tenant = (await admin.post("/tenants", {"name": "Acme"})).json()
    calls = [
        ("/admin/v1/tenants", b'{"name": "Acme", "x": ' + deep + b"}", admin.headers),
        (f"/admin/v1/tenants/{tenant['id']}/integrations", deep, admin.headers),
        (
            "/admin/v1/policies/lead.created/preview",
            b'{"integration_id": "int_x", "data": {"notes": ' + deep + b"}}",
            admin.headers,
        ),
        ("/admin/v1/tokens", b'{"name": ' + deep + b"}", admin.headers),
        (
            "/v1/hooks",
            b'{"event": "lead.created", "ignored": ' + deep + b"}",
            bearer(subscriber_key),
        ),
    ]
    for url, raw, headers in calls:
        async with unchanged(rt.db):
            r = await client.post(url, content=raw, headers={**headers, **JSON})
        body = problem(r, 422, "VALIDATION_FAILED")
        assert body["errors"] == [
            {"path": "$", "message": f"nested deeper than {MAX_DEPTH} levels"}
        ]


async def test_a_body_at_the_depth_limit_is_judged_by_its_schema(admin: Admin) -> None:
    raw = b'{"name": "Acme", "x": ' + nested(MAX_DEPTH - 1) + b"}"
    r = await admin.client.post("/admin/v1/tenants", content=raw, headers=admin._headers(JSON))
    assert paths(problem(r, 422, "VALIDATION_FAILED")) == ["$.x"]  # unknown field, not depth


# -- timestamps in query parameters ------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ("since=0001-01-01T00:00:00%2B01:00", "$.since"),
        ("until=9999-12-31T23:59:59-01:00", "$.until"),
        ("since=0001-01-01T23:59:59Z&until=9999-12-31T00:00:00Z", None),
    ],
)
async def test_audit_filters_outside_the_timestamp_range(
    rt: Runtime, admin: Admin, query: str, path: str | None
) -> None:
    async with unchanged(rt.db):
        r = await admin.client.get(f"/admin/v1/audit?{query}", headers=admin.headers)
    body = problem(r, 422, "VALIDATION_FAILED")
    assert paths(body) == ([path] if path else ["$.since", "$.until"])


async def test_audit_filters_at_the_edges_of_the_range(admin: Admin) -> None:
    assert (await admin.post("/tenants", {"name": "Acme"})).status_code == 201
    r = await admin.get(
        "/audit", params={"since": "0001-01-02T00:00:00Z", "until": "9999-12-30T23:59:59Z"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["items"]  # the tenant just created is in range
