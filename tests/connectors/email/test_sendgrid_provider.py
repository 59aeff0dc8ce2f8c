"""The SendGrid provider against a fake v3 Mail Send API on loopback.

Sends are checked at the wire (the v3 JSON SendGrid documents, the bearer key), SendGrid's
error bodies (tests/fixtures/email/sendgrid/errors.json) against the hub's answers, and
the Event Webhook (SendGrid's documented examples, signed for real with an ECDSA P-256
key made here) against the catalog's event data.
"""

from __future__ import annotations

import base64
import copy
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from hub.actions.handlers import ActionFailed, ActionRejected
from hub.clock import FrozenClock
from hub.config import Settings, load_settings
from hub.connectors.protocol import CredentialsRejected, InboundReply, InboundRequest
from hub.events.catalog import EVENT_TYPES
from hub.events.data import EmailBounced, EmailComplained, EmailEvent, EmailRejected
from hub.runtime import Runtime, build_runtime
from hub.security.encryption import generate_key
from hub.web.errors import ProblemError
from integrations.email.config import SendGridConfig
from integrations.email.provider import OutgoingEmail, Sent
from integrations.email.sendgrid import SendGridProvider, field_path, provider_message_id
from tests.connectors.email.fake_sendgrid import EventSigner, FakeSendGrid, start_sendgrid
from tests.support.processes import free_port

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "email" / "sendgrid"
ERRORS: dict[str, Any] = json.loads((FIXTURES / "errors.json").read_text())

API_KEY = "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"
HUB_MESSAGE_ID = "msg_01jd8w2b6c0e4g8j2m6p0s4v8y"
RFC822_ID = f"<{HUB_MESSAGE_ID}@alquimista.example>"
RECEIVED_AT = datetime(2025, 12, 8, 14, 0, tzinfo=UTC)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def make_settings(*, allow_private: bool = True) -> Settings:
    env = {
        "HUB_ENV": "development",
        "HUB_DATABASE_URL": "sqlite+aiosqlite:///:memory:",
        "HUB_SECRET_KEYS": generate_key(),
        "HUB_LOG_LEVEL": "WARNING",
    }
    if allow_private:
        env["HUB_ALLOW_PRIVATE_TARGETS"] = "1"
    return load_settings(env)


def make_config(api_url: str = "https://api.sendgrid.com", **overrides: Any) -> SendGridConfig:
    values = {
        "provider": "sendgrid",
        "from_address": "vendas@alquimista.example",
        "from_name": "Alquimista Vendas",
        "api_key": API_KEY,
        "api_url": api_url,
        **overrides,
    }
    return msgspec.convert(values, SendGridConfig)


def raw_message(**headers: str) -> bytes:
    message = EmailMessage(policy=SMTP)
    message["From"] = "Alquimista Vendas <vendas@alquimista.example>"
    message["To"] = "compras@paodourado.example"
    message["Subject"] = "Pedido de Natal"
    message["Message-ID"] = RFC822_ID
    for name, value in headers.items():
        message[name] = value
    message.set_content("Bom dia!")
    return message.as_bytes()


def outgoing(**changes: Any) -> OutgoingEmail:
    values: dict[str, Any] = {
        "message_id": HUB_MESSAGE_ID,
        "rfc822_message_id": RFC822_ID,
        "sender": "Alquimista Vendas <vendas@alquimista.example>",
        "sender_address": "vendas@alquimista.example",
        "to": ["compras@paodourado.example"],
        "cc": ["gerente@paodourado.example"],
        "bcc": ["arquivo@alquimista.example"],
        "subject": "Pedido de Natal — Padaria Pão Dourado",
        "text": "Bom dia! Segue a proposta.",
        "html": "<p>Bom dia! Segue a <b>proposta</b>.</p>",
        "reply_to": "ana@alquimista.example",
        "headers": {"X-Hub-Message-Id": HUB_MESSAGE_ID, "X-Hub-Template-Id": "proposal"},
        "raw": raw_message(),
        "idempotency_key": "key-1",
        **changes,
    }
    return OutgoingEmail(**values)


@pytest.fixture
def settings() -> Settings:
    return make_settings()


@pytest.fixture
async def sendgrid() -> AsyncIterator[FakeSendGrid]:
    fake, runner = await start_sendgrid(API_KEY)
    try:
        yield fake
    finally:
        await runner.cleanup()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False) as client:
        yield client


@pytest.fixture
def config(sendgrid: FakeSendGrid) -> SendGridConfig:
    return make_config(sendgrid.url)


@pytest.fixture
def provider() -> SendGridProvider:
    return SendGridProvider()


@pytest.fixture(scope="module")
def signer() -> EventSigner:
    return EventSigner()


@pytest.fixture(scope="module")
async def rt(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Runtime]:
    """A runtime on a temporary SQLite file and the in-process Redis."""
    path = tmp_path_factory.mktemp("sendgrid-rt") / "hub.db"
    settings = load_settings(
        {
            "HUB_ENV": "development",
            "HUB_DATABASE_URL": f"sqlite+aiosqlite:///{path}",
            "HUB_REDIS_URL": "memory://",
            "HUB_REDIS_PREFIX": f"sgtest:{uuid.uuid4().hex[:10]}:",
            "HUB_SECRET_KEYS": generate_key(),
            "HUB_LOG_LEVEL": "WARNING",
        }
    )
    runtime = await build_runtime(settings, clock=FrozenClock(RECEIVED_AT), migrate=True)
    try:
        yield runtime
    finally:
        await runtime.close()


@pytest.fixture
def hook_config(signer: EventSigner) -> SendGridConfig:
    return make_config(webhook_public_key=signer.public_key)


# -- sending: the request -----------------------------------------------------------------


async def test_the_message_is_sent_as_sendgrid_documents_it(
    provider: SendGridProvider,
    client: httpx.AsyncClient,
    settings: Settings,
    config: SendGridConfig,
    sendgrid: FakeSendGrid,
) -> None:
    sent = await provider.send(client, settings, config, outgoing())

    assert sent == Sent(provider_message_id=sendgrid.message_id(1))
    [call] = sendgrid.calls
    assert call.headers["authorization"] == f"Bearer {API_KEY}"
    assert call.headers["content-type"] == "application/json"
    assert call.headers["host"] == sendgrid.url.removeprefix("http://")
    assert call.body == {
        "personalizations": [
            {
                "to": [{"email": "compras@paodourado.example"}],
                "cc": [{"email": "gerente@paodourado.example"}],
                "bcc": [{"email": "arquivo@alquimista.example"}],
            }
        ],
        "from": {"email": "vendas@alquimista.example", "name": "Alquimista Vendas"},
        "reply_to": {"email": "ana@alquimista.example"},
        "subject": "Pedido de Natal — Padaria Pão Dourado",
        "content": [
            {"type": "text/plain", "value": "Bom dia! Segue a proposta."},
            {"type": "text/html", "value": "<p>Bom dia! Segue a <b>proposta</b>.</p>"},
        ],
        "headers": {
            "Message-ID": RFC822_ID,
            "X-Hub-Message-Id": HUB_MESSAGE_ID,
            "X-Hub-Template-Id": "proposal",
        },
        "custom_args": {"hub_message_id": HUB_MESSAGE_ID},
    }


async def test_minimal_message_leaves_out_what_is_empty(
    provider: SendGridProvider,
    client: httpx.AsyncClient,
    settings: Settings,
    config: SendGridConfig,
    sendgrid: FakeSendGrid,
) -> None:
    message = outgoing(
        sender="vendas@alquimista.example", cc=[], bcc=[], html=None, reply_to=None, headers={}
    )
    await provider.send(client, settings, config, message)

    body = sendgrid.calls[0].body
    assert body["personalizations"] == [{"to": [{"email": "compras@paodourado.example"}]}]
    assert body["from"] == {"email": "vendas@alquimista.example"}
    assert "reply_to" not in body
    assert body["content"] == [{"type": "text/plain", "value": "Bom dia! Segue a proposta."}]
    assert body["headers"] == {"Message-ID": RFC822_ID}


async def test_html_only(
    provider: SendGridProvider,
    client: httpx.AsyncClient,
    settings: Settings,
    config: SendGridConfig,
    sendgrid: FakeSendGrid,
) -> None:
    await provider.send(client, settings, config, outgoing(text=None))

    assert sendgrid.calls[0].body["content"] == [
        {"type": "text/html", "value": "<p>Bom dia! Segue a <b>proposta</b>.</p>"}
    ]


async def test_named_recipients_and_duplicates(
    provider: SendGridProvider,
    client: httpx.AsyncClient,
    settings: Settings,
    config: SendGridConfig,
    sendgrid: FakeSendGrid,
) -> None:
    """SendGrid refuses one address twice in a personalization: each is sent once."""
    message = outgoing(
        to=["João Silva <compras@paodourado.example>", "gerente@paodourado.example"],
        cc=["GERENTE@paodourado.example", "fiscal@paodourado.example"],
        bcc=["compras@paodourado.example"],
        reply_to="Ana <ana@alquimista.example>",
    )
    await provider.send(client, settings, config, message)

    body = sendgrid.calls[0].body
    assert body["personalizations"] == [
        {
            "to": [
                {"email": "compras@paodourado.example", "name": "João Silva"},
                {"email": "gerente@paodourado.example"},
            ],
            "cc": [{"email": "fiscal@paodourado.example"}],
        }
    ]
    assert body["reply_to"] == {"email": "ana@alquimista.example", "name": "Ana"}


async def test_reserved_headers_are_not_sent(
    provider: SendGridProvider,
    client: httpx.AsyncClient,
    settings: Settings,
    config: SendGridConfig,
    sendgrid: FakeSendGrid,
) -> None:
    headers = {"X-Hub-Message-Id": HUB_MESSAGE_ID, "Subject": "x", "Message-Id": "<other@x>"}
    await provider.send(client, settings, config, outgoing(headers=headers))

    assert sendgrid.calls[0].body["headers"] == {
        "Message-ID": RFC822_ID,
        "X-Hub-Message-Id": HUB_MESSAGE_ID,
    }


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        pytest.param({"text": None, "html": None}, "$.text", id="no-body"),
        pytest.param({"text": "", "html": None}, "$.text", id="empty-body"),
        pytest.param({"to": []}, "$.to", id="no-recipient"),
    ],
)
async def test_unsendable_messages_are_refused_before_any_call(
    provider: SendGridProvider,
    client: httpx.AsyncClient,
    settings: Settings,
    config: SendGridConfig,
    sendgrid: FakeSendGrid,
    changes: dict[str, Any],
    path: str,
) -> None:
    with pytest.raises(ActionRejected) as caught:
        await provider.send(client, settings, config, outgoing(**changes))

    assert [e.path for e in caught.value.errors] == [path]
    assert sendgrid.calls == []


# -- sending: the answer --------------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    """CredentialsRejected, its reason naming this."""

    names: str


@dataclass(frozen=True)
class Failed:
    code: str
    retry_after: int | None = None


@dataclass(frozen=True)
class Rejected:
    paths: list[str]


Expected = Credentials | Failed | Rejected

# (HTTP status, body: a key of errors.json or raw bytes, headers, expected outcome)
CLASSIFICATION: list[Any] = [
    pytest.param(401, "401", {}, Credentials("HTTP 401"), id="401-bad-key"),
    pytest.param(
        403, "403_sender_identity", {}, Credentials("verified Sender Identity"), id="403-sender"
    ),
    pytest.param(403, "403_access_forbidden", {}, Credentials("access forbidden"), id="403-scope"),
    pytest.param(401, b"", {}, Credentials("HTTP 401"), id="401-no-body"),
    pytest.param(404, b"<html>Not Found</html>", {}, Credentials("api_url"), id="404-api-url"),
    pytest.param(429, "429", {"Retry-After": "7"}, Failed("RATE_LIMITED", 7), id="429-retry-after"),
    pytest.param(429, "429", {}, Failed("RATE_LIMITED", 60), id="429-no-hint"),
    pytest.param(500, "500", {}, Failed("UPSTREAM_ERROR"), id="500"),
    pytest.param(
        503, "503", {"Retry-After": "30"}, Failed("UPSTREAM_ERROR", 30), id="503-retry-after"
    ),
    pytest.param(502, b"<html>Bad Gateway</html>", {}, Failed("UPSTREAM_ERROR"), id="502-html"),
    pytest.param(400, b"<html>Bad Request</html>", {}, Failed("UPSTREAM_ERROR"), id="400-html"),
    pytest.param(400, {"errors": []}, {}, Failed("UPSTREAM_ERROR"), id="400-no-errors"),
    pytest.param(408, b"", {}, Failed("UPSTREAM_TIMEOUT"), id="408"),
    pytest.param(409, b"", {}, Failed("UPSTREAM_ERROR"), id="409"),
    pytest.param(302, b"", {"Location": "http://x/"}, Failed("UPSTREAM_ERROR"), id="redirect"),
    pytest.param(400, "400_to_email", {}, Rejected(["$.to"]), id="400-to-email"),
    pytest.param(400, "400_to_required", {}, Rejected(["$.to"]), id="400-to-required"),
    pytest.param(400, "400_personalizations", {}, Rejected(["$.to"]), id="400-personalizations"),
    pytest.param(400, "400_duplicate", {}, Rejected(["$.to"]), id="400-duplicate"),
    pytest.param(400, "400_cc", {}, Rejected(["$.cc"]), id="400-cc"),
    pytest.param(400, "400_bcc", {}, Rejected(["$.bcc"]), id="400-bcc"),
    pytest.param(400, "400_subject", {}, Rejected(["$.subject"]), id="400-subject"),
    pytest.param(400, "400_reply_to", {}, Rejected(["$.reply_to"]), id="400-reply-to"),
    pytest.param(400, "400_from", {}, Rejected(["$"]), id="400-from"),
    pytest.param(400, "400_content", {}, Rejected(["$"]), id="400-content"),
    pytest.param(400, "400_headers", {}, Rejected(["$"]), id="400-headers"),
    pytest.param(400, "400_two_errors", {}, Rejected(["$.to", "$.subject"]), id="400-two"),
    pytest.param(413, "413", {}, Rejected(["$"]), id="413"),
    pytest.param(
        413, b"<html>413 Request Entity Too Large</html>", {}, Rejected(["$"]), id="413-html"
    ),
]


@pytest.mark.parametrize(("status", "body", "headers", "expected"), CLASSIFICATION)
async def test_sendgrid_errors_become_the_hubs_answers(
    provider: SendGridProvider,
    client: httpx.AsyncClient,
    settings: Settings,
    config: SendGridConfig,
    sendgrid: FakeSendGrid,
    status: int,
    body: Any,
    headers: dict[str, str],
    expected: Expected,
) -> None:
    sendgrid.reply_next(status, ERRORS[body] if isinstance(body, str) else body, headers)

    with pytest.raises((ActionFailed, ActionRejected)) as caught:
        await provider.send(client, settings, config, outgoing())
    error = caught.value

    match expected:
        case Credentials(names):
            assert isinstance(error, CredentialsRejected)
            assert names in error.reason
            assert API_KEY not in error.reason
        case Failed(code, retry_after):
            assert isinstance(error, ActionFailed)
            assert not isinstance(error, CredentialsRejected)
            assert (error.code, error.retry_after) == (code, retry_after)
            assert len(error.detail) <= 300
        case Rejected(paths):
            assert isinstance(error, ActionRejected)
            assert error.detail.startswith("SendGrid refused the message: ")
            assert len(error.detail) <= 300
            assert [field.path for field in error.errors] == paths
            assert all(field.message.startswith("SendGrid: ") for field in error.errors)
            assert error.extra == {"provider_status": status}


async def test_rejection_carries_sendgrids_message(
    provider: SendGridProvider,
    client: httpx.AsyncClient,
    settings: Settings,
    config: SendGridConfig,
    sendgrid: FakeSendGrid,
) -> None:
    sendgrid.reply_next(400, ERRORS["400_to_email"])

    with pytest.raises(ActionRejected) as caught:
        await provider.send(client, settings, config, outgoing())

    assert caught.value.detail == "SendGrid refused the message: Does not contain a valid address."
    assert caught.value.errors[0].message == "SendGrid: Does not contain a valid address."


async def test_addresses_and_the_key_never_reach_the_answer(
    provider: SendGridProvider,
    client: httpx.AsyncClient,
    settings: Settings,
    config: SendGridConfig,
    sendgrid: FakeSendGrid,
) -> None:
    sendgrid.reply_next(400, ERRORS["400_duplicate"])
    with pytest.raises(ActionRejected) as rejected:
        await provider.send(client, settings, config, outgoing())
    sendgrid.reply_next(
        403,
        {"errors": [{"message": f"key {API_KEY} \x00 of " + "x" * 2000, "field": None}]},
    )
    with pytest.raises(CredentialsRejected) as refused:
        await provider.send(client, settings, config, outgoing())

    texts = [rejected.value.detail, rejected.value.errors[0].message, refused.value.reason]
    assert "You have included [address] more than once." in rejected.value.detail
    for text in texts:
        assert "paodourado.example" not in text
        assert API_KEY not in text
        assert len(text) <= 300
        assert text.isprintable()


async def test_rate_limit_reset_header_gives_the_wait(
    provider: SendGridProvider,
    client: httpx.AsyncClient,
    settings: Settings,
    config: SendGridConfig,
    sendgrid: FakeSendGrid,
) -> None:
    reset = str(int(time.time()) + 40)
    sendgrid.reply_next(
        429,
        ERRORS["429"],
        {"X-RateLimit-Limit": "150", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset},
    )

    with pytest.raises(ActionFailed) as caught:
        await provider.send(client, settings, config, outgoing())

    assert caught.value.code == "RATE_LIMITED"
    assert caught.value.retry_after is not None
    assert 35 <= caught.value.retry_after <= 40


async def test_a_wrong_key_gets_sendgrids_401(
    provider: SendGridProvider,
    client: httpx.AsyncClient,
    settings: Settings,
    sendgrid: FakeSendGrid,
) -> None:
    config = make_config(sendgrid.url, api_key="SG.wrong-key")

    with pytest.raises(CredentialsRejected) as caught:
        await provider.send(client, settings, config, outgoing())

    assert "HTTP 401" in caught.value.reason
    assert "authorization grant is invalid" in caught.value.reason
    assert "SG.wrong-key" not in caught.value.reason
    assert sendgrid.calls[0].headers["authorization"] == "Bearer SG.wrong-key"


@pytest.mark.parametrize(
    "headers",
    [pytest.param({}, id="no-id"), pytest.param({"X-Message-Id": "x" * 300}, id="too-long")],
)
async def test_accepted_without_a_usable_id_is_still_sent(
    provider: SendGridProvider,
    client: httpx.AsyncClient,
    settings: Settings,
    config: SendGridConfig,
    sendgrid: FakeSendGrid,
    headers: dict[str, str],
) -> None:
    """202 means SendGrid took it: a retry would send it twice. Its events carry the
    hub's id (the custom arg), which finds the message again."""
    sendgrid.reply_next(202, b"", headers)

    sent = await provider.send(client, settings, config, outgoing())

    assert sent == Sent(provider_message_id=HUB_MESSAGE_ID)


async def test_timeout(
    client: httpx.AsyncClient, settings: Settings, config: SendGridConfig, sendgrid: FakeSendGrid
) -> None:
    sendgrid.reply_next(202, b"", {"X-Message-Id": "late"}, delay=1.0)

    with pytest.raises(ActionFailed) as caught:
        await SendGridProvider(timeout_seconds=0.2).send(client, settings, config, outgoing())

    assert caught.value.code == "UPSTREAM_TIMEOUT"


async def test_connection_error(
    provider: SendGridProvider, client: httpx.AsyncClient, settings: Settings
) -> None:
    config = make_config(f"http://127.0.0.1:{free_port()}")  # nothing listens there

    with pytest.raises(ActionFailed) as caught:
        await provider.send(client, settings, config, outgoing())

    assert caught.value.code == "UPSTREAM_ERROR"
    assert not isinstance(caught.value, CredentialsRejected)


async def test_an_answer_larger_than_1_mib(
    provider: SendGridProvider,
    client: httpx.AsyncClient,
    settings: Settings,
    config: SendGridConfig,
    sendgrid: FakeSendGrid,
) -> None:
    sendgrid.reply_next(400, b'{"errors": [' + b" " * (1024 * 1024) + b"]}")

    with pytest.raises(ActionFailed) as caught:
        await provider.send(client, settings, config, outgoing())

    assert caught.value.code == "UPSTREAM_ERROR"


async def test_private_api_url_is_refused_by_the_ssrf_guard(
    provider: SendGridProvider,
    client: httpx.AsyncClient,
    config: SendGridConfig,
    sendgrid: FakeSendGrid,
) -> None:
    with pytest.raises(ActionFailed) as caught:
        await provider.send(client, make_settings(allow_private=False), config, outgoing())

    assert caught.value.code == "TARGET_NOT_ALLOWED"
    assert not isinstance(caught.value, CredentialsRejected)
    assert sendgrid.calls == []


@pytest.mark.parametrize(
    ("field", "path"),
    [
        ("personalizations.0.to.3.email", "$.to"),
        ("personalizations.0.cc", "$.cc"),
        ("personalizations.0.bcc.0.email", "$.bcc"),
        ("personalizations.0.subject", "$.subject"),
        ("subject", "$.subject"),
        ("reply_to.email", "$.reply_to"),
        ("reply_to_list", "$.reply_to"),
        ("personalizations", "$.to"),
        ("personalizations.0.custom_args", "$"),
        ("from.email", "$"),
        ("content.1.value", "$"),
        ("", "$"),
    ],
)
def test_field_paths(field: str, path: str) -> None:
    assert field_path(field) == path


# -- receiving: verification ----------------------------------------------------------------


def post(body: bytes, headers: dict[str, str] | None = None) -> InboundRequest:
    return InboundRequest(
        method="POST",
        headers=headers if headers is not None else {"content-type": "application/json"},
        query={},
        body=body,
        received_at=RECEIVED_AT,
    )


def signed(signer: EventSigner, payload: Any) -> InboundRequest:
    body = json.dumps(payload).encode()
    return post(body, signer.headers(body))


async def test_signed_call_is_accepted(
    provider: SendGridProvider, rt: Runtime, hook_config: SendGridConfig, signer: EventSigner
) -> None:
    reply = await provider.receive(
        rt, hook_config, signed(signer, fixture("events_hub_message.json"))
    )

    assert (reply.status, reply.body) == (200, b"ok")
    assert len(reply.events) == 5


async def test_a_pem_armoured_key_is_accepted(
    provider: SendGridProvider, rt: Runtime, signer: EventSigner
) -> None:
    config = make_config(webhook_public_key=signer.public_key_pem)

    reply = await provider.receive(rt, config, signed(signer, fixture("events_hub_message.json")))

    assert len(reply.events) == 5


def _headers_without(signer: EventSigner, body: bytes, name: str) -> dict[str, str]:
    headers = signer.headers(body)
    del headers[name]
    return headers


BODY = json.dumps([{"event": "delivered", "sg_event_id": "x", "email": "a@b.example"}]).encode()
OTHER = EventSigner()


def _refused_cases(signer: EventSigner) -> list[Any]:
    good = signer.headers(BODY)
    return [
        pytest.param(post(BODY), id="unsigned"),
        pytest.param(
            post(BODY, _headers_without(signer, BODY, "x-twilio-email-event-webhook-signature")),
            id="no-signature",
        ),
        pytest.param(
            post(BODY, _headers_without(signer, BODY, "x-twilio-email-event-webhook-timestamp")),
            id="no-timestamp",
        ),
        pytest.param(post(BODY, OTHER.headers(BODY)), id="wrong-key"),
        pytest.param(post(BODY.replace(b"a@b", b"c@b"), good), id="body-tampered"),
        pytest.param(
            post(BODY, {**good, "x-twilio-email-event-webhook-timestamp": "1765202411"}),
            id="timestamp-tampered",
        ),
        pytest.param(
            post(BODY, {**good, "x-twilio-email-event-webhook-signature": "not base64!"}),
            id="not-base64",
        ),
        pytest.param(
            post(
                BODY,
                {
                    **good,
                    "x-twilio-email-event-webhook-signature": base64.b64encode(b"junk").decode(),
                },
            ),
            id="not-der",
        ),
        pytest.param(
            post(
                BODY,
                {
                    **good,
                    "x-twilio-email-event-webhook-signature": good[
                        "x-twilio-email-event-webhook-signature"
                    ]
                    + "ü",
                },
            ),
            id="non-ascii",
        ),
    ]


SIGNER = EventSigner()


@pytest.mark.parametrize("request_", _refused_cases(SIGNER))
async def test_unverifiable_calls_are_refused(
    provider: SendGridProvider, rt: Runtime, request_: InboundRequest
) -> None:
    config = make_config(webhook_public_key=SIGNER.public_key)

    with pytest.raises(ProblemError) as caught:
        await provider.receive(rt, config, request_)

    assert (caught.value.code, caught.value.status) == ("UNAUTHENTICATED", 401)


def _p384_key() -> str:
    """A valid SubjectPublicKeyInfo, of the wrong curve."""
    der = (
        ec.generate_private_key(ec.SECP384R1())
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return base64.b64encode(der).decode()


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(None, id="no-key-configured"),
        pytest.param(base64.b64encode(b"x" * 64).decode(), id="not-a-key"),
        pytest.param(_p384_key(), id="wrong-curve"),
    ],
)
async def test_a_call_without_a_usable_key_is_refused(
    provider: SendGridProvider, rt: Runtime, signer: EventSigner, key: str | None
) -> None:
    config = make_config(webhook_public_key=key)

    with pytest.raises(ProblemError) as caught:
        await provider.receive(rt, config, signed(signer, fixture("events_hub_message.json")))

    assert caught.value.code == "UNAUTHENTICATED"


async def test_signature_is_checked_before_the_body_is_read(
    provider: SendGridProvider, rt: Runtime, hook_config: SendGridConfig
) -> None:
    body = b"\xff not json"
    with pytest.raises(ProblemError) as caught:
        await provider.receive(rt, hook_config, post(body, OTHER.headers(body)))

    assert caught.value.code == "UNAUTHENTICATED"


async def test_other_methods_are_refused(
    provider: SendGridProvider, rt: Runtime, hook_config: SendGridConfig
) -> None:
    request = InboundRequest(method="GET", headers={}, query={}, body=b"", received_at=RECEIVED_AT)

    with pytest.raises(ProblemError) as caught:
        await provider.receive(rt, hook_config, request)

    assert caught.value.code == "METHOD_NOT_ALLOWED"


@pytest.mark.parametrize("body", [b"not json", b'{"event": "delivered"}', b"null", b"[]"])
async def test_authentic_but_unreadable_calls_answer_200_with_nothing(
    provider: SendGridProvider,
    rt: Runtime,
    hook_config: SendGridConfig,
    signer: EventSigner,
    body: bytes,
) -> None:
    reply = await provider.receive(rt, hook_config, post(body, signer.headers(body)))

    assert (reply.status, list(reply.events)) == (200, [])


# -- receiving: events ------------------------------------------------------------------------

STRUCTS: dict[str, type[Any]] = {
    "email.delivered": EmailEvent,
    "email.bounced": EmailBounced,
    "email.complained": EmailComplained,
    "email.rejected": EmailRejected,
}


def checked(reply: InboundReply) -> list[tuple[str, str]]:
    """The events' (type, id), each one's data converted to its catalog Struct."""
    for event in reply.events:
        catalog = EVENT_TYPES[event.type]
        assert catalog.data_type is STRUCTS[event.type]
        msgspec.convert(dict(event.data), catalog.data_type)
        assert event.occurred_at is not None
        assert event.occurred_at.tzinfo is not None
    return [(e.type, e.id) for e in reply.events]


async def test_the_documented_sample_events(
    provider: SendGridProvider, rt: Runtime, hook_config: SendGridConfig, signer: EventSigner
) -> None:
    """SendGrid's reference example of each event type: the delivery outcomes become
    events; processed, deferred, open, click, unsubscribe and group_* do not."""
    reply = await provider.receive(
        rt, hook_config, signed(signer, fixture("event_webhook_sample.json"))
    )

    assert checked(reply) == [
        ("email.rejected", "sendgrid:zmzJhfJgAfUSOW80yEbPyw=="),
        ("email.delivered", "sendgrid:rWVYmVk90MjZJ9iohOBa3w=="),
        ("email.bounced", "sendgrid:6g4ZI7SA-xmRDv57GoPIPw=="),
        ("email.bounced", "sendgrid:6g4ZI7SA-xmRDv57GoPIPx=="),
        ("email.complained", "sendgrid:37nvH5QBz858KGVYCM4uOA=="),
    ]
    rejected, delivered, bounced, blocked, complained = reply.events
    common = {
        # Not sent through the hub: the provider's id stands for the message.
        "message_id": "14c5d75ce93.dfd.64b469",
        "recipient": "example@test.com",
        "provider": "sendgrid",
        "provider_message_id": "14c5d75ce93.dfd.64b469",
        "rfc822_message_id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
    }
    assert delivered.data == common
    assert delivered.occurred_at == datetime.fromtimestamp(1513299569, UTC)
    assert rejected.data == {**common, "reason": "Bounced Address"}
    assert bounced.data == {
        **common,
        "bounce_type": "hard",
        "diagnostic": "5.0.0 500 unknown recipient",
    }
    assert blocked.data["bounce_type"] == "soft"
    assert complained.data == {**common, "feedback_type": "abuse"}


async def test_a_hub_message_is_found_by_its_custom_arg(
    provider: SendGridProvider, rt: Runtime, hook_config: SendGridConfig, signer: EventSigner
) -> None:
    reply = await provider.receive(
        rt, hook_config, signed(signer, fixture("events_hub_message.json"))
    )

    assert checked(reply) == [
        ("email.delivered", "sendgrid:ZGVsaXZlcmVkLTAtNDk1NDc2NDQtMQ"),
        ("email.bounced", "sendgrid:Ym91bmNlLTAtNDk1NDc2NDQtMg"),
        ("email.bounced", "sendgrid:YmxvY2tlZC0wLTQ5NTQ3NjQ0LTM"),
        ("email.complained", "sendgrid:c3BhbXJlcG9ydC00OTU0NzY0NC01"),
        ("email.rejected", "sendgrid:ZHJvcHBlZC0wLTQ5NTQ3NjQ0LTY"),
    ]
    delivered, bounced, blocked, complained, rejected = reply.events
    common = {
        "message_id": HUB_MESSAGE_ID,
        "provider": "sendgrid",
        # What the send was answered with (X-Message-Id): sg_message_id before its dot.
        "provider_message_id": "W7cBMv0wQ5mFM5dxXRYLrQ",
        "rfc822_message_id": RFC822_ID,
    }
    assert delivered.data == {**common, "recipient": "compras@paodourado.example"}
    assert delivered.occurred_at == datetime.fromtimestamp(1765202403, UTC)
    assert bounced.data == {
        **common,
        "recipient": "gerente@paodourado.example",
        "bounce_type": "hard",
        "diagnostic": "550 5.1.1 The email account that you tried to reach does not exist.",
    }
    assert blocked.data == {
        **common,
        "recipient": "financeiro@paodourado.example",
        "bounce_type": "soft",
        "diagnostic": "421 4.7.0 Try again later, closing connection.",
    }
    assert complained.data == {
        **common,
        "recipient": "compras@paodourado.example",
        "feedback_type": "abuse",
    }
    assert rejected.data == {
        **common,
        "recipient": "antigo@paodourado.example",
        "reason": "Bounced Address",
    }


@pytest.mark.parametrize(
    ("sg_message_id", "expected"),
    [
        (
            "W7cBMv0wQ5mFM5dxXRYLrQ.filterdrecv-5645d9c87f-6r9bj-1-6502E3B1-2B.0",
            "W7cBMv0wQ5mFM5dxXRYLrQ",
        ),
        ("14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0", "14c5d75ce93.dfd.64b469"),
        ("5lFl7Fr1Rjme_EyzNNB_5A.stfilter-015.5185.55F883172.0", "5lFl7Fr1Rjme_EyzNNB_5A"),
        ("abc.recvd-7b7c6b9b-xk4ql-1-64F0-1.0", "abc"),
        ("plainid", "plainid"),
        ("", None),
        (None, None),
    ],
)
def test_provider_message_id(sg_message_id: Any, expected: str | None) -> None:
    assert provider_message_id(sg_message_id) == expected


async def test_a_bad_item_is_skipped_and_the_others_survive(
    provider: SendGridProvider, rt: Runtime, hook_config: SendGridConfig, signer: EventSigner
) -> None:
    items = fixture("events_hub_message.json")
    good_first, good_last = items[1], items[5]
    no_event_id = {k: v for k, v in items[2].items() if k != "sg_event_id"}
    bad_recipient = {**items[3], "email": 42}
    no_ids = {k: v for k, v in items[6].items() if k not in ("sg_message_id", "hub_message_id")}
    huge_reason = {**items[6], "sg_event_id": "other", "reason": "x" * 600}
    payload = [
        good_first,
        "not an object",
        no_event_id,
        bad_recipient,
        no_ids,
        huge_reason,
        7,
        good_last,
    ]

    reply = await provider.receive(rt, hook_config, signed(signer, payload))

    assert checked(reply) == [
        ("email.delivered", "sendgrid:ZGVsaXZlcmVkLTAtNDk1NDc2NDQtMQ"),
        ("email.rejected", "sendgrid:other"),
        ("email.complained", "sendgrid:c3BhbXJlcG9ydC00OTU0NzY0NC01"),
    ]
    assert len(reply.events[1].data["reason"]) == 500


async def test_a_timestamp_out_of_range_falls_back_to_the_receipt(
    provider: SendGridProvider, rt: Runtime, hook_config: SendGridConfig, signer: EventSigner
) -> None:
    item = copy.deepcopy(fixture("events_hub_message.json")[1])
    item["timestamp"] = 10**15

    reply = await provider.receive(rt, hook_config, signed(signer, [item]))

    assert reply.events[0].occurred_at == RECEIVED_AT


async def test_ignored_event_kinds_publish_nothing(
    provider: SendGridProvider, rt: Runtime, hook_config: SendGridConfig, signer: EventSigner
) -> None:
    kinds = [
        "processed",
        "deferred",
        "open",
        "click",
        "unsubscribe",
        "group_unsubscribe",
        "group_resubscribe",
        "account_status_change",
    ]
    template = fixture("events_hub_message.json")[1]
    payload = [{**template, "event": kind, "sg_event_id": kind} for kind in kinds]

    reply = await provider.receive(rt, hook_config, signed(signer, payload))

    assert (reply.status, list(reply.events)) == (200, [])
