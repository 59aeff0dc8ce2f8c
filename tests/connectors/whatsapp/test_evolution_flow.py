"""A tenant's Evolution instance end to end over HTTP: configured once, sends that
never repeat, replies and statuses as events reaching a Zapier-style subscriber,
pacing that defers and later sends, and a refused key that opens the circuit."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select
from standardwebhooks import Webhook

from hub.app import Hub
from hub.clock import FrozenClock
from hub.connectors.jobs import send_due
from hub.connectors.models import OutboundMessage, TenantConnector
from hub.events.models import Event
from hub.worker.app import build_worker
from tests.conftest import BOOTSTRAP_TOKEN, bearer
from tests.connectors.whatsapp.conftest import EVOLUTION_KEY, INSTANCE
from tests.connectors.whatsapp.fake_evolution import FakeEvolution, fixture, webhook_body
from tests.delivery.support import scripted

ADMIN = {"Authorization": f"Bearer {BOOTSTRAP_TOKEN}"}
INBOUND_SECRET = "evo-inbound-secret-0123456789abcdef"
LEAD_ID = "lead_01jd8v4m7q2k9x3n5p8r1s6t0w"


async def _tenant(http: httpx.AsyncClient) -> tuple[str, str]:
    r = await http.post("/admin/v1/tenants", json={"name": "Padaria"}, headers=ADMIN)
    tenant_id = r.json()["id"]
    r = await http.post(
        f"/admin/v1/tenants/{tenant_id}/integrations",
        json={"name": "Zap", "kind": "zapier", "scopes": ["actions:*", "triggers:*"]},
        headers=ADMIN,
    )
    assert r.status_code == 201, r.text
    return tenant_id, r.json()["api_key"]


async def _connect(
    http: httpx.AsyncClient, tenant_id: str, evolution: FakeEvolution, **config: Any
) -> dict[str, Any]:
    r = await http.put(
        f"/admin/v1/tenants/{tenant_id}/connectors/whatsapp",
        json={
            "config": {
                "provider": "evolution",
                "base_url": evolution.url,
                "instance": INSTANCE,
                "api_key": EVOLUTION_KEY,
                "inbound_secret": INBOUND_SECRET,
                **config,
            }
        },
        headers=ADMIN,
    )
    assert r.status_code in (200, 201), r.text
    view: dict[str, Any] = r.json()
    return view


async def _send(http: httpx.AsyncClient, api_key: str, key: str, **body: Any) -> httpx.Response:
    return await http.post(
        "/v1/actions/send_whatsapp_message",
        json={"to": "+558499990101", "text": "Bom dia! Seu pedido saiu.", **body},
        headers={**bearer(api_key), "Idempotency-Key": key},
    )


async def _events(hub: Hub, event_type: str) -> list[Event]:
    async with hub.rt.db.session() as session:
        return list(
            await session.scalars(
                select(Event).where(Event.type == event_type).order_by(Event.received_at)
            )
        )


def _inbound(payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    return json.dumps(payload).encode(), {
        "apikey": INBOUND_SECRET,
        "content-type": "application/json",
    }


async def test_send_retried_three_times_calls_the_provider_once(
    http: httpx.AsyncClient, hub: Hub, evolution: FakeEvolution
) -> None:
    tenant_id, api_key = await _tenant(http)
    view = await _connect(http, tenant_id, evolution)
    assert view["secrets_set"] == ["api_key", "inbound_secret"]
    assert EVOLUTION_KEY not in json.dumps(view)

    key = str(uuid.uuid4())
    answers = [await _send(http, api_key, key, lead_id=LEAD_ID) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert len({a.content for a in answers}) == 1  # the stored answer, replayed
    assert answers[1].headers["idempotent-replayed"] == "true"
    outputs = answers[0].json()["outputs"]
    assert outputs["status"] == "sent"
    assert outputs["message_id"].startswith("msg_")

    assert len(evolution.calls) == 1
    call = evolution.calls[0]
    assert call.body == {"number": "5584999990101", "text": "Bom dia! Seu pedido saiu."}
    assert call.headers["apikey"] == EVOLUTION_KEY
    assert call.headers["x-idempotency-key"] == key

    sent = await _events(hub, "message.sent")
    assert len(sent) == 1
    assert sent[0].data["message_id"] == outputs["message_id"]
    assert sent[0].data["lead"]["lead_id"] == LEAD_ID
    assert sent[0].data["provider"] == "evolution"


async def test_a_reply_reaches_the_subscriber_masked_and_once(
    http: httpx.AsyncClient,
    hub: Hub,
    evolution: FakeEvolution,
    receivers: Callable[..., Any],
) -> None:
    tenant_id, api_key = await _tenant(http)
    path = (await _connect(http, tenant_id, evolution))["inbound_path"]
    receiver = await receivers(scripted([200]))
    r = await http.post(
        "/v1/hooks",
        json={"event": "message.received", "target_url": receiver.url},
        headers=bearer(api_key),
    )
    assert r.status_code == 201, r.text
    secret = r.json()["secret"]
    # The hub wrote to this number about a lead: the reply names that lead.
    assert (await _send(http, api_key, str(uuid.uuid4()), lead_id=LEAD_ID)).status_code == 200

    body, headers = _inbound(fixture("messages_upsert_text"))
    for _ in range(2):  # Evolution retries: stored once
        r = await http.post(path, content=body, headers=headers)
        assert r.status_code == 200, r.text
    received = await _events(hub, "message.received")
    assert len(received) == 1
    assert received[0].data["lead"]["lead_id"] == LEAD_ID
    assert received[0].producer_id == f"whatsapp:{INSTANCE}:msg:3A5B9C2E7F1D4A6B8C0D"

    worker = build_worker(hub, burst=True, handle_signals=False, poll_delay=0.05)
    await worker.main()
    await worker.close()
    assert len(receiver.received) == 1
    delivered = Webhook(secret).verify(receiver.received[0].body, receiver.received[0].headers)
    data = delivered["data"]
    assert delivered["type"] == "message.received"
    assert data["lead"]["lead_id"] == LEAD_ID
    assert data["contact_phone"] != "+5584999990101"  # masked by the default policy
    assert data["contact_phone"].startswith("+55")
    assert "0101" in data["contact_phone"]


async def test_a_bad_secret_stores_nothing(
    http: httpx.AsyncClient, hub: Hub, evolution: FakeEvolution
) -> None:
    tenant_id, _ = await _tenant(http)
    path = (await _connect(http, tenant_id, evolution))["inbound_path"]
    body = json.dumps(fixture("messages_upsert_text")).encode()
    for headers in ({}, {"apikey": "wrong"}, {"authorization": "Bearer not.a.jwt"}):
        r = await http.post(path, content=body, headers=headers)
        assert (r.status_code, r.json()["code"]) == (401, "UNAUTHENTICATED")
    assert await _events(hub, "message.received") == []


async def test_statuses_name_the_message_and_its_lead(
    http: httpx.AsyncClient, hub: Hub, evolution: FakeEvolution
) -> None:
    tenant_id, api_key = await _tenant(http)
    path = (await _connect(http, tenant_id, evolution))["inbound_path"]
    r = await _send(http, api_key, str(uuid.uuid4()), lead_id=LEAD_ID)
    message_id = r.json()["outputs"]["message_id"]
    async with hub.rt.db.session() as session:
        sent = await session.get(OutboundMessage, message_id)
    assert sent is not None
    assert sent.provider_message_id is not None
    provider_id = sent.provider_message_id
    update = fixture("messages_update_read")
    update["data"] = _with_message_id(update["data"], provider_id)
    body, headers = _inbound(update)
    assert (await http.post(path, content=body, headers=headers)).status_code == 200
    read = await _events(hub, "message.read")
    assert len(read) == 1
    assert read[0].data["message_id"] == message_id
    assert read[0].data["lead"]["lead_id"] == LEAD_ID
    assert read[0].data["provider_message_id"] == provider_id


def _with_message_id(data: Any, provider_id: str) -> Any:
    """The fixture's status update, about the message the fake sent."""
    items = data if isinstance(data, list) else [data]
    for item in items:
        for name in ("keyId", "messageId"):
            if name in item:
                item[name] = provider_id
        if isinstance(item.get("key"), dict):
            item["key"]["id"] = provider_id
    return data


async def test_outside_the_window_it_is_scheduled_then_sent_when_it_opens(
    http: httpx.AsyncClient, hub: Hub, evolution: FakeEvolution, clock: FrozenClock
) -> None:
    tenant_id, api_key = await _tenant(http)
    window = {"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00", "time_zone": "UTC"}
    await _connect(http, tenant_id, evolution, pacing={"window": window})
    clock.set(datetime(2026, 12, 5, 12, 0, tzinfo=UTC))  # a Saturday
    r = await _send(http, api_key, str(uuid.uuid4()), lead_id=LEAD_ID)
    assert r.status_code == 200, r.text
    outputs = r.json()["outputs"]
    assert outputs["status"] == "scheduled"
    assert outputs["send_after"] == "2026-12-07T09:00:00Z"
    assert evolution.calls == []

    assert await send_due(hub.rt, hub.connectors) == 0  # not yet
    clock.set(datetime(2026, 12, 7, 9, 0, 30, tzinfo=UTC))
    assert await send_due(hub.rt, hub.connectors) == 1
    assert len(evolution.calls) == 1
    assert await send_due(hub.rt, hub.connectors) == 0  # sent once
    sent = await _events(hub, "message.sent")
    assert [e.data["message_id"] for e in sent] == [outputs["message_id"]]
    async with hub.rt.db.session() as session:
        message = await session.get(OutboundMessage, outputs["message_id"])
    assert message is not None
    assert message.status == "sent"


async def test_over_the_per_minute_cap_is_429(
    http: httpx.AsyncClient, hub: Hub, evolution: FakeEvolution
) -> None:
    tenant_id, api_key = await _tenant(http)
    await _connect(http, tenant_id, evolution, pacing={"per_minute": 2})
    codes = [(await _send(http, api_key, str(uuid.uuid4()))).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert len(evolution.calls) == 2


async def test_a_refused_key_opens_the_circuit_until_an_admin_saves_again(
    http: httpx.AsyncClient, hub: Hub, evolution: FakeEvolution
) -> None:
    tenant_id, api_key = await _tenant(http)
    await _connect(http, tenant_id, evolution, api_key="revoked-key")
    r = await _send(http, api_key, str(uuid.uuid4()))
    assert (r.status_code, r.json()["code"]) == (502, "UPSTREAM_ERROR")
    view = (
        await http.get(f"/admin/v1/tenants/{tenant_id}/connectors/whatsapp", headers=ADMIN)
    ).json()
    assert view["failing_reason"]
    assert "revoked-key" not in json.dumps(view)
    calls = len(evolution.calls)
    r = await _send(http, api_key, str(uuid.uuid4()))
    assert r.status_code == 502
    assert "failing" in r.json()["detail"]
    assert len(evolution.calls) == calls  # the circuit is open: no call
    assert len(await _events(hub, "connector.failing")) == 1

    await _connect(http, tenant_id, evolution)  # the right key
    async with hub.rt.db.session() as session:
        row = (await session.scalars(select(TenantConnector))).one()
    assert row.failing_reason is None
    assert (await _send(http, api_key, str(uuid.uuid4()))).status_code == 200


async def test_a_disconnected_instance_stops_the_sends_until_an_admin_saves_it(
    http: httpx.AsyncClient, hub: Hub, evolution: FakeEvolution
) -> None:
    tenant_id, api_key = await _tenant(http)
    path = (await _connect(http, tenant_id, evolution))["inbound_path"]
    closed = fixture("connection_update")
    closed["data"]["state"] = "close"
    body, headers = _inbound(closed)
    assert (await http.post(path, content=body, headers=headers)).status_code == 200
    view = (
        await http.get(f"/admin/v1/tenants/{tenant_id}/connectors/whatsapp", headers=ADMIN)
    ).json()
    assert "disconnected" in view["failing_reason"]
    r = await _send(http, api_key, str(uuid.uuid4()))
    assert r.status_code == 502
    assert evolution.calls == []
    # An unsigned "close" changes nothing; saving the configuration resumes.
    await _connect(http, tenant_id, evolution)
    assert (await http.post(path, content=body, headers={"apikey": "wrong"})).status_code == 401
    assert (await _send(http, api_key, str(uuid.uuid4()))).status_code == 200


async def test_a_number_that_is_no_phone_is_refused_before_the_provider(
    http: httpx.AsyncClient, hub: Hub, evolution: FakeEvolution
) -> None:
    tenant_id, api_key = await _tenant(http)
    await _connect(http, tenant_id, evolution)
    r = await _send(http, api_key, str(uuid.uuid4()), to="+99912345678")
    assert r.status_code == 422
    assert r.json()["errors"][0]["path"] == "$.to"
    assert evolution.calls == []


def test_every_fixture_still_is_evolutions_shape() -> None:
    # The fake answers with the fixture: a send answer names the message's key.
    assert fixture("send_success")["key"]["fromMe"] is True
    assert webhook_body(fixture("messages_upsert_text"), instance="x")["instance"] == "x"
