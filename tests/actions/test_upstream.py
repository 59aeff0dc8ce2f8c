"""The upstream contract: what the tenant's product receives, how its answers map."""

from __future__ import annotations

import socket

import httpx
import msgspec
import pytest
from standardwebhooks.webhooks import Webhook

from hub.runtime import Runtime
from tests.actions.conftest import LEAD, Caller, Upstream, count_rows, new_key
from tests.conftest import Factory


async def test_signature_verifies_with_the_standard_webhooks_library(
    live: Caller, upstream: Upstream
) -> None:
    key = new_key()
    assert (await live.act("create_lead", LEAD, key)).status_code == 200
    call = upstream.calls[0]
    payload = Webhook(upstream.secret).verify(call.body, call.headers)
    assert payload["inputs"]["company_name"] == LEAD["company_name"]
    assert call.headers["webhook-id"].startswith("idem_")
    assert call.headers["content-type"] == "application/json"
    assert call.headers["x-request-id"]
    # Another secret does not verify.
    with pytest.raises(Exception, match="signature"):
        Webhook("whsec_" + "A" * 32).verify(call.body, call.headers)


async def test_unpadded_secret_without_prefix_still_verifies(
    live: Caller, upstream: Upstream, client: httpx.AsyncClient, factory: Factory
) -> None:
    bare = upstream.secret.removeprefix("whsec_").rstrip("=")
    r = await client.patch(
        f"/admin/v1/tenants/{live.tenant_id}",
        json={"upstream_secret": bare},
        headers=factory.admin_headers,
    )
    assert r.status_code == 200
    assert (await live.act("create_lead", LEAD, new_key())).status_code == 200
    call = upstream.calls[0]
    Webhook(bare).verify(call.body, call.headers)


@pytest.mark.parametrize(
    ("status", "code", "answer"),
    [
        (500, "UPSTREAM_ERROR", 502),
        (503, "UPSTREAM_ERROR", 502),
        (429, "UPSTREAM_ERROR", 502),
        (408, "UPSTREAM_TIMEOUT", 504),
        (302, "UPSTREAM_ERROR", 502),
    ],
)
async def test_retriable_answers_release_the_key(
    live: Caller, upstream: Upstream, rt: Runtime, status: int, code: str, answer: int
) -> None:
    upstream.reply(status, {"detail": "busy"}, headers={"Retry-After": "7"})
    key = new_key()
    r = await live.act("create_lead", LEAD, key)
    assert r.status_code == answer
    assert r.json()["code"] == code
    if status in (503, 429):
        assert r.headers["retry-after"] == "7"
    assert (await live.act("create_lead", LEAD, key)).status_code == 200
    assert len(upstream.calls) == 2


async def test_rejection_reason_is_passed_on(live: Caller, upstream: Upstream) -> None:
    upstream.reply(400, {"message": "document\x00 already belongs to lead_9"})
    r = await live.act("create_lead", LEAD, new_key())
    assert r.status_code == 422
    assert r.json()["detail"] == (
        "the upstream product rejected the action: document  already belongs to lead_9"
    )
    assert r.json()["upstream_status"] == 400


async def test_outputs_that_miss_the_schema_are_an_upstream_error(
    live: Caller, upstream: Upstream
) -> None:
    upstream.reply(200, {"outputs": {"status": "new"}})  # no lead_id
    r = await live.act("create_lead", LEAD, new_key())
    assert r.status_code == 502
    assert r.json()["code"] == "UPSTREAM_ERROR"
    upstream.reply(200, ["not", "an", "object"])
    assert (await live.act("create_lead", LEAD, new_key())).status_code == 502


async def test_timeout_is_504_and_released(live: Caller, upstream: Upstream, rt: Runtime) -> None:
    rt.settings = msgspec.structs.replace(rt.settings, upstream_timeout_seconds=0.2)
    upstream.reply(200, delay=1.0)
    key = new_key()
    r = await live.act("create_lead", LEAD, key)
    assert r.status_code == 504
    assert r.json()["code"] == "UPSTREAM_TIMEOUT"
    assert (await live.act("create_lead", LEAD, key)).status_code == 200


async def test_unreachable_upstream_is_502(
    live: Caller, client: httpx.AsyncClient, factory: Factory
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    await client.patch(
        f"/admin/v1/tenants/{live.tenant_id}",
        json={"upstream_url": f"http://127.0.0.1:{closed_port}"},
        headers=factory.admin_headers,
    )
    r = await live.act("create_lead", LEAD, new_key())
    assert r.status_code == 502
    assert r.json()["code"] == "UPSTREAM_ERROR"


async def test_no_upstream_configured_is_a_clear_problem(
    factory: Factory, client: httpx.AsyncClient, rt: Runtime
) -> None:
    integration = await factory.integration(mode="live")
    caller = Caller(client, integration, integration["tenant_id"])
    key = new_key()
    r = await caller.act("create_lead", LEAD, key)
    assert r.status_code == 422
    assert r.json()["code"] == "NO_HANDLER"
    assert "upstream_url" in r.json()["detail"]
    assert await count_rows(rt) == (1, 1)  # released record + the failed execution


async def test_private_upstream_is_refused_at_send_time(
    live: Caller, upstream: Upstream, rt: Runtime
) -> None:
    rt.settings = msgspec.structs.replace(rt.settings, allow_private_targets=False)
    key = new_key()
    r = await live.act("create_lead", LEAD, key)
    assert r.status_code == 422
    assert r.json()["code"] == "TARGET_NOT_ALLOWED"
    assert upstream.calls == []
    # Not stored: once the address is fixed (here: allowed again), the key runs.
    rt.settings = msgspec.structs.replace(rt.settings, allow_private_targets=True)
    assert (await live.act("create_lead", LEAD, key)).status_code == 200
