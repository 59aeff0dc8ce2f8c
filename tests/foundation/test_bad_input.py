"""Every kind of bad request answers its documented problem and changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
import pytest
from litestar import get

from hub.app import Hub, create_app
from hub.runtime import Runtime
from tests.conftest import Factory
from tests.foundation.conftest import Admin, problem
from tests.support.snapshots import unchanged

JSON = {"Content-Type": "application/json"}


@pytest.fixture
async def tenant_id(factory: Factory) -> str:
    tenant_id: str = (await factory.tenant())["id"]
    return tenant_id


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/nope", 404, "NOT_FOUND"),
        ("GET", "/v1/nope", 404, "NOT_FOUND"),
        ("POST", "/admin/v1/nope/deeper", 404, "NOT_FOUND"),
        ("GET", "/admin/v1/integrations/int_x/keys", 404, "NOT_FOUND"),
        ("DELETE", "/admin/v1/tenants", 405, "METHOD_NOT_ALLOWED"),
        ("PUT", "/v1/me", 405, "METHOD_NOT_ALLOWED"),
        ("POST", "/healthz", 405, "METHOD_NOT_ALLOWED"),
    ],
)
async def test_unknown_routes_and_wrong_methods(
    rt: Runtime,
    client: httpx.AsyncClient,
    admin: Admin,
    method: str,
    path: str,
    status: int,
    code: str,
) -> None:
    async with unchanged(rt.db):
        r = await client.request(method, path, headers=admin.headers)
    problem(r, status, code)
    if status == 405:
        assert r.headers["allow"]


async def test_options_and_405_allow_every_documented_method(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    for template, item in paths.items():
        path = template.replace("{", "x_").replace("}", "")
        documented = {m.upper() for m in item if m in {"get", "post", "patch", "put", "delete"}}
        r = await client.options(path)
        assert r.status_code == 204, (path, r.text)
        assert set(r.headers["allow"].split(", ")) == documented | {"OPTIONS"}, path
        if "PUT" not in documented:
            r = await client.put(path)
            assert r.status_code == 405, (path, r.text)
            assert set(r.headers["allow"].split(", ")) == documented | {"OPTIONS"}, path


@pytest.mark.parametrize(
    ("raw", "content_type", "status", "code"),
    [
        (b'{"name": ', "application/json", 400, "MALFORMED_JSON"),
        (b"{'name': 'single quotes'}", "application/json", 400, "MALFORMED_JSON"),
        (b'{"name": "x"} trailing', "application/json", 400, "MALFORMED_JSON"),
        (b"\xff\xfe\x00", "application/json", 400, "MALFORMED_JSON"),
        (b"", "application/json", 400, "MALFORMED_JSON"),
        (b"   ", "application/json", 400, "MALFORMED_JSON"),
        (b"[]", "application/json", 422, "VALIDATION_FAILED"),
        (b'"Acme"', "application/json", 422, "VALIDATION_FAILED"),
        (b"null", "application/json", 422, "VALIDATION_FAILED"),
        (b'{"name": "Acme"}', "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE"),
        (b'{"name": "Acme"}', "application/x-www-form-urlencoded", 415, "UNSUPPORTED_MEDIA_TYPE"),
        (b'{"name": "Acme"}', "", 415, "UNSUPPORTED_MEDIA_TYPE"),
        (b"name=Acme", "multipart/form-data; boundary=x", 415, "UNSUPPORTED_MEDIA_TYPE"),
    ],
)
async def test_bodies_that_are_not_the_json_asked_for(
    rt: Runtime,
    client: httpx.AsyncClient,
    admin: Admin,
    raw: bytes,
    content_type: str,
    status: int,
    code: str,
) -> None:
    headers = {**admin.headers}
    if content_type:
        headers["Content-Type"] = content_type
    async with unchanged(rt.db):
        r = await client.post("/admin/v1/tenants", content=raw, headers=headers)
    problem(r, status, code)


async def test_json_with_a_charset_or_a_json_suffix_is_accepted(
    client: httpx.AsyncClient, admin: Admin
) -> None:
    for content_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
        r = await client.post(
            "/admin/v1/tenants",
            content=b'{"name": "Acme"}',
            headers={**admin.headers, "Content-Type": content_type},
        )
        assert r.status_code == 201, r.text


async def test_every_field_error_is_listed_at_once(
    rt: Runtime, client: httpx.AsyncClient, admin: Admin, tenant_id: str
) -> None:
    body = {"name": 5, "kind": "fax", "mode": "batch", "scopes": "actions:*", "colour": "red"}
    async with unchanged(rt.db):
        r = await admin.post(f"/tenants/{tenant_id}/integrations", body)
    errors = problem(r, 422, "VALIDATION_FAILED")["errors"]
    assert sorted(e["path"] for e in errors) == [
        "$.colour",
        "$.kind",
        "$.mode",
        "$.name",
        "$.scopes",
    ]
    assert all(e["message"] for e in errors)


async def test_missing_required_fields_are_listed(
    rt: Runtime, admin: Admin, tenant_id: str
) -> None:
    async with unchanged(rt.db):
        r = await admin.post(f"/tenants/{tenant_id}/integrations", {})
    errors = problem(r, 422, "VALIDATION_FAILED")["errors"]
    assert {e["path"]: e["message"] for e in errors} == {
        "$.name": "required field missing",
        "$.kind": "required field missing",
    }


@pytest.mark.parametrize(
    ("body", "paths"),
    [
        ({"name": ""}, ["$.name"]),
        ({"name": "   "}, ["$.name"]),
        ({"name": "x" * 201}, ["$.name"]),
        ({"name": "Acme", "limits": {"actions_per_minute": -1}}, ["$.limits.actions_per_minute"]),
        ({"name": "Acme", "limits": {"per_hour": 5}}, ["$.limits.per_hour"]),
        ({"name": "Acme", "id": "ten_mine"}, ["$.id"]),
    ],
)
async def test_tenant_field_rules(
    rt: Runtime, admin: Admin, body: dict[str, Any], paths: list[str]
) -> None:
    async with unchanged(rt.db):
        r = await admin.post("/tenants", body)
    errors = problem(r, 422, "VALIDATION_FAILED")["errors"]
    assert [e["path"] for e in errors] == paths


async def test_unknown_scopes_are_refused(rt: Runtime, admin: Admin, tenant_id: str) -> None:
    body = {"name": "x", "kind": "zapier", "scopes": ["actions:*", "admin:*", "triggers:"]}
    async with unchanged(rt.db):
        r = await admin.post(f"/tenants/{tenant_id}/integrations", body)
    errors = problem(r, 422, "VALIDATION_FAILED")["errors"]
    assert [e["path"] for e in errors] == ["$.scopes", "$.scopes"]
    assert "admin:*" in errors[0]["message"]


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "many"},
        {"since": "yesterday"},
        {"until": "2024-13-40T00:00:00Z"},
        {"since": "2024-01-01T00:00:00"},  # no offset: ambiguous
    ],
)
async def test_bad_query_parameters(rt: Runtime, admin: Admin, query: dict[str, str]) -> None:
    async with unchanged(rt.db):
        r = await admin.get("/audit", params=query)
    body = problem(r, 422, "VALIDATION_FAILED")
    assert [e["path"] for e in body["errors"]] == [f"$.{next(iter(query))}"]


async def test_oversize_bodies_are_refused(
    rt: Runtime, client: httpx.AsyncClient, admin: Admin
) -> None:
    big = msgspec.json.encode({"name": "x" * (rt.settings.max_body_bytes + 1)})
    async with unchanged(rt.db):
        r = await client.post("/admin/v1/tenants", content=big, headers={**admin.headers, **JSON})
        problem(r, 413, "PAYLOAD_TOO_LARGE")

        async def chunks() -> AsyncIterator[bytes]:
            # No Content-Length: the limit must hold while streaming too.
            for _ in range(rt.settings.max_body_bytes // 65536 + 2):
                yield b" " * 65536

        r = await client.post(
            "/admin/v1/tenants", content=chunks(), headers={**admin.headers, **JSON}
        )
        problem(r, 413, "PAYLOAD_TOO_LARGE")


async def test_the_body_limit_is_configurable(rt: Runtime, hub: Hub) -> None:
    import msgspec.structs

    settings = msgspec.structs.replace(rt.settings, max_body_bytes=100)
    app = create_app(settings, hub=hub)
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {rt.settings.bootstrap_admin_token}", **JSON}
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as c:
        ok = await c.post("/admin/v1/tenants", content=b'{"name": "small"}', headers=headers)
        assert ok.status_code == 201
        body = b'{"name": "' + b"x" * 100 + b'"}'
        async with unchanged(rt.db):
            problem(
                await c.post("/admin/v1/tenants", content=body, headers=headers),
                413,
                "PAYLOAD_TOO_LARGE",
            )


SECRET_IN_EXCEPTION = "hk_leaked_0123456789abcdef"


@get("/test-only/boom")
async def boom() -> None:
    raise RuntimeError(f"database password is {SECRET_IN_EXCEPTION}")


async def test_an_unhandled_exception_is_a_bare_internal_problem(rt: Runtime, hub: Hub) -> None:
    app = create_app(rt.settings, hub=hub, extra_routes=[boom])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        unchanged(rt.db),
        httpx.AsyncClient(transport=transport, base_url="http://hub.test") as c,
    ):
        r = await c.get("/test-only/boom", headers={"X-Request-Id": "trace-me-1"})
    body = problem(r, 500, "INTERNAL")
    assert body["correlation_id"] == "trace-me-1"
    for leak in (SECRET_IN_EXCEPTION, "RuntimeError", "Traceback", "boom", "password", ".py"):
        assert leak not in r.text


GOOD_SHAPE_UNKNOWN = "hk_" + "0" * 16 + "_" + "a" * 52


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer    "},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": GOOD_SHAPE_UNKNOWN},  # "Bearer" missing
        {"Authorization": "Bearer hk_short_key"},
        {"Authorization": "Bearer sk_live_" + "a" * 60},  # wrong prefix
        {"Authorization": "Bearer " + GOOD_SHAPE_UNKNOWN},  # well formed, unknown
        {"Authorization": "Bearer " + GOOD_SHAPE_UNKNOWN.upper()},
        {"Authorization": "Bearer " + "hk_" + "a" * 100_000},  # huge
        {"Authorization": "Bearer hk_" + "0" * 16 + "_" + "a" * 51 + "\u00e9"},  # non-ASCII
        {"Authorization": "Bearer hk_" + "0" * 16 + "_" + "a" * 51 + "\u2603"},
        {"Authorization": "Bearer " + GOOD_SHAPE_UNKNOWN + "\x00"},
        {"X-API-Key": ""},
        {"X-API-Key": "garbage"},
        {"X-API-Key": GOOD_SHAPE_UNKNOWN},
    ],
    ids=lambda h: next(iter(h), "none") + ":" + repr(next(iter(h.values()), ""))[:40],
)
async def test_garbage_credentials_are_unauthenticated(
    rt: Runtime, client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    raw = [(k.lower().encode(), v.encode("utf-8")) for k, v in headers.items()]
    async with unchanged(rt.db):
        for path in ("/v1/me", "/admin/v1/tenants"):
            r = await client.get(path, headers=raw)
            problem(r, 401, "UNAUTHENTICATED")
            assert r.headers["www-authenticate"].startswith("Bearer")


async def test_a_real_key_with_a_wrong_secret_is_unauthenticated(
    rt: Runtime, client: httpx.AsyncClient, factory: Factory
) -> None:
    integration = await factory.integration()
    key = integration["api_key"]
    tampered = key[:-1] + ("a" if key[-1] != "a" else "b")
    async with unchanged(rt.db):
        problem(
            await client.get("/v1/me", headers={"Authorization": f"Bearer {tampered}"}),
            401,
            "UNAUTHENTICATED",
        )
        # An API key is not an admin token, nor the other way round.
        problem(
            await client.get("/admin/v1/tenants", headers={"Authorization": f"Bearer {key}"}),
            401,
            "UNAUTHENTICATED",
        )
        bootstrap = rt.settings.bootstrap_admin_token
        problem(
            await client.get("/v1/me", headers={"Authorization": f"Bearer {bootstrap}"}),
            401,
            "UNAUTHENTICATED",
        )


async def test_an_error_that_escapes_the_app_is_still_a_problem_with_a_request_id() -> None:
    from hub.web.asgi import RequestContext

    async def broken(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError(f"escaped with {SECRET_IN_EXCEPTION}")

    transport = httpx.ASGITransport(app=RequestContext(broken), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as c:
        r = await c.get("/anything", headers={"X-Request-Id": "escaped-1"})
    assert problem(r, 500, "INTERNAL")["correlation_id"] == "escaped-1"
    assert SECRET_IN_EXCEPTION not in r.text
