"""The Meta WhatsApp Cloud API provider against a fake Graph API on loopback.

Sends are checked at the wire (the JSON Meta documents, the bearer token), Meta's error
bodies (tests/fixtures/whatsapp/meta/errors.json) against the hub's answers, and the
webhooks (Meta's documented examples, signed for real with the app secret) against the
catalog's event data.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from hub.actions.handlers import ActionFailed, ActionRejected
from hub.config import Settings, load_settings
from hub.connectors.protocol import CredentialsRejected, InboundReply, InboundRequest
from hub.events.catalog import EVENT_TYPES
from hub.events.data import Message, MessageFailed, MessageStatusChanged
from hub.security.encryption import generate_key
from hub.web.errors import ProblemError
from integrations.whatsapp.config import MetaConfig
from integrations.whatsapp.meta import MetaProvider
from integrations.whatsapp.provider import Outgoing, Sent
from tests.connectors.whatsapp.fake_meta import FakeGraph, start_graph
from tests.support.processes import free_port

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "whatsapp" / "meta"
ERRORS: dict[str, Any] = json.loads((FIXTURES / "errors.json").read_text())

PHONE_NUMBER_ID = "106540352242922"
ACCESS_TOKEN = "EAAGm0PX4ZCpsBAFakeAccessToken0123456789abcdefZDZD"
APP_SECRET = "f3a1c9e07b5d4e2a9c8b7a6f5e4d3c2b"
VERIFY_TOKEN = "hub-verify-7c1e9a"
RECEIVED_AT = datetime(2025, 6, 20, 12, 0, tzinfo=UTC)
HUB_MESSAGE_ID = "msg_01jd8w2b6c0e4g8j2m6p0s4v8y"
OUT1 = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MTE5MjVBOTE3MDk5QUVFM0YA"
OUT2 = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJDQjZCMzlEQUE4OTJBMTE4RTUA"


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


def make_config(graph_url: str, **overrides: Any) -> MetaConfig:
    values = {
        "provider": "meta",
        "phone_number_id": PHONE_NUMBER_ID,
        "access_token": ACCESS_TOKEN,
        "app_secret": APP_SECRET,
        "verify_token": VERIFY_TOKEN,
        "graph_url": graph_url,
        **overrides,
    }
    return msgspec.convert(values, MetaConfig)


def text_message(text: str = "Olá João, podemos falar amanhã?") -> Outgoing:
    return Outgoing(
        message_id=HUB_MESSAGE_ID,
        to="+5584999990101",
        text=text,
        template=None,
        language="pt_BR",
        idempotency_key="key-1",
    )


def template_message(variables: dict[str, str]) -> Outgoing:
    return Outgoing(
        message_id=HUB_MESSAGE_ID,
        to="+5584999990101",
        text=None,
        template="follow_up_v2",
        language="pt_BR",
        variables=variables,
    )


@pytest.fixture
def settings() -> Settings:
    return make_settings()


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    graph, runner = await start_graph(ACCESS_TOKEN)
    try:
        yield graph
    finally:
        await runner.cleanup()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False) as client:
        yield client


@pytest.fixture
def config(graph: FakeGraph) -> MetaConfig:
    return make_config(graph.url)


@pytest.fixture
def provider() -> MetaProvider:
    return MetaProvider()


# -- sending: the request -----------------------------------------------------------------


async def test_text_is_sent_as_meta_documents_it(
    provider: MetaProvider,
    client: httpx.AsyncClient,
    settings: Settings,
    config: MetaConfig,
    graph: FakeGraph,
) -> None:
    sent = await provider.send(client, settings, config, text_message())

    assert sent == Sent(provider_message_id="wamid.fake0001")
    [call] = graph.calls
    assert (call.version, call.phone_number_id) == ("v21.0", PHONE_NUMBER_ID)
    assert call.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert call.headers["content-type"] == "application/json"
    assert call.headers["host"] == graph.url.removeprefix("http://")
    assert call.body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "5584999990101",
        "type": "text",
        "text": {"preview_url": False, "body": "Olá João, podemos falar amanhã?"},
        "biz_opaque_callback_data": HUB_MESSAGE_ID,
    }


async def test_positional_template_variables_in_numeric_order(
    provider: MetaProvider,
    client: httpx.AsyncClient,
    settings: Settings,
    config: MetaConfig,
    graph: FakeGraph,
) -> None:
    variables = {"10": "sexta", "2": "Padaria Pão Dourado", "1": "João"}
    await provider.send(client, settings, config, template_message(variables))

    assert graph.calls[0].body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "5584999990101",
        "type": "template",
        "template": {
            "name": "follow_up_v2",
            "language": {"code": "pt_BR"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "João"},
                        {"type": "text", "text": "Padaria Pão Dourado"},
                        {"type": "text", "text": "sexta"},
                    ],
                }
            ],
        },
        "biz_opaque_callback_data": HUB_MESSAGE_ID,
    }


async def test_named_template_variables(
    provider: MetaProvider,
    client: httpx.AsyncClient,
    settings: Settings,
    config: MetaConfig,
    graph: FakeGraph,
) -> None:
    variables = {"first_name": "João", "company": "Padaria Pão Dourado", "1": "mixed"}
    await provider.send(client, settings, config, template_message(variables))

    assert graph.calls[0].body["template"]["components"] == [
        {
            "type": "body",
            "parameters": [
                {"type": "text", "parameter_name": "first_name", "text": "João"},
                {"type": "text", "parameter_name": "company", "text": "Padaria Pão Dourado"},
                {"type": "text", "parameter_name": "1", "text": "mixed"},
            ],
        }
    ]


async def test_template_without_variables_has_no_components(
    provider: MetaProvider,
    client: httpx.AsyncClient,
    settings: Settings,
    config: MetaConfig,
    graph: FakeGraph,
) -> None:
    await provider.send(client, settings, config, template_message({}))

    assert graph.calls[0].body["template"] == {
        "name": "follow_up_v2",
        "language": {"code": "pt_BR"},
    }
    assert graph.calls[0].body["biz_opaque_callback_data"] == HUB_MESSAGE_ID


async def test_graph_url_and_version_shape_the_path(
    provider: MetaProvider, client: httpx.AsyncClient, settings: Settings, graph: FakeGraph
) -> None:
    config = make_config(graph.url + "/", api_version="v23.0")
    await provider.send(client, settings, config, text_message())

    assert (graph.calls[0].version, graph.calls[0].phone_number_id) == (
        "v23.0",
        PHONE_NUMBER_ID,
    )


async def test_no_text_and_no_template_is_refused_before_any_call(
    provider: MetaProvider,
    client: httpx.AsyncClient,
    settings: Settings,
    config: MetaConfig,
    graph: FakeGraph,
) -> None:
    with pytest.raises(ActionRejected) as caught:
        await provider.send(client, settings, config, text_message(text=""))

    assert [e.path for e in caught.value.errors] == ["$.text"]
    assert graph.calls == []


# -- sending: the answer --------------------------------------------------------------------


async def test_meta_documented_success_answer(
    provider: MetaProvider,
    client: httpx.AsyncClient,
    settings: Settings,
    config: MetaConfig,
    graph: FakeGraph,
) -> None:
    graph.reply_next(200, fixture("send_success.json"))

    sent = await provider.send(client, settings, config, text_message())

    assert sent.provider_message_id == "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"


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
    path: str
    provider_code: int | None


Expected = Credentials | Failed | Rejected

# (HTTP status, body: a key of errors.json or raw bytes, headers, expected outcome)
CLASSIFICATION: list[Any] = [
    pytest.param(401, "190", {}, Credentials("190"), id="190-expired-token-401"),
    pytest.param(400, "190", {}, Credentials("190"), id="190-with-http-400"),
    pytest.param(401, b"", {}, Credentials("HTTP 401"), id="http-401-no-body"),
    pytest.param(400, "4", {}, Failed("RATE_LIMITED", 60), id="4-app-request-limit"),
    pytest.param(400, "80007", {}, Failed("RATE_LIMITED", 60), id="80007-waba-rate-limit"),
    pytest.param(
        400, "130429", {"Retry-After": "17"}, Failed("RATE_LIMITED", 17), id="130429-retry-after"
    ),
    pytest.param(400, "131048", {}, Failed("RATE_LIMITED", 60), id="131048-spam-rate-limit"),
    pytest.param(400, "131056", {}, Failed("RATE_LIMITED", 60), id="131056-pair-rate-limit"),
    pytest.param(429, b"", {"Retry-After": "5"}, Failed("RATE_LIMITED", 5), id="http-429"),
    pytest.param(500, "1", {}, Failed("UPSTREAM_ERROR"), id="1-unknown-500"),
    pytest.param(400, "1", {}, Failed("UPSTREAM_ERROR"), id="1-unknown-400"),
    pytest.param(503, "2", {}, Failed("UPSTREAM_ERROR"), id="2-service-503"),
    pytest.param(500, "131000", {}, Failed("UPSTREAM_ERROR"), id="131000-went-wrong"),
    pytest.param(400, "131016", {}, Failed("UPSTREAM_ERROR"), id="131016-unavailable"),
    pytest.param(
        503, "131026", {"Retry-After": "30"}, Failed("UPSTREAM_ERROR", 30), id="5xx-beats-code"
    ),
    pytest.param(502, b"<html>Bad Gateway</html>", {}, Failed("UPSTREAM_ERROR"), id="502-html"),
    pytest.param(400, b"not json", {}, Failed("UPSTREAM_ERROR"), id="400-not-json"),
    pytest.param(408, b"", {}, Failed("UPSTREAM_TIMEOUT"), id="http-408"),
    pytest.param(302, b"", {"Location": "http://x/"}, Failed("UPSTREAM_ERROR"), id="redirect"),
    pytest.param(400, "131026", {}, Rejected("$.to", 131026), id="131026-undeliverable"),
    pytest.param(400, "131021", {}, Rejected("$.to", 131021), id="131021-recipient-is-sender"),
    pytest.param(400, "133010", {}, Rejected("$.to", 133010), id="133010-not-registered"),
    pytest.param(400, "131030", {}, Rejected("$.to", 131030), id="131030-not-allowed-list"),
    pytest.param(400, "131047", {}, Rejected("$.template", 131047), id="131047-reengagement"),
    pytest.param(400, "132000", {}, Rejected("$.template", 132000), id="132000-param-count"),
    pytest.param(404, "132001", {}, Rejected("$.template", 132001), id="132001-no-template"),
    pytest.param(400, "132015", {}, Rejected("$.template", 132015), id="132015-paused"),
    pytest.param(400, "132069", {}, Rejected("$.template", 132069), id="132069-flow-throttled"),
    pytest.param(400, "100", {}, Rejected("$", 100), id="100-invalid-parameter"),
    pytest.param(400, "100_unknown_object", {}, Rejected("$", 100), id="100-unknown-phone-id"),
    pytest.param(400, "131009", {}, Rejected("$", 131009), id="131009-bad-value"),
    pytest.param(400, "131051", {}, Rejected("$", 131051), id="131051-unsupported-type"),
    pytest.param(400, "131031", {}, Rejected("$", 131031), id="131031-other-4xx"),
    pytest.param(403, "10", {}, Rejected("$", 10), id="10-permission-403"),
    pytest.param(404, {}, {}, Rejected("$", None), id="404-json-without-error"),
]


@pytest.mark.parametrize(("status", "body", "headers", "expected"), CLASSIFICATION)
async def test_meta_errors_become_the_hubs_answers(
    provider: MetaProvider,
    client: httpx.AsyncClient,
    settings: Settings,
    config: MetaConfig,
    graph: FakeGraph,
    status: int,
    body: Any,
    headers: dict[str, str],
    expected: Expected,
) -> None:
    graph.reply_next(status, ERRORS[body] if isinstance(body, str) else body, headers)

    with pytest.raises((ActionFailed, ActionRejected)) as caught:
        await provider.send(client, settings, config, text_message())
    error = caught.value

    match expected:
        case Credentials(names):
            assert isinstance(error, CredentialsRejected)
            assert names in error.reason
            assert ACCESS_TOKEN not in error.reason
        case Failed(code, retry_after):
            assert isinstance(error, ActionFailed)
            assert not isinstance(error, CredentialsRejected)
            assert (error.code, error.retry_after) == (code, retry_after)
            assert len(error.detail) <= 300
        case Rejected(path, provider_code):
            assert isinstance(error, ActionRejected)
            assert error.detail.startswith("Meta refused the message: ")
            assert len(error.detail) <= 300
            [field] = error.errors
            assert field.path == path
            label = f"Meta {provider_code}: " if provider_code else f"Meta HTTP {status}: "
            assert field.message.startswith(label)
            assert len(field.message) <= 300
            if provider_code is None:
                assert error.extra == {"provider_status": status}
            else:
                assert error.extra == {"provider_code": provider_code}


async def test_rejection_carries_metas_details(
    provider: MetaProvider,
    client: httpx.AsyncClient,
    settings: Settings,
    config: MetaConfig,
    graph: FakeGraph,
) -> None:
    graph.reply_next(400, ERRORS["131030"])

    with pytest.raises(ActionRejected) as caught:
        await provider.send(client, settings, config, text_message())

    assert caught.value.detail == (
        "Meta refused the message: (#131030) Recipient phone number not in allowed list"
    )
    assert caught.value.errors[0].message == (
        "Meta 131030: Recipient phone number not in allowed list: "
        "Add recipient phone number to recipient list and try again."
    )


async def test_reengagement_says_to_use_a_template(
    provider: MetaProvider,
    client: httpx.AsyncClient,
    settings: Settings,
    config: MetaConfig,
    graph: FakeGraph,
) -> None:
    graph.reply_next(400, ERRORS["131047"])

    with pytest.raises(ActionRejected) as caught:
        await provider.send(client, settings, config, text_message())

    assert "use an approved template" in caught.value.detail
    assert "24-hour" in caught.value.errors[0].message
    assert caught.value.errors[0].message.endswith("use an approved template)")


async def test_provider_message_is_short_printable_and_never_the_token(
    provider: MetaProvider,
    client: httpx.AsyncClient,
    settings: Settings,
    config: MetaConfig,
    graph: FakeGraph,
) -> None:
    graph.reply_next(
        400,
        {
            "error": {
                "message": f"(#100) Invalid \x00param\x07 {ACCESS_TOKEN} " + "x" * 2000,
                "type": "OAuthException",
                "code": 100,
                "error_data": {"messaging_product": "whatsapp", "details": "y\n" * 2000},
            }
        },
    )

    with pytest.raises(ActionRejected) as caught:
        await provider.send(client, settings, config, text_message())

    texts = [caught.value.detail, caught.value.errors[0].message]
    for text in texts:
        assert len(text) <= 300
        assert text.isprintable()
        assert ACCESS_TOKEN not in text


async def test_a_wrong_token_gets_metas_190(
    provider: MetaProvider, client: httpx.AsyncClient, settings: Settings, graph: FakeGraph
) -> None:
    config = make_config(graph.url, access_token="EAAGwrongtoken")

    with pytest.raises(CredentialsRejected) as caught:
        await provider.send(client, settings, config, text_message())

    assert "190" in caught.value.reason
    assert "EAAGwrongtoken" not in caught.value.reason
    assert graph.calls[0].headers["authorization"] == "Bearer EAAGwrongtoken"


async def test_timeout(
    client: httpx.AsyncClient, settings: Settings, config: MetaConfig, graph: FakeGraph
) -> None:
    graph.reply_next(200, fixture("send_success.json"), delay=1.0)

    with pytest.raises(ActionFailed) as caught:
        await MetaProvider(timeout_seconds=0.2).send(client, settings, config, text_message())

    assert caught.value.code == "UPSTREAM_TIMEOUT"


async def test_connection_error(
    provider: MetaProvider, client: httpx.AsyncClient, settings: Settings
) -> None:
    config = make_config(f"http://127.0.0.1:{free_port()}")  # nothing listens there

    with pytest.raises(ActionFailed) as caught:
        await provider.send(client, settings, config, text_message())

    assert caught.value.code == "UPSTREAM_ERROR"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"messages": [' + b" " * (1024 * 1024) + b"]}", id="larger-than-1-MiB"),
        pytest.param(b"<html>ok</html>", id="not-json"),
        pytest.param({"messaging_product": "whatsapp", "messages": []}, id="no-message-id"),
    ],
)
async def test_unusable_success_answers(
    provider: MetaProvider,
    client: httpx.AsyncClient,
    settings: Settings,
    config: MetaConfig,
    graph: FakeGraph,
    body: Any,
) -> None:
    graph.reply_next(200, body)

    with pytest.raises(ActionFailed) as caught:
        await provider.send(client, settings, config, text_message())

    assert caught.value.code == "UPSTREAM_ERROR"


async def test_private_graph_url_is_refused_by_the_ssrf_guard(
    provider: MetaProvider, client: httpx.AsyncClient, config: MetaConfig, graph: FakeGraph
) -> None:
    with pytest.raises(ActionFailed) as caught:
        await provider.send(client, make_settings(allow_private=False), config, text_message())

    assert caught.value.code == "TARGET_NOT_ALLOWED"
    assert not isinstance(caught.value, CredentialsRejected)
    assert graph.calls == []


# -- receiving: verification ----------------------------------------------------------------


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def get(query: dict[str, str]) -> InboundRequest:
    return InboundRequest(method="GET", headers={}, query=query, body=b"", received_at=RECEIVED_AT)


def post(body: bytes, signature: str | None = None) -> InboundRequest:
    headers = {"content-type": "application/json"}
    if signature is not None:
        headers["x-hub-signature-256"] = signature
    return InboundRequest(
        method="POST", headers=headers, query={}, body=body, received_at=RECEIVED_AT
    )


def signed(payload: Any) -> InboundRequest:
    body = json.dumps(payload).encode()
    return post(body, sign(body))


HANDSHAKE = {
    "hub.mode": "subscribe",
    "hub.verify_token": VERIFY_TOKEN,
    "hub.challenge": "1158201444",
}


async def test_handshake_echoes_the_challenge(provider: MetaProvider, config: MetaConfig) -> None:
    reply = await provider.receive(config, get(HANDSHAKE))

    assert (reply.status, reply.body, reply.media_type) == (200, b"1158201444", "text/plain")
    assert list(reply.events) == []


@pytest.mark.parametrize(
    "query",
    [
        pytest.param({**HANDSHAKE, "hub.verify_token": "hub-verify-7c1e9b"}, id="wrong-token"),
        pytest.param({**HANDSHAKE, "hub.verify_token": "ünïcode"}, id="non-ascii-token"),
        pytest.param({**HANDSHAKE, "hub.mode": "unsubscribe"}, id="wrong-mode"),
        pytest.param({"hub.mode": "subscribe", "hub.challenge": "1"}, id="no-token"),
        pytest.param(
            {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN}, id="no-challenge"
        ),
    ],
)
async def test_handshake_refused(
    provider: MetaProvider, config: MetaConfig, query: dict[str, str]
) -> None:
    with pytest.raises(ProblemError) as caught:
        await provider.receive(config, get(query))

    assert (caught.value.code, caught.value.status) == ("FORBIDDEN", 403)


async def test_signed_call_is_accepted(provider: MetaProvider, config: MetaConfig) -> None:
    reply = await provider.receive(config, signed(fixture("webhook_text.json")))

    assert reply.status == 200
    assert [e.type for e in reply.events] == ["message.received"]


def _tampered() -> InboundRequest:
    body = json.dumps(fixture("webhook_text.json")).encode()
    return post(body.replace(b"another color", b"another colour"), sign(body))


@pytest.mark.parametrize(
    "request_",
    [
        pytest.param(post(b'{"object": "whatsapp_business_account"}'), id="missing"),
        pytest.param(post(b"{}", ""), id="empty"),
        pytest.param(post(b"{}", sign(b"{}", secret="another-app-secret")), id="wrong-secret"),
        pytest.param(post(b"{}", sign(b"{}").removeprefix("sha256=")), id="no-prefix"),
        pytest.param(
            post(b"{}", "sha1=" + hmac.new(APP_SECRET.encode(), b"{}", "sha1").hexdigest()),
            id="sha1",
        ),
        pytest.param(post(b"{}", sign(b"{}") + "ü"), id="non-ascii"),
        pytest.param(_tampered(), id="body-tampered"),
    ],
)
async def test_unsigned_calls_are_refused(
    provider: MetaProvider, config: MetaConfig, request_: InboundRequest
) -> None:
    with pytest.raises(ProblemError) as caught:
        await provider.receive(config, request_)

    assert (caught.value.code, caught.value.status) == ("UNAUTHENTICATED", 401)


async def test_signature_is_checked_before_the_body_is_read(
    provider: MetaProvider, config: MetaConfig
) -> None:
    with pytest.raises(ProblemError) as caught:
        await provider.receive(config, post(b"\xff not json", "sha256=00"))

    assert caught.value.code == "UNAUTHENTICATED"


async def test_other_methods_are_refused(provider: MetaProvider, config: MetaConfig) -> None:
    request = InboundRequest(method="PUT", headers={}, query={}, body=b"", received_at=RECEIVED_AT)

    with pytest.raises(ProblemError) as caught:
        await provider.receive(config, request)

    assert caught.value.code == "METHOD_NOT_ALLOWED"


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", b'{"object": "page", "entry": []}', b'{"entry": "x"}'],
)
async def test_authentic_but_unreadable_calls_answer_200_with_nothing(
    provider: MetaProvider, config: MetaConfig, body: bytes
) -> None:
    reply = await provider.receive(config, post(body, sign(body)))

    assert (reply.status, list(reply.events)) == (200, [])


# -- receiving: events ------------------------------------------------------------------------

STRUCTS: dict[str, type[Any]] = {
    "message.received": Message,
    "message.delivered": MessageStatusChanged,
    "message.read": MessageStatusChanged,
    "message.failed": MessageFailed,
}


def checked(reply: InboundReply) -> list[tuple[str, str]]:
    """The events' (type, id), each one's data converted to its catalog Struct."""
    for event in reply.events:
        catalog = EVENT_TYPES[event.type]
        assert not catalog.hub_only
        assert catalog.data_type is STRUCTS[event.type]
        msgspec.convert(dict(event.data), catalog.data_type)
        assert event.occurred_at is not None
        assert event.occurred_at.tzinfo is not None
    return [(e.type, e.id) for e in reply.events]


async def test_text_message(provider: MetaProvider, config: MetaConfig) -> None:
    reply = await provider.receive(config, signed(fixture("webhook_text.json")))

    wamid = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
    assert checked(reply) == [("message.received", f"{PHONE_NUMBER_ID}:msg:{wamid}")]
    [event] = reply.events
    assert event.occurred_at == datetime.fromtimestamp(1749416383, UTC)
    assert event.data == {
        "message_id": wamid,
        "channel": "whatsapp",
        "direction": "inbound",
        "contact_phone": "+16505551234",
        "contact_name": "Sheena Nelson",
        "body": "Does it come in another color?",
        "provider": "meta",
        "provider_message_id": wamid,
    }
    assert reply.body == b"EVENT_RECEIVED"


async def test_image_message_carries_metadata_never_the_url(
    provider: MetaProvider, config: MetaConfig
) -> None:
    reply = await provider.receive(config, signed(fixture("webhook_image.json")))

    checked(reply)
    [event] = reply.events
    assert event.data["body"] == "Black jacket"
    assert event.data["media"] == {
        "kind": "image",
        "mime_type": "image/jpeg",
        "caption": "Black jacket",
        "provider_media_id": "1003383421387256",
        "sha256": "6oj4u4e7rOLKhi6ABcbZN2/wCcUw1+UOhD3HZU8lEJk=",
    }
    assert "lookaside" not in json.dumps(event.data)


async def test_replies_buttons_lists_and_media(provider: MetaProvider, config: MetaConfig) -> None:
    reply = await provider.receive(config, signed(fixture("webhook_replies.json")))

    checked(reply)
    button, listed, document, audio = reply.events
    assert (button.data["body"], button.data["in_reply_to"]) == ("Yes, call me", OUT1)
    assert (listed.data["body"], listed.data["in_reply_to"]) == ("Morning (9-12)", OUT2)
    assert document.data["body"] == "Signed proposal"
    assert document.data["media"] == {
        "kind": "document",
        "mime_type": "application/pdf",
        "file_name": "proposal-signed.pdf",
        "caption": "Signed proposal",
        "provider_media_id": "1276512763540412",
        "sha256": "Zt0JzWn9ZB8a0cTJ7Ea9a9LxXgQZ0E0VOl1m6OS5h2Y=",
    }
    assert audio.data["body"] == ""
    assert audio.data["media"]["kind"] == "audio"
    assert "caption" not in audio.data["media"]
    assert "lookaside" not in json.dumps([e.data for e in reply.events])


BATCH_IDS = [
    (
        "message.received",
        f"{PHONE_NUMBER_ID}:msg:wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUI5MzE2RDlCQzNBNEIzRDE1RQA=",
    ),
    (
        "message.received",
        f"{PHONE_NUMBER_ID}:msg:wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUQ3RjE2NTAxMzFFOUFDMUU2NQA=",
    ),
    ("message.delivered", f"{PHONE_NUMBER_ID}:status:{OUT1}:delivered"),
    ("message.read", f"{PHONE_NUMBER_ID}:status:{OUT2}:read"),
]


async def test_batch_of_messages_and_statuses(provider: MetaProvider, config: MetaConfig) -> None:
    reply = await provider.receive(config, signed(fixture("webhook_batch.json")))

    # Every entry and change; "sent" publishes nothing.
    assert checked(reply) == BATCH_IDS
    text, button, delivered, read = reply.events
    assert (text.data["body"], text.data["in_reply_to"]) == (
        "Yes, tomorrow at 10 works for me",
        OUT1,
    )
    assert (button.data["body"], button.data["in_reply_to"]) == ("Confirm", OUT2)
    assert delivered.data == {
        "message_id": HUB_MESSAGE_ID,  # echoed back in biz_opaque_callback_data
        "channel": "whatsapp",
        "status": "delivered",
        "contact_phone": "+16505551234",
        "provider": "meta",
        "provider_message_id": OUT1,
    }
    assert delivered.occurred_at == datetime.fromtimestamp(1750263775, UTC)
    # No callback data (sent another way): the wamid stands in for the hub's id.
    assert read.data["message_id"] == OUT2


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("webhook_status_sent.json", []),
        ("webhook_status_delivered.json", [("message.delivered", "delivered")]),
        ("webhook_status_read.json", [("message.read", "read")]),
    ],
)
async def test_statuses(
    provider: MetaProvider, config: MetaConfig, name: str, expected: list[tuple[str, str]]
) -> None:
    reply = await provider.receive(config, signed(fixture(name)))

    assert checked(reply) == [
        (kind, f"{PHONE_NUMBER_ID}:status:{OUT1}:{status}") for kind, status in expected
    ]
    for event in reply.events:
        assert event.data["message_id"] == HUB_MESSAGE_ID


async def test_failed_status(provider: MetaProvider, config: MetaConfig) -> None:
    reply = await provider.receive(config, signed(fixture("webhook_status_failed.json")))

    assert checked(reply) == [("message.failed", f"{PHONE_NUMBER_ID}:status:{OUT2}:failed")]
    [event] = reply.events
    assert event.data == {
        "message_id": "msg_01jd8x0a4d8g2j6m0q4t8w2a6d",
        "channel": "whatsapp",
        "direction": "outbound",
        "contact_phone": "+16505551234",
        "body": "",
        "provider": "meta",
        "provider_message_id": OUT2,
        "error_code": "131047",
        "error_message": "Re-engagement message",
        "attempts": 1,
    }
    assert event.occurred_at == datetime.fromtimestamp(1750264002, UTC)


async def test_a_bad_item_is_skipped_and_the_others_survive(
    provider: MetaProvider, config: MetaConfig
) -> None:
    payload = copy.deepcopy(fixture("webhook_batch.json"))
    messages = payload["entry"][0]["changes"][0]["value"]["messages"]
    messages[0]["text"] = {"body": 5}  # not a string
    messages.append("not an object")
    messages.append({**messages[1], "id": "w" * 300})  # too long for an id
    statuses = payload["entry"][1]["changes"][0]["value"]["statuses"]
    statuses[1]["id"] = None  # the delivered status names no message
    statuses.append({**statuses[2], "timestamp": "soon"})  # unreadable time: arrival time

    reply = await provider.receive(config, signed(payload))

    assert checked(reply) == [BATCH_IDS[1], BATCH_IDS[3], BATCH_IDS[3]]
    assert reply.events[2].occurred_at == RECEIVED_AT


async def test_unsupported_items_are_skipped(provider: MetaProvider, config: MetaConfig) -> None:
    # Reactions, locations, system and unsupported messages, a "deleted" status, an
    # account_update change and another phone number's messages.
    reply = await provider.receive(config, signed(fixture("webhook_unsupported.json")))

    assert (reply.status, list(reply.events)) == (200, [])
