"""A tenant's Meta WhatsApp number end to end over HTTP: the webhook handshake, a
signed inbound batch turned into events once and delivered masked to a subscriber,
sends whose lost answer is never resent (Meta's status settles it), definitive and
retriable provider errors, and an expired token opening the circuit."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from standardwebhooks import Webhook

from hub.app import Hub, build_hub
from hub.clock import FrozenClock
from hub.config import Settings
from hub.connectors import sends
from hub.connectors.models import OutboundMessage
from hub.events.catalog import EVENT_TYPES
from hub.events.models import Event
from hub.worker.app import build_worker
from integrations.whatsapp.connector import WhatsAppConnector
from integrations.whatsapp.evolution import EvolutionProvider
from integrations.whatsapp.meta import MetaProvider
from tests.conftest import BOOTSTRAP_TOKEN, bearer
from tests.connectors.whatsapp.fake_meta import FakeGraph, start_graph
from tests.delivery.support import scripted
from tests.support.databases import wipe

ADMIN = {"Authorization": f"Bearer {BOOTSTRAP_TOKEN}"}
TOKEN = "EAAG-test-access-token-0123456789"
APP_SECRET = "meta-app-secret-abcdef0123456789"
VERIFY = "verify-token-7f3a9c"
PHONE_NUMBER_ID = "106540352242922"
LEAD_ID = "lead_01jd8v4m7q2k9x3n5p8r1s6t0w"
FIXTURES = "tests/fixtures/whatsapp/meta"


def fixture(name: str) -> Any:
    with open(f"{FIXTURES}/{name}.json") as f:
        return json.load(f)


def signed(payload: Any, secret: str = APP_SECRET) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {"x-hub-signature-256": f"sha256={digest}", "content-type": "application/json"}


@pytest.fixture
async def hub(settings: Settings, clock: FrozenClock) -> AsyncIterator[Hub]:
    """The WhatsApp connector with a short Meta timeout, so a lost answer is quick."""
    providers = {"meta": MetaProvider(timeout_seconds=0.3), "evolution": EvolutionProvider()}
    built = await build_hub(settings, clock=clock, connectors=[WhatsAppConnector(providers)])
    await wipe(built.rt.db)
    await built.start()
    yield built
    await built.close()


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    fake, runner = await start_graph(TOKEN)
    try:
        yield fake
    finally:
        await runner.cleanup()


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
    http: httpx.AsyncClient, tenant_id: str, graph: FakeGraph, **config: Any
) -> dict[str, Any]:
    r = await http.put(
        f"/admin/v1/tenants/{tenant_id}/connectors/whatsapp",
        json={
            "config": {
                "provider": "meta",
                "phone_number_id": PHONE_NUMBER_ID,
                "access_token": TOKEN,
                "app_secret": APP_SECRET,
                "verify_token": VERIFY,
                "graph_url": graph.url,
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
        json={"to": "+16505551234", "text": "Olá! Seu pedido saiu.", **body},
        headers={**bearer(api_key), "Idempotency-Key": key},
    )


async def _events(hub: Hub, event_type: str) -> list[Event]:
    async with hub.rt.db.session() as session:
        return list(
            await session.scalars(
                select(Event).where(Event.type == event_type).order_by(Event.received_at)
            )
        )


async def test_the_handshake_echoes_the_challenge_only_for_the_right_token(
    http: httpx.AsyncClient, hub: Hub, graph: FakeGraph
) -> None:
    tenant_id, _ = await _tenant(http)
    path = (await _connect(http, tenant_id, graph))["inbound_path"]
    query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"}
    r = await http.get(path, params=query)
    assert (r.status_code, r.text) == (200, "1158201444")
    r = await http.get(path, params={**query, "hub.verify_token": "wrong"})
    assert (r.status_code, r.json()["code"]) == (403, "FORBIDDEN")


async def test_a_signed_batch_becomes_events_once_and_reaches_the_subscriber_masked(
    http: httpx.AsyncClient, hub: Hub, graph: FakeGraph, receivers: Callable[..., Any]
) -> None:
    tenant_id, api_key = await _tenant(http)
    path = (await _connect(http, tenant_id, graph))["inbound_path"]
    receiver = await receivers(scripted([200]))
    r = await http.post(
        "/v1/hooks",
        json={"event": "message.received", "target_url": receiver.url},
        headers=bearer(api_key),
    )
    secret = r.json()["secret"]
    body, headers = signed(fixture("webhook_batch"))
    for _ in range(2):  # Meta retries what was not answered 200: stored once
        r = await http.post(path, content=body, headers=headers)
        assert r.status_code == 200, r.text
    received = await _events(hub, "message.received")
    assert len(received) == 2
    assert all(e.producer_id.startswith(f"whatsapp:{PHONE_NUMBER_ID}:msg:") for e in received)
    assert len(await _events(hub, "message.delivered")) == 1
    assert len(await _events(hub, "message.read")) == 1

    # A tampered body (or another app's secret) stores nothing.
    tampered = body.replace(b"whatsapp_business_account", b"whatsapp_business_accounT")
    assert (await http.post(path, content=tampered, headers=headers)).status_code == 401
    _, other = signed(fixture("webhook_text"), secret="another-app-secret")
    assert (await http.post(path, content=body, headers=other)).status_code == 401

    worker = build_worker(hub, burst=True, handle_signals=False, poll_delay=0.05)
    await worker.main()
    await worker.close()
    assert len(receiver.received) == 2
    for got in receiver.received:
        delivered = Webhook(secret).verify(got.body, got.headers)
        phone = delivered["data"]["contact_phone"]
        assert phone not in ("+16505551234", "+15551234567")
        assert "***" in phone


async def test_a_retry_after_a_lost_answer_never_sends_twice_and_the_status_settles_it(
    http: httpx.AsyncClient, hub: Hub, graph: FakeGraph
) -> None:
    tenant_id, api_key = await _tenant(http)
    path = (await _connect(http, tenant_id, graph))["inbound_path"]
    key = str(uuid.uuid4())
    # The provider takes the message but its answer never arrives in time.
    graph.reply_next(200, fixture("send_success"), delay=1.0)
    r = await _send(http, api_key, key, lead_id=LEAD_ID)
    assert (r.status_code, r.json()["code"]) == (504, "UPSTREAM_TIMEOUT")
    async with hub.rt.db.session() as session:
        message = (await session.scalars(select(OutboundMessage))).one()
    assert message.status == sends.SENDING
    r = await _send(http, api_key, key, lead_id=LEAD_ID)  # the client retries
    assert r.status_code == 200, r.text
    assert r.json()["outputs"] == {
        "message_id": message.id,
        "channel": "whatsapp",
        "status": "queued",
        "send_after": None,
        "rfc822_message_id": None,
    }
    assert len(graph.calls) == 1  # never a second message

    # Meta's status names our message (biz_opaque_callback_data): it is settled.
    status = copy.deepcopy(fixture("webhook_status_delivered"))
    item = status["entry"][0]["changes"][0]["value"]["statuses"][0]
    item["biz_opaque_callback_data"] = message.id
    body, headers = signed(status)
    assert (await http.post(path, content=body, headers=headers)).status_code == 200
    async with hub.rt.db.session() as session:
        settled = await session.get(OutboundMessage, message.id)
    assert settled is not None
    assert settled.status == sends.SENT
    assert settled.provider_message_id == item["id"]
    delivered = await _events(hub, "message.delivered")
    assert delivered[0].data["message_id"] == message.id
    assert delivered[0].data["lead"]["lead_id"] == LEAD_ID


async def test_the_send_carries_our_id_and_a_template_its_variables(
    http: httpx.AsyncClient, hub: Hub, graph: FakeGraph
) -> None:
    tenant_id, api_key = await _tenant(http)
    await _connect(http, tenant_id, graph)
    r = await _send(
        http,
        api_key,
        str(uuid.uuid4()),
        text=None,
        template="follow_up_1",
        variables={"name": "João"},
        language="pt_BR",
    )
    assert r.status_code == 200, r.text
    call = graph.calls[0]
    assert call.headers["authorization"] == f"Bearer {TOKEN}"
    assert call.body["to"] == "16505551234"
    assert call.body["template"]["name"] == "follow_up_1"
    assert call.body["template"]["language"] == {"code": "pt_BR"}
    assert call.body["biz_opaque_callback_data"] == r.json()["outputs"]["message_id"]


@pytest.mark.parametrize(
    ("code", "status", "answer", "path"),
    [
        ("131047", 400, (422, "VALIDATION_FAILED"), "$.template"),
        ("131026", 400, (422, "VALIDATION_FAILED"), "$.to"),
        ("130429", 400, (429, "RATE_LIMITED"), None),
        ("131000", 500, (502, "UPSTREAM_ERROR"), None),
    ],
)
async def test_provider_errors_map_to_the_documented_answers(
    http: httpx.AsyncClient,
    hub: Hub,
    graph: FakeGraph,
    code: str,
    status: int,
    answer: tuple[int, str],
    path: str | None,
) -> None:
    tenant_id, api_key = await _tenant(http)
    await _connect(http, tenant_id, graph)
    graph.reply_next(status, fixture("errors")[code])
    key = str(uuid.uuid4())
    r = await _send(http, api_key, key)
    assert (r.status_code, r.json()["code"]) == answer
    if path is not None:
        assert r.json()["errors"][0]["path"] == path
        assert code in r.json()["errors"][0]["message"]
        again = await _send(http, api_key, key)  # a definitive no is replayed, not resent
        assert again.content == r.content
        assert len(graph.calls) == 1
    else:
        assert (await _send(http, api_key, key)).status_code == 200  # the key was released
        assert len(graph.calls) == 2


async def test_an_expired_token_opens_the_circuit(
    http: httpx.AsyncClient, hub: Hub, graph: FakeGraph
) -> None:
    tenant_id, api_key = await _tenant(http)
    await _connect(http, tenant_id, graph, access_token="EAAG-expired")
    assert (await _send(http, api_key, str(uuid.uuid4()))).status_code == 502
    failing = await _events(hub, "connector.failing")
    assert len(failing) == 1
    assert "190" in failing[0].data["reason"]
    assert "EAAG" not in json.dumps(failing[0].data)
    calls = len(graph.calls)
    assert (await _send(http, api_key, str(uuid.uuid4()))).status_code == 502
    assert len(graph.calls) == calls
    ready = (await http.get("/readyz")).json()
    assert ready["status"] == "degraded"  # shown to operators, still serving
    assert ready["checks"]["connectors"].startswith("1 failing")


async def _publish_lead(http: httpx.AsyncClient, tenant_id: str, lead: dict[str, Any]) -> None:
    r = await http.post(
        f"/admin/v1/tenants/{tenant_id}/integrations",
        json={"name": "Product", "kind": "source", "scopes": ["events:publish"]},
        headers=ADMIN,
    )
    assert r.status_code == 201, r.text
    r = await http.post(
        "/v1/events",
        json={"events": [{"id": str(uuid.uuid4()), "type": "lead.created", "data": lead}]},
        headers=bearer(r.json()["api_key"]),
    )
    assert r.status_code == 202, r.text
    assert r.json()["accepted"] == 1, r.text


async def test_a_lead_id_alone_messages_the_leads_primary_phone(
    http: httpx.AsyncClient, hub: Hub, graph: FakeGraph
) -> None:
    """What the welcome-WhatsApp blueprint does: the zap saw the phone masked, so it
    sends by lead id and the hub uses the number the product published."""
    tenant_id, api_key = await _tenant(http)
    await _connect(http, tenant_id, graph)
    lead = {
        **EVENT_TYPES["lead.created"].sample,
        "lead_id": "lead_welcome_1",
        "contact": {
            "name": "Ana",
            "phones": [
                {"number": "+5584999990101", "primary": False},
                {"number": "+5584999990202", "primary": True},
                {"number": "+5584999990303", "primary": True, "valid_for_outreach": False},
            ],
        },
    }
    await _publish_lead(http, tenant_id, lead)

    r = await _send(http, api_key, str(uuid.uuid4()), to=None, lead_id="lead_welcome_1")
    assert r.status_code == 200, r.text
    assert graph.calls[-1].body["to"] == "5584999990202"

    unknown = await _send(http, api_key, str(uuid.uuid4()), to=None, lead_id="lead_nobody")
    assert unknown.status_code == 422, unknown.text
    assert unknown.json()["errors"][0]["path"] == "$.to"
    other_tenant, other_key = await _tenant(http)
    await _connect(http, other_tenant, graph)
    theirs = await _send(http, other_key, str(uuid.uuid4()), to=None, lead_id="lead_welcome_1")
    assert theirs.status_code == 422, theirs.text  # another tenant's lead is not known here
    neither = await _send(http, api_key, str(uuid.uuid4()), to=None)
    assert neither.status_code == 422
    assert len(graph.calls) == 1
