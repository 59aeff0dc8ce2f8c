"""X-Request-Id: a sane one is kept and echoed, anything else replaced; it reaches
problems and audit rows."""

from __future__ import annotations

import re

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.runtime import Runtime
from hub.web.context import accept_or_make_request_id
from tests.foundation.conftest import Admin, problem

GENERATED = re.compile(r"^req_[0-9a-z]{26}$")
SANE = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


@pytest.mark.parametrize(
    "offered",
    ["abc", "0b3f9c1e-6a8c-4c8e-9a3e-2f7d5b1c9e0a", "trace.1:span-2_x", "x" * 128],
)
async def test_a_sane_request_id_is_echoed(client: httpx.AsyncClient, offered: str) -> None:
    r = await client.get("/healthz", headers={"X-Request-Id": offered})
    assert r.status_code == 200
    assert r.headers["x-request-id"] == offered


@pytest.mark.parametrize(
    "offered",
    [b"", b"has space", b"x" * 129, b"semi;colon", b"<script>", b"caf\xc3\xa9", b"a\tb"],
)
async def test_an_insane_request_id_is_replaced(client: httpx.AsyncClient, offered: bytes) -> None:
    r = await client.get("/healthz", headers=[(b"x-request-id", offered)])
    assert GENERATED.fullmatch(r.headers["x-request-id"])


async def test_every_response_has_a_fresh_id_when_none_is_offered(
    client: httpx.AsyncClient,
) -> None:
    ids = {(await client.get("/healthz")).headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5
    assert all(GENERATED.fullmatch(i) for i in ids)


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/no/such/route", 404, "NOT_FOUND"),
        ("DELETE", "/v1/me", 405, "METHOD_NOT_ALLOWED"),
        ("GET", "/v1/me", 401, "UNAUTHENTICATED"),
    ],
)
async def test_problems_carry_the_request_id(
    client: httpx.AsyncClient, method: str, path: str, status: int, code: str
) -> None:
    r = await client.request(method, path, headers={"X-Request-Id": "client-trace-42"})
    assert r.headers["x-request-id"] == "client-trace-42"
    assert problem(r, status, code)["correlation_id"] == "client-trace-42"


async def test_audit_rows_carry_the_request_id(admin: Admin) -> None:
    r = await admin.post("/tenants", {"name": "Acme"}, headers={"X-Request-Id": "create-acme-1"})
    assert r.status_code == 201
    entries = (await admin.get("/audit", params={"correlation_id": "create-acme-1"})).json()
    assert [e["action"] for e in entries["items"]] == ["tenant.created"]
    assert entries["items"][0]["target_id"] == r.json()["id"]


async def test_the_request_id_does_not_leak_between_requests(rt: Runtime, admin: Admin) -> None:
    """Audit rows written by a request that sent no id carry that request's generated id."""
    r = await admin.post("/tenants", {"name": "Acme"})
    generated = r.headers["x-request-id"]
    assert GENERATED.fullmatch(generated)
    entries = (await admin.get("/audit", params={"correlation_id": generated})).json()["items"]
    assert [e["action"] for e in entries] == ["tenant.created"]


@given(st.one_of(st.none(), st.text(max_size=200), st.from_regex(SANE, fullmatch=True)))
def test_the_request_id_rule_holds_for_any_input(offered: str | None) -> None:
    chosen = accept_or_make_request_id(offered)
    assert SANE.fullmatch(chosen)
    if offered is not None and SANE.fullmatch(offered):
        assert chosen == offered
    else:
        assert GENERATED.fullmatch(chosen)
