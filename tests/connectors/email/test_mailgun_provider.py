"""The Mailgun provider against a fake messages API on loopback.

Sends are checked at the wire (``messages.mime``'s multipart form, basic auth), Mailgun's
documented answers (tests/fixtures/email/mailgun/responses.json) against the hub's, and
the webhooks (Mailgun's documented sample events, signed for real with the signing key)
against the catalog's event data — with a runtime on the in-process Redis remembering
tokens, so stale and replayed calls are refused.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP, default
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from hub.actions.handlers import ActionFailed, ActionRejected
from hub.clock import FrozenClock
from hub.config import Settings, load_settings
from hub.connectors.protocol import CredentialsRejected, InboundReply, InboundRequest
from hub.events.catalog import EVENT_TYPES
from hub.events.data import EmailBounced, EmailComplained, EmailEvent, EmailRejected
from hub.runtime import Runtime, build_runtime
from hub.security.encryption import generate_key
from hub.web.errors import ProblemError
from integrations.email.config import MailgunConfig
from integrations.email.mailgun import MailgunProvider
from integrations.email.provider import OutgoingEmail, Sent
from tests.connectors.email.fake_mailgun import (
    FakeMailgun,
    new_token,
    signature,
    signed,
    start_mailgun,
)
from tests.support.processes import free_port

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "email" / "mailgun"
RESPONSES: dict[str, Any] = json.loads((FIXTURES / "responses.json").read_text())

API_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"
DOMAIN = "mg.alquimista.example"
SIGNING_KEY = "1b5a2f0e8c3d4e6f7a8b9c0d1e2f3a4b"
HUB_MESSAGE_ID = "msg_01jd8w2b6c0e4g8j2m6p0s4v8y"
RFC822_ID = f"<{HUB_MESSAGE_ID}@alquimista.example>"
NOW = datetime(2025, 12, 8, 14, 0, tzinfo=UTC)
RECEIVED_AT = NOW


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


def make_config(api_url: str = "https://api.mailgun.net", **overrides: Any) -> MailgunConfig:
    values = {
        "provider": "mailgun",
        "from_address": "vendas@alquimista.example",
        "api_key": API_KEY,
        "domain": DOMAIN,
        "webhook_signing_key": SIGNING_KEY,
        "api_url": api_url,
        **overrides,
    }
    return msgspec.convert(values, MailgunConfig)


def raw_message() -> bytes:
    message = EmailMessage(policy=SMTP)
    message["From"] = "Alquimista Vendas <vendas@alquimista.example>"
    message["To"] = "compras@paodourado.example"
    message["Cc"] = "gerente@paodourado.example"
    message["Reply-To"] = "ana@alquimista.example"
    message["Subject"] = "Pedido de Natal — Padaria Pão Dourado"
    message["Message-ID"] = RFC822_ID
    message["X-Hub-Message-Id"] = HUB_MESSAGE_ID
    message["X-Hub-Template-Id"] = "proposal"
    message.set_content("Bom dia! Segue a proposta.")
    message.add_alternative("<p>Bom dia! Segue a <b>proposta</b>.</p>", subtype="html")
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
async def mailgun() -> AsyncIterator[FakeMailgun]:
    fake, runner = await start_mailgun(API_KEY, frozenset({DOMAIN}))
    try:
        yield fake
    finally:
        await runner.cleanup()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False) as client:
        yield client


@pytest.fixture
def config(mailgun: FakeMailgun) -> MailgunConfig:
    return make_config(mailgun.url)


@pytest.fixture
def provider() -> MailgunProvider:
    return MailgunProvider()


@pytest.fixture(scope="module")
async def rt(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Runtime]:
    """A runtime on a temporary SQLite file and the in-process Redis (which remembers
    the tokens), with a clock the tests set."""
    path = tmp_path_factory.mktemp("mailgun-rt") / "hub.db"
    settings = load_settings(
        {
            "HUB_ENV": "development",
            "HUB_DATABASE_URL": f"sqlite+aiosqlite:///{path}",
            "HUB_REDIS_URL": "memory://",
            "HUB_REDIS_PREFIX": f"mgtest:{uuid.uuid4().hex[:10]}:",
            "HUB_SECRET_KEYS": generate_key(),
            "HUB_LOG_LEVEL": "WARNING",
        }
    )
    runtime = await build_runtime(settings, clock=FrozenClock(NOW), migrate=True)
    try:
        yield runtime
    finally:
        await runtime.close()


@pytest.fixture
def clock(rt: Runtime) -> FrozenClock:
    assert isinstance(rt.clock, FrozenClock)
    rt.clock.set(NOW)
    return rt.clock


# -- sending: the request -----------------------------------------------------------------


async def test_the_mime_is_sent_as_mailgun_documents_it(
    provider: MailgunProvider,
    client: httpx.AsyncClient,
    settings: Settings,
    config: MailgunConfig,
    mailgun: FakeMailgun,
) -> None:
    message = outgoing()

    sent = await provider.send(client, settings, config, message)

    # Mailgun keeps the message's own Message-ID; the id is kept as its events write it.
    assert sent == Sent(provider_message_id=f"{HUB_MESSAGE_ID}@alquimista.example")
    [call] = mailgun.calls
    assert call.domain == DOMAIN
    assert (
        call.headers["authorization"]
        == "Basic YXBpOmtleS0zYXg2eG5qcDI5amQ2ZmRzNGdjMzczc2d2anh0ZW9sMA=="
    )
    assert call.headers["host"] == mailgun.url.removeprefix("http://")
    assert call.content_type == "multipart/form-data"
    # The envelope: every recipient, Bcc included (it never appears in the MIME).
    assert call.to == [
        "compras@paodourado.example",
        "gerente@paodourado.example",
        "arquivo@alquimista.example",
    ]
    assert call.fields == {"v:hub_message_id": [HUB_MESSAGE_ID]}
    assert call.message == message.raw
    assert call.message_content_type == "message/rfc822"
    parsed = message_from_bytes(call.message or b"", policy=default)
    assert parsed["Message-ID"] == RFC822_ID
    assert parsed["X-Hub-Message-Id"] == HUB_MESSAGE_ID
    assert "Bcc" not in parsed


async def test_recipients_are_bare_and_once(
    provider: MailgunProvider,
    client: httpx.AsyncClient,
    settings: Settings,
    config: MailgunConfig,
    mailgun: FakeMailgun,
) -> None:
    message = outgoing(
        to=["João Silva <compras@paodourado.example>"],
        cc=["COMPRAS@paodourado.example", "gerente@paodourado.example"],
        bcc=["gerente@paodourado.example"],
    )
    await provider.send(client, settings, config, message)

    assert mailgun.calls[0].to == ["compras@paodourado.example", "gerente@paodourado.example"]


async def test_api_url_shapes_the_path(
    provider: MailgunProvider,
    client: httpx.AsyncClient,
    settings: Settings,
    mailgun: FakeMailgun,
) -> None:
    await provider.send(client, settings, make_config(mailgun.url + "/"), outgoing())

    assert mailgun.calls[0].domain == DOMAIN


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        pytest.param({"to": [], "cc": [], "bcc": []}, "$.to", id="no-recipient"),
        pytest.param({"raw": b""}, "$", id="no-mime"),
    ],
)
async def test_unsendable_messages_are_refused_before_any_call(
    provider: MailgunProvider,
    client: httpx.AsyncClient,
    settings: Settings,
    config: MailgunConfig,
    mailgun: FakeMailgun,
    changes: dict[str, Any],
    path: str,
) -> None:
    with pytest.raises(ActionRejected) as caught:
        await provider.send(client, settings, config, outgoing(**changes))

    assert [e.path for e in caught.value.errors] == [path]
    assert mailgun.calls == []


# -- sending: the answer --------------------------------------------------------------------


async def test_mailguns_documented_success_answer(
    provider: MailgunProvider,
    client: httpx.AsyncClient,
    settings: Settings,
    config: MailgunConfig,
    mailgun: FakeMailgun,
) -> None:
    answer = RESPONSES["sent"]
    mailgun.reply_next(answer["status"], answer["body"])

    sent = await provider.send(client, settings, config, outgoing())

    assert sent == Sent(provider_message_id="20111114174239.25659.5817@samples.mailgun.org")


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"message": "Queued. Thank you."}, id="no-id"),
        pytest.param(b"<html>ok</html>", id="not-json"),
    ],
)
async def test_accepted_without_an_id_is_still_sent(
    provider: MailgunProvider,
    client: httpx.AsyncClient,
    settings: Settings,
    config: MailgunConfig,
    mailgun: FakeMailgun,
    body: Any,
) -> None:
    """200 means Mailgun took it (a retry would send it twice); for messages.mime its
    id is the message's own Message-ID."""
    mailgun.reply_next(200, body)

    sent = await provider.send(client, settings, config, outgoing())

    assert sent == Sent(provider_message_id=f"{HUB_MESSAGE_ID}@alquimista.example")


@dataclass(frozen=True)
class Credentials:
    names: str


@dataclass(frozen=True)
class Failed:
    code: str
    retry_after: int | None = None


@dataclass(frozen=True)
class Rejected:
    path: str


Expected = Credentials | Failed | Rejected

# (a key of responses.json, or (status, body), extra headers, expected outcome)
CLASSIFICATION: list[Any] = [
    pytest.param("401", {}, Credentials("HTTP 401: Forbidden"), id="401-forbidden"),
    pytest.param("403_ip", {}, Credentials("can't be used"), id="403-ip"),
    pytest.param("404_domain", {}, Credentials("domain not found"), id="404-domain"),
    pytest.param("400_sandbox", {}, Credentials("Sandbox subdomains"), id="400-sandbox"),
    pytest.param("400_unverified", {}, Credentials("unverified"), id="400-unverified"),
    pytest.param("429_requests", {"Retry-After": "9"}, Failed("RATE_LIMITED", 9), id="429-header"),
    pytest.param("500", {}, Failed("UPSTREAM_ERROR"), id="500"),
    pytest.param((502, b"<html>Bad Gateway</html>"), {}, Failed("UPSTREAM_ERROR"), id="502-html"),
    pytest.param((503, b""), {"Retry-After": "20"}, Failed("UPSTREAM_ERROR", 20), id="503"),
    pytest.param((400, b"<html>?</html>"), {}, Failed("UPSTREAM_ERROR"), id="400-not-json"),
    pytest.param((400, {}), {}, Failed("UPSTREAM_ERROR"), id="400-no-message"),
    pytest.param((408, b""), {}, Failed("UPSTREAM_TIMEOUT"), id="408"),
    pytest.param((409, b""), {}, Failed("UPSTREAM_ERROR"), id="409"),
    pytest.param((301, b""), {"Location": "http://x/"}, Failed("UPSTREAM_ERROR"), id="redirect"),
    pytest.param("400_to_missing", {}, Rejected("$.to"), id="400-to-missing"),
    pytest.param("400_to_invalid", {}, Rejected("$.to"), id="400-to-invalid"),
    pytest.param("400_cc_invalid", {}, Rejected("$.cc"), id="400-cc-invalid"),
    pytest.param("400_bcc_invalid", {}, Rejected("$.bcc"), id="400-bcc-invalid"),
    pytest.param("400_too_many_recipients", {}, Rejected("$.to"), id="400-too-many"),
    pytest.param("400_from_missing", {}, Rejected("$"), id="400-from-missing"),
    pytest.param("400_message_missing", {}, Rejected("$"), id="400-message-missing"),
    pytest.param("400_header_ascii", {}, Rejected("$"), id="400-header-ascii"),
    pytest.param("400_options_size", {}, Rejected("$"), id="400-options-size"),
    pytest.param("403_large_batches", {}, Rejected("$.to"), id="403-large-batches"),
    pytest.param("413", {}, Rejected("$"), id="413"),
    pytest.param((413, b"<html>Too Large</html>"), {}, Rejected("$"), id="413-html"),
]


@pytest.mark.parametrize(("answer", "headers", "expected"), CLASSIFICATION)
async def test_mailgun_answers_become_the_hubs(
    provider: MailgunProvider,
    client: httpx.AsyncClient,
    settings: Settings,
    config: MailgunConfig,
    mailgun: FakeMailgun,
    answer: Any,
    headers: dict[str, str],
    expected: Expected,
) -> None:
    if isinstance(answer, str):
        status, body = RESPONSES[answer]["status"], RESPONSES[answer]["body"]
    else:
        status, body = answer
    mailgun.reply_next(status, body, headers)

    with pytest.raises((ActionFailed, ActionRejected)) as caught:
        await provider.send(client, settings, config, outgoing())
    error = caught.value

    match expected:
        case Credentials(names):
            assert isinstance(error, CredentialsRejected)
            assert names in error.reason
            assert API_KEY not in error.reason
            assert len(error.reason) <= 300
        case Failed(code, retry_after):
            assert isinstance(error, ActionFailed)
            assert not isinstance(error, CredentialsRejected)
            assert (error.code, error.retry_after) == (code, retry_after)
            assert len(error.detail) <= 300
        case Rejected(path):
            assert isinstance(error, ActionRejected)
            assert error.detail.startswith("Mailgun refused the message: ")
            assert len(error.detail) <= 300
            [field] = error.errors
            assert field.path == path
            assert field.message.startswith("Mailgun: ")
            assert error.extra == {"provider_status": status}


async def test_the_429_text_says_when_to_try_again(
    provider: MailgunProvider,
    client: httpx.AsyncClient,
    settings: Settings,
    config: MailgunConfig,
    mailgun: FakeMailgun,
) -> None:
    soon = datetime.now(UTC) + timedelta(seconds=90)
    when = soon.strftime("%a, %d %b %Y %H:%M:%S UTC")
    body = {
        "message": f"Domain {DOMAIN} is not allowed to send: recipient limit exceeded, "
        f"try again after {when}"
    }
    mailgun.reply_next(429, body)

    with pytest.raises(ActionFailed) as caught:
        await provider.send(client, settings, config, outgoing())

    assert caught.value.code == "RATE_LIMITED"
    assert caught.value.retry_after is not None
    assert 80 <= caught.value.retry_after <= 90
    assert "recipient limit exceeded" in caught.value.detail


async def test_a_past_or_unreadable_429_time_gives_a_default(
    provider: MailgunProvider,
    client: httpx.AsyncClient,
    settings: Settings,
    config: MailgunConfig,
    mailgun: FakeMailgun,
) -> None:
    past = RESPONSES["429_recipients"]  # Mon, 20 Dec 2021: long gone
    mailgun.reply_next(past["status"], past["body"])
    mailgun.reply_next(429, {"message": "limit exceeded, try again after whenever"})

    waits = []
    for _ in range(2):
        with pytest.raises(ActionFailed) as caught:
            await provider.send(client, settings, config, outgoing())
        waits.append((caught.value.code, caught.value.retry_after))

    assert waits == [("RATE_LIMITED", 1), ("RATE_LIMITED", 60)]


async def test_a_wrong_key_gets_mailguns_401(
    provider: MailgunProvider, client: httpx.AsyncClient, settings: Settings, mailgun: FakeMailgun
) -> None:
    config = make_config(mailgun.url, api_key="key-wrong")

    with pytest.raises(CredentialsRejected) as caught:
        await provider.send(client, settings, config, outgoing())

    assert "HTTP 401" in caught.value.reason
    assert "key-wrong" not in caught.value.reason


async def test_an_unknown_domain_gets_mailguns_404(
    provider: MailgunProvider, client: httpx.AsyncClient, settings: Settings, mailgun: FakeMailgun
) -> None:
    config = make_config(mailgun.url, domain="other.example")

    with pytest.raises(CredentialsRejected) as caught:
        await provider.send(client, settings, config, outgoing())

    assert caught.value.reason.startswith("domain not found")
    assert mailgun.calls[0].domain == "other.example"


async def test_addresses_and_the_key_never_reach_the_answer(
    provider: MailgunProvider,
    client: httpx.AsyncClient,
    settings: Settings,
    config: MailgunConfig,
    mailgun: FakeMailgun,
) -> None:
    mailgun.reply_next(
        400,
        {"message": "to parameter is not a valid address: compras@paodourado.example\x00 " * 20},
    )
    with pytest.raises(ActionRejected) as rejected:
        await provider.send(client, settings, config, outgoing())
    mailgun.reply_next(403, {"message": f"Rejected: the key {API_KEY} is disabled"})
    with pytest.raises(CredentialsRejected) as refused:
        await provider.send(client, settings, config, outgoing())

    for text in (rejected.value.detail, rejected.value.errors[0].message, refused.value.reason):
        assert "paodourado.example" not in text
        assert API_KEY not in text
        assert len(text) <= 300
        assert text.isprintable()


async def test_timeout(
    client: httpx.AsyncClient, settings: Settings, config: MailgunConfig, mailgun: FakeMailgun
) -> None:
    mailgun.reply_next(200, RESPONSES["sent"]["body"], delay=1.0)

    with pytest.raises(ActionFailed) as caught:
        await MailgunProvider(timeout_seconds=0.2).send(client, settings, config, outgoing())

    assert caught.value.code == "UPSTREAM_TIMEOUT"


async def test_connection_error(
    provider: MailgunProvider, client: httpx.AsyncClient, settings: Settings
) -> None:
    config = make_config(f"http://127.0.0.1:{free_port()}")

    with pytest.raises(ActionFailed) as caught:
        await provider.send(client, settings, config, outgoing())

    assert caught.value.code == "UPSTREAM_ERROR"
    assert not isinstance(caught.value, CredentialsRejected)


async def test_an_answer_larger_than_1_mib(
    provider: MailgunProvider,
    client: httpx.AsyncClient,
    settings: Settings,
    config: MailgunConfig,
    mailgun: FakeMailgun,
) -> None:
    mailgun.reply_next(200, b'{"id": "' + b"x" * (1024 * 1024) + b'"}')

    with pytest.raises(ActionFailed) as caught:
        await provider.send(client, settings, config, outgoing())

    assert caught.value.code == "UPSTREAM_ERROR"


async def test_private_api_url_is_refused_by_the_ssrf_guard(
    provider: MailgunProvider,
    client: httpx.AsyncClient,
    config: MailgunConfig,
    mailgun: FakeMailgun,
) -> None:
    with pytest.raises(ActionFailed) as caught:
        await provider.send(client, make_settings(allow_private=False), config, outgoing())

    assert caught.value.code == "TARGET_NOT_ALLOWED"
    assert mailgun.calls == []


# -- receiving: verification ----------------------------------------------------------------


def post(payload: Any) -> InboundRequest:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return InboundRequest(
        method="POST",
        headers={"content-type": "application/json", "user-agent": "mailgun/treq-16.12.0"},
        query={},
        body=body,
        received_at=RECEIVED_AT,
    )


def hub_event(name: str) -> dict[str, Any]:
    """A documented sample event, as it comes for a message the hub sent."""
    data: dict[str, Any] = copy.deepcopy(fixture(name)["event-data"])
    data["user-variables"] = {"hub_message_id": HUB_MESSAGE_ID}
    data["message"]["headers"]["message-id"] = f"{HUB_MESSAGE_ID}@alquimista.example"
    return data


def fresh(event_data: Any, *, at: datetime = NOW, token: str | None = None) -> InboundRequest:
    return post(signed(SIGNING_KEY, event_data, int(at.timestamp()), token))


async def test_signed_fresh_call_is_accepted(
    provider: MailgunProvider, rt: Runtime, clock: FrozenClock
) -> None:
    reply = await provider.receive(rt, make_config(), fresh(hub_event("webhook_delivered.json")))

    assert (reply.status, reply.body) == (200, b"ok")
    assert [e.type for e in reply.events] == ["email.delivered"]


async def test_the_documented_signature_verifies(
    provider: MailgunProvider, rt: Runtime, clock: FrozenClock
) -> None:
    """The user manual's sample block, checked with a key that signs it the same way."""
    body = fixture("webhook_delivered.json")
    block = body["signature"]
    block["signature"] = signature(SIGNING_KEY, block["timestamp"], block["token"])
    clock.set(datetime.fromtimestamp(int(block["timestamp"]), UTC) + timedelta(minutes=3))

    reply = await provider.receive(rt, make_config(), post(body))

    assert [e.type for e in reply.events] == ["email.delivered"]


def _resigned(**changes: Any) -> dict[str, Any]:
    body = signed(SIGNING_KEY, hub_event("webhook_delivered.json"), int(NOW.timestamp()))
    body["signature"].update(changes)
    return body


def _refused() -> list[Any]:
    good = signed(SIGNING_KEY, hub_event("webhook_delivered.json"), int(NOW.timestamp()))
    tampered_token = copy.deepcopy(good)
    tampered_token["signature"]["token"] = new_token()
    tampered_time = copy.deepcopy(good)
    tampered_time["signature"]["timestamp"] = str(int(NOW.timestamp()) + 1)
    return [
        pytest.param(b"not json", id="not-json"),
        pytest.param([good], id="a-list"),
        pytest.param({"event-data": good["event-data"]}, id="no-signature"),
        pytest.param({**good, "signature": "sig"}, id="signature-not-an-object"),
        pytest.param(_resigned(signature=""), id="empty-signature"),
        pytest.param(_resigned(signature="0" * 64), id="wrong-signature"),
        pytest.param(_resigned(signature="zz" * 32), id="not-hex"),
        pytest.param(_resigned(token=""), id="empty-token"),
        pytest.param(_resigned(token=None), id="no-token"),
        pytest.param(_resigned(timestamp="soon"), id="timestamp-not-digits"),
        pytest.param(
            signed("another-signing-key", good["event-data"], int(NOW.timestamp())),
            id="wrong-key",
        ),
        pytest.param(tampered_token, id="token-tampered"),
        pytest.param(tampered_time, id="timestamp-tampered"),
    ]


@pytest.mark.parametrize("payload", _refused())
async def test_unverifiable_calls_are_refused(
    provider: MailgunProvider, rt: Runtime, clock: FrozenClock, payload: Any
) -> None:
    with pytest.raises(ProblemError) as caught:
        await provider.receive(rt, make_config(), post(payload))

    assert (caught.value.code, caught.value.status) == ("UNAUTHENTICATED", 401)


async def test_no_signing_key_configured_refuses_everything(
    provider: MailgunProvider, rt: Runtime, clock: FrozenClock
) -> None:
    config = make_config(webhook_signing_key=None)

    with pytest.raises(ProblemError) as caught:
        await provider.receive(rt, config, fresh(hub_event("webhook_delivered.json")))

    assert caught.value.code == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [
        pytest.param(timedelta(minutes=-14, seconds=-59), True, id="14m59s-old"),
        pytest.param(timedelta(minutes=14, seconds=59), True, id="14m59s-ahead"),
        pytest.param(timedelta(minutes=-15, seconds=-1), False, id="15m01s-old"),
        pytest.param(timedelta(minutes=15, seconds=1), False, id="15m01s-ahead"),
        pytest.param(timedelta(days=-400), False, id="a-year-old"),
    ],
)
async def test_a_stale_signature_is_refused(
    provider: MailgunProvider,
    rt: Runtime,
    clock: FrozenClock,
    offset: timedelta,
    accepted: bool,
) -> None:
    request = fresh(hub_event("webhook_delivered.json"), at=NOW + offset)

    if accepted:
        reply = await provider.receive(rt, make_config(), request)
        assert len(reply.events) == 1
        return
    with pytest.raises(ProblemError) as caught:
        await provider.receive(rt, make_config(), request)
    assert caught.value.code == "UNAUTHENTICATED"
    assert "stale" in caught.value.detail


async def test_a_replayed_token_is_refused(
    provider: MailgunProvider, rt: Runtime, clock: FrozenClock
) -> None:
    token = new_token()
    request = fresh(hub_event("webhook_delivered.json"), token=token)
    first = await provider.receive(rt, make_config(), request)
    assert first.on_stored is not None
    await first.on_stored()  # what the hub does once the events are committed
    clock.advance(60)

    with pytest.raises(ProblemError) as caught:
        await provider.receive(rt, make_config(), request)

    assert len(first.events) == 1
    assert caught.value.code == "UNAUTHENTICATED"
    assert "replayed" in caught.value.detail
    # The same token with another (validly signed) event is a replay too.
    with pytest.raises(ProblemError):
        await provider.receive(
            rt, make_config(), fresh(hub_event("webhook_complained.json"), token=token)
        )


async def test_a_call_the_hub_could_not_store_is_accepted_again(
    provider: MailgunProvider, rt: Runtime, clock: FrozenClock
) -> None:
    # The hub answered 503 (its database failed): Mailgun's retry carries the same token.
    request = fresh(hub_event("webhook_delivered.json"), token=new_token())
    await provider.receive(rt, make_config(), request)  # on_stored never called
    again = await provider.receive(rt, make_config(), request)
    assert len(again.events) == 1


async def test_a_refused_signature_does_not_use_up_its_token(
    provider: MailgunProvider, rt: Runtime, clock: FrozenClock
) -> None:
    token = new_token()
    forged = signed("not-the-key", hub_event("webhook_delivered.json"), int(NOW.timestamp()), token)
    with pytest.raises(ProblemError):
        await provider.receive(rt, make_config(), post(forged))

    reply = await provider.receive(
        rt, make_config(), fresh(hub_event("webhook_delivered.json"), token=token)
    )

    assert len(reply.events) == 1


async def test_other_methods_are_refused(
    provider: MailgunProvider, rt: Runtime, clock: FrozenClock
) -> None:
    request = InboundRequest(method="GET", headers={}, query={}, body=b"", received_at=RECEIVED_AT)

    with pytest.raises(ProblemError) as caught:
        await provider.receive(rt, make_config(), request)

    assert caught.value.code == "METHOD_NOT_ALLOWED"


@pytest.mark.parametrize("event_data", [None, "delivered", [], {"event": "delivered"}])
async def test_authentic_but_unreadable_events_answer_200_with_nothing(
    provider: MailgunProvider, rt: Runtime, clock: FrozenClock, event_data: Any
) -> None:
    reply = await provider.receive(rt, make_config(), fresh(event_data))

    assert (reply.status, list(reply.events)) == (200, [])


# -- receiving: events ------------------------------------------------------------------------

STRUCTS: dict[str, type[Any]] = {
    "email.delivered": EmailEvent,
    "email.bounced": EmailBounced,
    "email.complained": EmailComplained,
    "email.rejected": EmailRejected,
}


def checked(reply: InboundReply) -> list[tuple[str, str]]:
    for event in reply.events:
        catalog = EVENT_TYPES[event.type]
        assert catalog.data_type is STRUCTS[event.type]
        msgspec.convert(dict(event.data), catalog.data_type)
        assert event.occurred_at is not None
        assert event.occurred_at.tzinfo is not None
    return [(e.type, e.id) for e in reply.events]


HUB_COMMON = {
    "message_id": HUB_MESSAGE_ID,
    "provider": "mailgun",
    "provider_message_id": f"{HUB_MESSAGE_ID}@alquimista.example",
    "rfc822_message_id": RFC822_ID,
}


async def test_delivered(provider: MailgunProvider, rt: Runtime, clock: FrozenClock) -> None:
    reply = await provider.receive(rt, make_config(), fresh(hub_event("webhook_delivered.json")))

    assert checked(reply) == [("email.delivered", "mailgun:hK7mQVt1QtqRiOfQXta4sw")]
    [event] = reply.events
    assert event.data == {**HUB_COMMON, "recipient": "john@example.com", "subject": "Test Subject"}
    assert event.occurred_at == datetime.fromtimestamp(1529692199.626182, UTC)


async def test_a_message_sent_another_way_is_named_by_mailguns_id(
    provider: MailgunProvider, rt: Runtime, clock: FrozenClock
) -> None:
    event_data = fixture("webhook_delivered.json")["event-data"]  # no user variables

    reply = await provider.receive(rt, make_config(), fresh(event_data))

    [event] = reply.events
    assert event.data["message_id"] == "20180622182958.1.48906CB188F1A454@exmple.org"
    assert event.data["provider_message_id"] == "20180622182958.1.48906CB188F1A454@exmple.org"
    assert event.data["rfc822_message_id"] == "<20180622182958.1.48906CB188F1A454@exmple.org>"


@pytest.mark.parametrize(
    ("name", "event_id", "recipient", "bounce_type", "diagnostic"),
    [
        pytest.param(
            "webhook_failed_permanent.json",
            "mailgun:pl271FzxTTmGRW8Uj3dUWw",
            "slava@mailgun.com",
            "hard",
            "605 Not delivering to previously bounced address",
            id="permanent-suppressed",
        ),
        pytest.param(
            "webhook_failed_delayed_bounce.json",
            "mailgun:ZDMqRgjLTDi6rQcy7K60aA",
            "christest123@test.com",
            "hard",
            "smtp; 550-5.1.1 The email account that you tried to reach does not exist.",
            id="permanent-delayed",
        ),
        pytest.param(
            "webhook_failed_temporary.json",
            "mailgun:xYrATi63Rke8EC_s7EoJeA",
            "test@test.com",
            "soft",
            "451 4.7.652 The mail server [xxx.xxx.xxx.xxx] has exceeded the maximum number "
            "of connections.",
            id="temporary",
        ),
    ],
)
async def test_failed(
    provider: MailgunProvider,
    rt: Runtime,
    clock: FrozenClock,
    name: str,
    event_id: str,
    recipient: str,
    bounce_type: str,
    diagnostic: str,
) -> None:
    reply = await provider.receive(rt, make_config(), fresh(hub_event(name)))

    assert checked(reply) == [("email.bounced", event_id)]
    data = reply.events[0].data
    assert data["recipient"] == recipient
    assert (data["bounce_type"], data["diagnostic"]) == (bounce_type, diagnostic)
    assert data["message_id"] == HUB_MESSAGE_ID


async def test_complained(provider: MailgunProvider, rt: Runtime, clock: FrozenClock) -> None:
    reply = await provider.receive(rt, make_config(), fresh(hub_event("webhook_complained.json")))

    assert checked(reply) == [("email.complained", "mailgun:ncV2XwymRUKbPek_MIM-Gw")]
    assert reply.events[0].data == {
        **HUB_COMMON,
        "recipient": "foo@example.com",
        "subject": "This is the subject.",
        "feedback_type": "abuse",
    }


async def test_rejected_names_its_to_recipients(
    provider: MailgunProvider, rt: Runtime, clock: FrozenClock
) -> None:
    """Mailgun's rejected event has no ``recipient``: its To header names them."""
    reply = await provider.receive(rt, make_config(), fresh(hub_event("webhook_rejected.json")))

    assert checked(reply) == [("email.rejected", "mailgun:OMTXD3-sSmKIQa1gSKkYVA")]
    assert reply.events[0].data == {
        **HUB_COMMON,
        "recipient": "joan@example.org",
        "subject": "Test Subject",
        "reason": "Sandbox subdomains are for test purposes only. Please add your own domain "
        "or add the address to authorized recipients in Account Settings.",
    }

    several = hub_event("webhook_rejected.json")
    several["id"] = "rejected-several"
    several["message"]["headers"]["to"] = "Joan <joan@example.org>, bad, ana@example.org"
    reply = await provider.receive(rt, make_config(), fresh(several))

    assert checked(reply) == [
        ("email.rejected", "mailgun:rejected-several:joan@example.org"),
        ("email.rejected", "mailgun:rejected-several:ana@example.org"),
    ]


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"id": None}, id="no-event-id"),
        pytest.param({"recipient": 42}, id="bad-recipient"),
        pytest.param({"severity": "whatever"}, id="unknown-severity"),
        pytest.param({"message": {}, "user-variables": {}}, id="no-message-id"),
    ],
)
async def test_an_unreadable_event_publishes_nothing(
    provider: MailgunProvider, rt: Runtime, clock: FrozenClock, change: dict[str, Any]
) -> None:
    event_data = {**hub_event("webhook_failed_temporary.json"), **change}

    reply = await provider.receive(rt, make_config(), fresh(event_data))

    assert (reply.status, list(reply.events)) == (200, [])


async def test_long_texts_are_cut_to_the_catalogs_limits(
    provider: MailgunProvider, rt: Runtime, clock: FrozenClock
) -> None:
    event_data = hub_event("webhook_failed_temporary.json")
    event_data["delivery-status"]["message"] = "y" * 5000
    event_data["message"]["headers"]["subject"] = "s" * 5000

    reply = await provider.receive(rt, make_config(), fresh(event_data))

    checked(reply)
    data = reply.events[0].data
    assert len(data["diagnostic"]) <= 2000
    assert len(data["subject"]) == 1000


@pytest.mark.parametrize("name", ["webhook_accepted.json", "webhook_opened.json"])
async def test_ignored_event_kinds_publish_nothing(
    provider: MailgunProvider, rt: Runtime, clock: FrozenClock, name: str
) -> None:
    reply = await provider.receive(rt, make_config(), fresh(hub_event(name)))

    assert (reply.status, list(reply.events)) == (200, [])


@pytest.mark.parametrize("kind", ["clicked", "unsubscribed", "stored", "list_uploaded"])
async def test_other_ignored_kinds(
    provider: MailgunProvider, rt: Runtime, clock: FrozenClock, kind: str
) -> None:
    event_data = {**hub_event("webhook_delivered.json"), "event": kind}

    reply = await provider.receive(rt, make_config(), fresh(event_data))

    assert list(reply.events) == []
