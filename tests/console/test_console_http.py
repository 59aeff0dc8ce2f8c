"""The console and the portal over plain HTTP: hostile forms, queries and portal tokens
get a 4xx page and change nothing (the browser tests cover the flows)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from hub.clock import FrozenClock
from tests.conftest import BOOTSTRAP_TOKEN, Factory

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def _signed_in(client: httpx.AsyncClient, token: str = BOOTSTRAP_TOKEN) -> str:
    """Signs the client in (its cookie jar keeps the session); the page's CSRF token."""
    r = await client.post("/console/sign-in", data={"token": token})
    assert r.status_code == 303, r.text
    page = await client.get("/console/tenants")
    assert page.status_code == 200
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def _code(r: httpx.Response) -> str | None:
    """The problem code a page shows (its ``role="alert"`` line)."""
    found = re.search(r'role="alert"><code>([A-Z_]+)</code>', r.text)
    return found.group(1) if found else None


def _problem(r: httpx.Response, status: int, code: str) -> None:
    assert r.headers["content-type"].startswith("text/html")
    assert (r.status_code, _code(r)) == (status, code)


async def _tenant_names(client: httpx.AsyncClient) -> list[str]:
    r = await client.get(
        "/admin/v1/tenants", headers={"Authorization": f"Bearer {BOOTSTRAP_TOKEN}"}
    )
    return sorted(t["name"] for t in r.json()["items"])


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"token=%00", 422, "VALIDATION_FAILED"),
        (b"token=\xff\xfe", 400, "BAD_REQUEST"),
        (b"token=" + b"a" * (65 * 1024), 413, "PAYLOAD_TOO_LARGE"),
        (b"token=adm_wrong", 401, "UNAUTHENTICATED"),
        (b"&".join(b"f%d=1" % i for i in range(300)), 400, "BAD_REQUEST"),
    ],
    ids=["nul", "invalid-utf8", "oversized", "wrong-token", "too-many-fields"],
)
async def test_a_hostile_sign_in_opens_no_session(
    client: httpx.AsyncClient, body: bytes, status: int, code: str
) -> None:
    r = await client.post("/console/sign-in", content=body, headers=FORM)
    _problem(r, status, code)
    assert "set-cookie" not in r.headers
    assert (await client.get("/console/overview")).status_code == 303  # still signed out


async def test_hostile_forms_change_nothing(client: httpx.AsyncClient) -> None:
    csrf = await _signed_in(client)
    before = await _tenant_names(client)
    cases: list[tuple[bytes, int, str]] = [
        (f"csrf={csrf}&name=a%00b".encode(), 422, "VALIDATION_FAILED"),
        (f"csrf={csrf}&name=".encode() + b"\xc3\x28", 400, "BAD_REQUEST"),
        (f"csrf={csrf}&name={'x' * 300}".encode(), 422, "VALIDATION_FAILED"),
        (f"csrf={csrf}&name=%20%20".encode(), 422, "VALIDATION_FAILED"),
        (b"name=Evil", 403, "FORBIDDEN"),  # no CSRF token
        ("csrf=ünïcode&name=Evil".encode(), 403, "FORBIDDEN"),  # not ASCII: no 500
        (f"csrf={csrf[:-1]}X&name=Evil".encode(), 403, "FORBIDDEN"),
    ]
    for body, status, code in cases:
        r = await client.post("/console/tenants", content=body, headers=FORM)
        _problem(r, status, code)
    assert await _tenant_names(client) == before
    ok = await client.post("/console/tenants", data={"csrf": csrf, "name": "Fine"})
    assert ok.status_code == 303  # the valid form beside them still works
    assert await _tenant_names(client) == sorted([*before, "Fine"])


async def test_a_hostile_sanitizer_sample_is_a_problem_page(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    csrf = await _signed_in(client)
    integration = await factory.integration()
    url = "/console/catalog/lead.created/preview"
    for sample, status, code in [
        ("[" * 10_000 + "]" * 10_000, 422, "VALIDATION_FAILED"),  # too deep
        ("{not json", 400, "MALFORMED_JSON"),
        ('{"name": "a\\u0000b"}', 422, "VALIDATION_FAILED"),
    ]:
        r = await client.post(
            url, data={"csrf": csrf, "integration_id": integration["id"], "data": sample}
        )
        assert (r.status_code, _code(r)) == (status, code), sample[:20]


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/console/deliveries?target_host=hooks%25", 422, "VALIDATION_FAILED"),
        ("/console/deliveries?since=yesterday", 422, "VALIDATION_FAILED"),
        ("/console/deliveries?status=nope", 422, "VALIDATION_FAILED"),
        ("/console/deliveries?tenant_id=" + "t" * 41, 422, "VALIDATION_FAILED"),
        ("/console/deliveries/dlv_%00", 422, "VALIDATION_FAILED"),  # NUL, as in the API
        ("/console/tenants/ten_nope", 404, "NOT_FOUND"),
        ("/console/catalog/no.such", 404, "NOT_FOUND"),
    ],
)
async def test_hostile_queries_and_paths_are_problem_pages(
    client: httpx.AsyncClient, path: str, status: int, code: str
) -> None:
    await _signed_in(client)
    _problem(await client.get(path), status, code)


async def test_a_tenant_session_reaches_only_its_tenant(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    mine, theirs = await factory.tenant("Mine"), await factory.tenant("Theirs")
    r = await client.post(
        "/admin/v1/tokens",
        json={"name": "ops", "tenant_id": mine["id"]},
        headers={"Authorization": f"Bearer {BOOTSTRAP_TOKEN}"},
    )
    assert r.status_code == 201, r.text
    csrf = await _signed_in(client, r.json()["token"])
    _problem(await client.get(f"/console/tenants/{theirs['id']}"), 404, "NOT_FOUND")
    deliveries = await client.get(f"/console/deliveries?tenant_id={theirs['id']}")
    _problem(deliveries, 404, "NOT_FOUND")
    created = await client.post(
        f"/console/tenants/{theirs['id']}/integrations",
        data={"csrf": csrf, "name": "x", "kind": "zapier", "mode": "live", "scopes": "actions:*"},
    )
    _problem(created, 404, "NOT_FOUND")
    listed = await client.get(
        "/admin/v1/tenants/{}/integrations".format(theirs["id"]),
        headers={"Authorization": f"Bearer {BOOTSTRAP_TOKEN}"},
    )
    assert listed.json()["items"] == []


async def _link(client: httpx.AsyncClient, integration_id: str, **body: Any) -> dict[str, Any]:
    r = await client.post(
        f"/admin/v1/integrations/{integration_id}/portal-links",
        json=body,
        headers={"Authorization": f"Bearer {BOOTSTRAP_TOKEN}"},
    )
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def _token(link: dict[str, Any]) -> str:
    return str(httpx.URL(link["url"]).params["token"])


async def test_forged_tampered_and_expired_portal_tokens_open_nothing(
    client: httpx.AsyncClient, factory: Factory, clock: FrozenClock
) -> None:
    one, other = await factory.integration(), await factory.integration()
    link = await _link(client, one["id"], ttl_seconds=120)
    theirs = await _link(client, other["id"])
    link_id, expiry, signature = _token(link).split(".")
    _, their_expiry, their_signature = _token(theirs).split(".")
    forged = [
        "",
        "garbage",
        "a.b.c",
        "x" * 5000,
        "pl_ü.1.abc",
        f"{link_id}.{expiry}.{signature[:-2]}AA",  # tampered signature
        f"{link_id}.{int(expiry) + 3600}.{signature}",  # stretched expiry
        f"{link_id}.{their_expiry}.{their_signature}",  # another link's signature
        f"{link_id}.99999999999999999999999.{signature}",
        f"{link_id}.{expiry}.{signature}.extra",
    ]
    for token in forged:
        r = await client.get("/portal/enter", params={"token": token})
        assert r.status_code == 404, token[:40]
        assert "set-cookie" not in r.headers
    bad_bytes = await client.get("/portal/enter?token=%ff%fe%00")
    assert bad_bytes.status_code in (404, 422)
    assert "set-cookie" not in bad_bytes.headers

    opened = await client.get("/portal/enter", params={"token": _token(link)})
    assert opened.status_code == 303
    assert (await client.get("/portal/")).status_code == 200
    clock.advance(121)
    expired = await client.get("/portal/")
    assert expired.status_code == 303  # the session ends with its link
    assert expired.headers["location"] == "/portal/expired"
    assert (await client.get("/portal/enter", params={"token": _token(link)})).status_code == 404


async def test_portal_link_requests_are_validated_and_scoped(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    integration = await factory.integration()
    admin = {"Authorization": f"Bearer {BOOTSTRAP_TOKEN}"}
    url = f"/admin/v1/integrations/{integration['id']}/portal-links"
    for body in ({"ttl_seconds": 59}, {"ttl_seconds": 604_801}, {"ttl": 60}, [1]):
        r = await client.post(url, json=body, headers=admin)
        assert r.status_code == 422, (body, r.text)
    missing = await client.post("/admin/v1/integrations/int_nope/portal-links", headers=admin)
    assert missing.status_code == 404
    link = await _link(client, integration["id"])
    assert link["expires_at"]
    assert (
        await client.delete(f"/admin/v1/portal-links/{link['link_id']}", headers=admin)
    ).status_code == 204
    again = await client.delete(f"/admin/v1/portal-links/{link['link_id']}", headers=admin)
    assert again.status_code == 404
    assert (
        await client.delete("/admin/v1/portal-links/" + "p" * 200, headers=admin)
    ).status_code == 404
