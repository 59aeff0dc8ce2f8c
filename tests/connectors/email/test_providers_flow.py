"""Every provider behind the same ``send_email``, over HTTP: SES (moto's server), Mailgun
(its messages API on loopback) and SMTP (aiosmtpd) each get the message the connector
built once — the hub's Message-ID, the attachment links, Bcc only in the envelope — in
one provider call however often the send is retried; a signed Mailgun permanent
failure suppresses the address, so the next send to it is refused.

(SendGrid's end to end is ``test_email_flow.py``.)"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiobotocore.session import get_session
from moto.core import DEFAULT_ACCOUNT_ID
from moto.server import ThreadedMotoServer
from moto.ses.models import ses_backends

from hub.app import Hub, build_hub
from hub.clock import FrozenClock
from hub.config import Settings
from integrations.email.connector import EmailConnector
from tests.conftest import BOOTSTRAP_TOKEN, bearer
from tests.connectors.email.fake_mailgun import FakeMailgun, signed, start_mailgun
from tests.connectors.email.fake_smtp import FakeSmtp, start_smtp
from tests.support.databases import wipe
from tests.support.processes import free_port

ADMIN = {"Authorization": f"Bearer {BOOTSTRAP_TOKEN}"}
SENDER = "vendas@alquimista.example"
TO, CC, BCC = (
    "compras@paodourado.example",
    "gerente@paodourado.example",
    "arquivo@alquimista.example",
)
LINK = "https://files.alquimista.example/propostas/4711.pdf"
MAILGUN_KEY, MAILGUN_SIGNING = "key-0123456789abcdef0123456789abcdef", "signing-key-0123456789"
REGION = "us-east-1"
AWS_KEY, AWS_SECRET = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "email" / "mailgun"


@dataclass
class Provider:
    """One provider on loopback: the connector config that reaches it, and what it got."""

    config: dict[str, Any]
    received: Callable[[], list[tuple[bytes, list[str]]]]  # (raw message, envelope rcpts)


@pytest.fixture
async def hub(settings: Settings, clock: FrozenClock) -> AsyncIterator[Hub]:
    built = await build_hub(settings, clock=clock, connectors=[EmailConnector()])
    await wipe(built.rt.db)
    await built.start()
    yield built
    await built.close()


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


async def _ses(moto_url: str) -> Provider:
    async with httpx.AsyncClient(trust_env=False) as http:
        (await http.post(f"{moto_url}/moto-api/reset")).raise_for_status()
    async with get_session().create_client(
        "sesv2",
        region_name=REGION,
        aws_access_key_id=AWS_KEY,
        aws_secret_access_key=AWS_SECRET,
        endpoint_url=moto_url,
    ) as ses:
        await ses.create_email_identity(EmailIdentity="alquimista.example")

    def received() -> list[tuple[bytes, list[str]]]:
        sent = ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages
        return [(m.raw_data.encode(), list(m.destinations)) for m in sent]

    config = {
        "provider": "ses",
        "region": REGION,
        "access_key_id": AWS_KEY,
        "secret_access_key": AWS_SECRET,
        "endpoint_url": moto_url,
    }
    return Provider(config, received)


def _mailgun(fake: FakeMailgun) -> Provider:
    config = {
        "provider": "mailgun",
        "api_key": MAILGUN_KEY,
        "domain": "mg.alquimista.example",
        "webhook_signing_key": MAILGUN_SIGNING,
        "api_url": fake.url,
    }
    return Provider(config, lambda: [(c.message or b"", c.to) for c in fake.calls])


def _smtp(fake: FakeSmtp) -> Provider:
    config = {"provider": "smtp", "host": fake.host, "port": fake.port, "security": "none"}
    return Provider(config, lambda: [(r.data, r.rcpt_tos) for r in fake.received])


@pytest.fixture
async def mailgun() -> AsyncIterator[FakeMailgun]:
    fake, runner = await start_mailgun(MAILGUN_KEY, frozenset({"mg.alquimista.example"}))
    try:
        yield fake
    finally:
        await runner.cleanup()


@pytest.fixture
async def smtp() -> AsyncIterator[FakeSmtp]:
    async with start_smtp() as fake:
        yield fake


@pytest.fixture(params=["ses", "mailgun", "smtp"])
async def provider(
    request: pytest.FixtureRequest, moto_url: str, mailgun: FakeMailgun, smtp: FakeSmtp
) -> Provider:
    makers: dict[str, Callable[[], Awaitable[Provider]]] = {
        "ses": lambda: _ses(moto_url),
        "mailgun": lambda: _async(_mailgun(mailgun)),
        "smtp": lambda: _async(_smtp(smtp)),
    }
    return await makers[request.param]()


async def _async(value: Provider) -> Provider:
    return value


async def _connected(http: httpx.AsyncClient, config: dict[str, Any]) -> tuple[str, str, str]:
    """A tenant, its Zapier integration and e-mail connector: (tenant, API key, inbound path)."""
    r = await http.post("/admin/v1/tenants", json={"name": "Alquimista"}, headers=ADMIN)
    tenant_id = r.json()["id"]
    r = await http.post(
        f"/admin/v1/tenants/{tenant_id}/integrations",
        json={"name": "Zap", "kind": "zapier", "scopes": ["actions:*", "triggers:*"]},
        headers=ADMIN,
    )
    api_key = r.json()["api_key"]
    r = await http.put(
        f"/admin/v1/tenants/{tenant_id}/connectors/email",
        json={"config": {**config, "from_address": SENDER, "attachments_heading": "Anexos"}},
        headers=ADMIN,
    )
    assert r.status_code in (200, 201), r.text
    return tenant_id, api_key, r.json()["inbound_path"] or ""


async def _send(http: httpx.AsyncClient, api_key: str, key: str, **body: Any) -> httpx.Response:
    return await http.post(
        "/v1/actions/send_email",
        json={
            "to": [TO],
            "cc": [CC],
            "bcc": [BCC],
            "subject": "Pedido de Natal",
            "text": "Segue a proposta.",
            "html": "<p>Segue a proposta.</p>",
            "template_id": "proposal_email",
            "template_version": "3",
            "attachments": [{"url": LINK, "filename": "proposta.pdf"}],
            **body,
        },
        headers={**bearer(api_key), "Idempotency-Key": key},
    )


def _parsed(raw: bytes) -> EmailMessage:
    parsed = message_from_bytes(raw, policy=default_policy)
    assert isinstance(parsed, EmailMessage)
    return parsed


async def test_each_provider_gets_the_message_built_once_in_one_call(
    http: httpx.AsyncClient, hub: Hub, provider: Provider
) -> None:
    _, api_key, _ = await _connected(http, provider.config)
    key = str(uuid.uuid4())
    answers = [await _send(http, api_key, key) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200], answers[0].text
    outputs = answers[0].json()["outputs"]
    assert outputs["status"] == "sent"
    assert {a.json()["outputs"]["message_id"] for a in answers} == {outputs["message_id"]}

    [(raw, recipients)] = provider.received()
    # Bcc travels in the envelope (moto lists the headers' recipients besides: a set)...
    assert set(recipients) == {TO, CC, BCC}
    message = _parsed(raw)
    assert message["Bcc"] is None  # ...never in the message
    assert message["Message-ID"] == outputs["rfc822_message_id"]
    assert message["X-Hub-Template-Version"] == "3"
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None
    assert html is not None
    assert f"Anexos:\n- proposta.pdf: {LINK}" in text.get_content().replace("\r\n", "\n")
    assert f'<a href="{LINK}">proposta.pdf</a>' in html.get_content()


async def test_a_signed_mailgun_permanent_failure_suppresses_the_address(
    http: httpx.AsyncClient, hub: Hub, mailgun: FakeMailgun, clock: FrozenClock
) -> None:
    tenant_id, api_key, path = await _connected(http, _mailgun(mailgun).config)
    outputs = (await _send(http, api_key, str(uuid.uuid4()))).json()["outputs"]
    event_data = json.loads((FIXTURES / "webhook_failed_permanent.json").read_text())["event-data"]
    event_data.update(
        {
            "recipient": TO,
            "timestamp": clock.now().timestamp(),
            "user-variables": {"hub_message_id": outputs["message_id"]},
        }
    )
    body = signed(MAILGUN_SIGNING, event_data, int(clock.now().timestamp()))
    forged = signed("not-the-signing-key", event_data, int(clock.now().timestamp()))
    r = await http.post(path, json=forged)
    assert (r.status_code, r.json()["code"]) == (401, "UNAUTHENTICATED")
    r = await http.post(path, json=body)
    assert r.status_code == 200, r.text
    r = await http.post(path, json=body)  # the same token again: a replay, refused
    assert r.status_code == 401

    listed = (await http.get(f"/admin/v1/tenants/{tenant_id}/suppressions", headers=ADMIN)).json()
    assert [s["address"] for s in listed["items"]] == [TO]
    calls = len(mailgun.calls)
    r = await _send(http, api_key, str(uuid.uuid4()))
    assert (r.status_code, r.json()["code"]) == (422, "RECIPIENT_SUPPRESSED")
    assert len(mailgun.calls) == calls
