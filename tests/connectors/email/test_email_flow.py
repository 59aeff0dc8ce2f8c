"""A tenant's e-mail end to end over HTTP (SendGrid at its wire format on loopback):
one provider call however often a send is retried, a signed bounce delivered masked to
a subscriber, the bounced address refused until an admin clears it, and a bounce storm
that pauses that tenant only."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from standardwebhooks import Webhook

from hub.app import Hub, build_hub
from hub.audit.models import AuditEntry
from hub.clock import FrozenClock
from hub.config import Settings
from hub.events.models import Event
from hub.worker.app import build_worker
from integrations.email.connector import EmailConnector
from tests.conftest import BOOTSTRAP_TOKEN, bearer
from tests.connectors.email.fake_sendgrid import EventSigner, FakeSendGrid, start_sendgrid
from tests.delivery.support import Receiver, Responder, scripted
from tests.support.databases import wipe

ADMIN = {"Authorization": f"Bearer {BOOTSTRAP_TOKEN}"}
API_KEY = "SG.test-api-key-0123456789"
LEAD_ID = "lead_01jd8v4m7q2k9x3n5p8r1s6t0w"
TO = "compras@paodourado.example"


@pytest.fixture
async def hub(settings: Settings, clock: FrozenClock) -> AsyncIterator[Hub]:
    built = await build_hub(settings, clock=clock, connectors=[EmailConnector()])
    await wipe(built.rt.db)
    await built.start()
    yield built
    await built.close()


@pytest.fixture
async def sendgrid() -> AsyncIterator[FakeSendGrid]:
    fake, runner = await start_sendgrid(API_KEY)
    try:
        yield fake
    finally:
        await runner.cleanup()


@pytest.fixture
def signer() -> EventSigner:
    return EventSigner()


@pytest.fixture
async def receivers() -> AsyncIterator[Callable[..., Any]]:
    started: list[Receiver] = []

    async def start(responder: Responder | None = None) -> Receiver:
        receiver = Receiver(responder)
        await receiver.start("/hook")
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        await receiver.stop()


async def _tenant(http: httpx.AsyncClient) -> tuple[str, str]:
    r = await http.post("/admin/v1/tenants", json={"name": "Alquimista"}, headers=ADMIN)
    tenant_id = r.json()["id"]
    r = await http.post(
        f"/admin/v1/tenants/{tenant_id}/integrations",
        json={"name": "Zap", "kind": "zapier", "scopes": ["actions:*", "triggers:*"]},
        headers=ADMIN,
    )
    assert r.status_code == 201, r.text
    return tenant_id, r.json()["api_key"]


async def _connect(
    http: httpx.AsyncClient,
    tenant_id: str,
    sendgrid: FakeSendGrid,
    signer: EventSigner,
    **guards: Any,
) -> dict[str, Any]:
    r = await http.put(
        f"/admin/v1/tenants/{tenant_id}/connectors/email",
        json={
            "config": {
                "provider": "sendgrid",
                "api_key": API_KEY,
                "api_url": sendgrid.url,
                "from_address": "vendas@alquimista.example",
                "from_name": "Alquimista",
                "webhook_public_key": signer.public_key,
                **({"guards": guards} if guards else {}),
            }
        },
        headers=ADMIN,
    )
    assert r.status_code in (200, 201), r.text
    view: dict[str, Any] = r.json()
    return view


async def _send(http: httpx.AsyncClient, api_key: str, key: str, **body: Any) -> httpx.Response:
    return await http.post(
        "/v1/actions/send_email",
        json={
            "to": [TO],
            "subject": "Pedido de Natal",
            "html": "<p>Segue a proposta.</p>",
            "template_id": "proposal_email",
            "template_version": "3",
            **body,
        },
        headers={**bearer(api_key), "Idempotency-Key": key},
    )


async def _events(hub: Hub, event_type: str) -> list[Event]:
    async with hub.rt.db.session() as session:
        return list(await session.scalars(select(Event).where(Event.type == event_type)))


def _bounce(message_id: str, provider_id: str, address: str, n: int) -> dict[str, Any]:
    return {
        "email": address,
        "timestamp": 1765202410,
        "event": "bounce",
        "type": "bounce",
        "sg_event_id": f"bounce-event-{n}",
        "sg_message_id": f"{provider_id}.filter0001.16648.5515E0B88.0",
        "hub_message_id": message_id,
        "reason": f"550 5.1.1 <{address}>: user unknown",
        "status": "5.1.1",
    }


async def test_a_send_retried_three_times_is_one_provider_call_and_is_audited(
    http: httpx.AsyncClient, hub: Hub, sendgrid: FakeSendGrid, signer: EventSigner
) -> None:
    tenant_id, api_key = await _tenant(http)
    view = await _connect(http, tenant_id, sendgrid, signer)
    assert API_KEY not in json.dumps(view)
    key = str(uuid.uuid4())
    answers = [await _send(http, api_key, key, lead_id=LEAD_ID) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    outputs = answers[0].json()["outputs"]
    assert outputs["status"] == "sent"
    assert outputs["rfc822_message_id"] == f"<{outputs['message_id']}@alquimista.example>"
    assert len(sendgrid.calls) == 1
    body = sendgrid.calls[0].body
    assert body["custom_args"]["hub_message_id"] == outputs["message_id"]
    assert body["headers"]["Message-ID"] == outputs["rfc822_message_id"]
    sent = await _events(hub, "email.sent")
    assert len(sent) == 1
    assert sent[0].data["template_id"] == "proposal_email"
    assert sent[0].data["lead"]["lead_id"] == LEAD_ID
    async with hub.rt.db.session() as session:
        audit = list(
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "email.send"))
        )
    assert len(audit) == 1
    assert audit[0].details["template_version"] == "3"
    assert audit[0].details["provider"] == "sendgrid"
    assert TO not in json.dumps(audit[0].details)


async def test_a_bounce_reaches_the_subscriber_masked_and_suppresses_the_address(
    http: httpx.AsyncClient,
    hub: Hub,
    sendgrid: FakeSendGrid,
    signer: EventSigner,
    receivers: Callable[..., Any],
) -> None:
    tenant_id, api_key = await _tenant(http)
    path = (await _connect(http, tenant_id, sendgrid, signer))["inbound_path"]
    receiver = await receivers(scripted([200]))
    r = await http.post(
        "/v1/hooks",
        json={"event": "email.bounced", "target_url": receiver.url},
        headers=bearer(api_key),
    )
    secret = r.json()["secret"]
    outputs = (await _send(http, api_key, str(uuid.uuid4()), lead_id=LEAD_ID)).json()["outputs"]
    payload = json.dumps([_bounce(outputs["message_id"], sendgrid.message_id(1), TO, 1)]).encode()
    for _ in range(2):  # a redelivered webhook is stored once
        r = await http.post(path, content=payload, headers=signer.headers(payload))
        assert r.status_code == 200, r.text
    bounced = await _events(hub, "email.bounced")
    assert len(bounced) == 1
    assert bounced[0].data["message_id"] == outputs["message_id"]
    assert bounced[0].data["bounce_type"] == "hard"

    worker = build_worker(hub, burst=True, handle_signals=False, poll_delay=0.05)
    await worker.main()
    await worker.close()
    assert len(receiver.received) == 1
    delivered = Webhook(secret).verify(receiver.received[0].body, receiver.received[0].headers)
    assert delivered["data"]["recipient"] != TO  # masked
    assert "diagnostic" not in delivered["data"] or delivered["data"]["diagnostic"] is None
    assert TO not in receiver.received[0].body.decode()

    # The next send to that address is refused; the key stays free for after the clear.
    key = str(uuid.uuid4())
    r = await _send(http, api_key, key, cc=["gerente@paodourado.example"], to=[TO.upper()])
    assert (r.status_code, r.json()["code"]) == (422, "RECIPIENT_SUPPRESSED")
    assert [e["path"] for e in r.json()["errors"]] == ["$.to[0]"]
    assert len(sendgrid.calls) == 1
    listed = (await http.get(f"/admin/v1/tenants/{tenant_id}/suppressions", headers=ADMIN)).json()
    assert [(s["address"], s["reason"]) for s in listed["items"]] == [(TO, "hard_bounce")]
    r = await http.delete(f"/admin/v1/tenants/{tenant_id}/suppressions/{TO}", headers=ADMIN)
    assert r.status_code == 204
    r = await _send(http, api_key, key, cc=["gerente@paodourado.example"], to=[TO.upper()])
    assert r.status_code == 200, r.text


async def test_a_bad_signature_stores_nothing(
    http: httpx.AsyncClient, hub: Hub, sendgrid: FakeSendGrid, signer: EventSigner
) -> None:
    tenant_id, _ = await _tenant(http)
    path = (await _connect(http, tenant_id, sendgrid, signer))["inbound_path"]
    payload = json.dumps([_bounce("msg_x", "abc", TO, 1)]).encode()
    forged = EventSigner().headers(payload)
    r = await http.post(path, content=payload, headers=forged)
    assert (r.status_code, r.json()["code"]) == (401, "UNAUTHENTICATED")
    tampered = payload.replace(b"bounce-event-1", b"bounce-event-2")
    r = await http.post(path, content=tampered, headers=signer.headers(payload))
    assert r.status_code == 401
    assert await _events(hub, "email.bounced") == []
    listed = (await http.get(f"/admin/v1/tenants/{tenant_id}/suppressions", headers=ADMIN)).json()
    assert listed["items"] == []


async def test_a_bounce_storm_pauses_that_tenant_only(
    http: httpx.AsyncClient, hub: Hub, sendgrid: FakeSendGrid, signer: EventSigner
) -> None:
    guards = {"window": 20, "min_sends": 20, "bounce_rate": 0.05, "per_domain_per_minute": None}
    stormy, stormy_key = await _tenant(http)
    calm, calm_key = await _tenant(http)
    path = (await _connect(http, stormy, sendgrid, signer, **guards))["inbound_path"]
    await _connect(http, calm, sendgrid, signer, **guards)
    sent = []
    for n in range(20):
        r = await _send(http, stormy_key, str(uuid.uuid4()), to=[f"lead{n}@example.com"])
        assert r.status_code == 200, r.text
        sent.append((r.json()["outputs"]["message_id"], sendgrid.message_id(len(sendgrid.calls))))
    bounces = [
        _bounce(message_id, provider_id, f"lead{n}@example.com", n)
        for n, (message_id, provider_id) in enumerate(sent[:2])
    ]
    payload = json.dumps(bounces).encode()
    assert (
        await http.post(path, content=payload, headers=signer.headers(payload))
    ).status_code == 200

    view = (await http.get(f"/admin/v1/tenants/{stormy}/connectors/email", headers=ADMIN)).json()
    assert view["failing_reason"].startswith("bounce rate 10.0% over the last 20 sends")
    calls = len(sendgrid.calls)
    r = await _send(http, stormy_key, str(uuid.uuid4()), to=["another@example.com"])
    assert (r.status_code, r.json()["code"]) == (502, "UPSTREAM_ERROR")
    assert len(sendgrid.calls) == calls  # paused: no provider call
    r = await _send(http, calm_key, str(uuid.uuid4()), to=["another@example.com"])
    assert r.status_code == 200, r.text  # the other tenant keeps sending
    failing = await _events(hub, "connector.failing")
    assert [e.tenant_id for e in failing] == [stormy]


async def test_attachments_travel_as_links_and_a_bad_link_changes_nothing(
    http: httpx.AsyncClient, hub: Hub, sendgrid: FakeSendGrid, signer: EventSigner
) -> None:
    tenant_id, api_key = await _tenant(http)
    await _connect(http, tenant_id, sendgrid, signer)
    for bad, path in [
        ({"url": "http://files.example/a.pdf", "filename": "a.pdf"}, "$.attachments[0].url"),
        ({"url": "https://u:pw@files.example/a.pdf", "filename": "a.pdf"}, "$.attachments[0].url"),
        (
            {"url": "https://files.example/a.pdf", "filename": "../a.pdf"},
            "$.attachments[0].filename",
        ),
        (
            {"url": "https://files.example/a", "filename": "a", "content": "JVBERi0="},
            "$.attachments[0].content",
        ),
    ]:
        r = await _send(http, api_key, str(uuid.uuid4()), attachments=[bad])
        assert r.status_code == 422, r.text
        assert [e["path"] for e in r.json()["errors"]] == [path], r.text
    assert sendgrid.calls == []

    link = "https://files.alquimista.example/propostas/4711.pdf"
    r = await _send(
        http,
        api_key,
        str(uuid.uuid4()),
        text="Segue a proposta.",
        attachments=[{"url": link, "filename": "proposta.pdf", "content_type": "application/pdf"}],
    )
    assert r.status_code == 200, r.text
    contents = {c["type"]: c["value"] for c in sendgrid.calls[0].body["content"]}
    assert contents["text/plain"].endswith(f"- proposta.pdf (application/pdf): {link}\n")
    assert f'<a href="{link}">proposta.pdf</a>' in contents["text/html"]
