"""The Evolution API provider against Evolution faked at its wire format on loopback.

Sends go through the SSRF guard to ``FakeEvolution``; webhook calls are built from
fixtures of Evolution's payloads and authenticated for real (the apikey header, or an
HS256 JWT signed with PyJWT).
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import msgspec
import pytest

from hub.actions.handlers import ActionFailed, ActionRejected
from hub.config import Settings, load_settings
from hub.connectors.protocol import InboundEvent
from hub.events.data import Message, MessageFailed, MessageStatusChanged
from hub.security.encryption import generate_key
from hub.web.errors import ProblemError
from integrations.whatsapp.config import EvolutionConfig
from integrations.whatsapp.evolution import EvolutionProvider, connection_state
from integrations.whatsapp.provider import CredentialsRejected, Outgoing, Sent
from tests.connectors.whatsapp.fake_evolution import (
    FakeEvolution,
    fixture,
    jwt_token,
    start_evolution,
    webhook_body,
    webhook_request,
)
from tests.support.processes import free_port

API_KEY = "429683C4C977415CAAFCCE10F7D57E11"
INSTANCE = "acme-vendas"
# 32 bytes and more: what RFC 7518 asks of an HS256 key (PyJWT warns below it).
INBOUND_SECRET = "whk-7Qm2v9Xc4Lp8Rz1Nd6Tb3Hs5Jf0Wg2Ka"
RECEIVED_AT = datetime(2024, 6, 6, 12, 51, 40, tzinfo=UTC)

# -- fixtures ---------------------------------------------------------------------------


def _settings(allow_private: bool) -> Settings:
    env = {
        "HUB_DATABASE_URL": "sqlite+aiosqlite:///:memory:",
        "HUB_SECRET_KEYS": generate_key(),
    }
    if allow_private:
        env["HUB_ALLOW_PRIVATE_TARGETS"] = "1"
    return load_settings(env)


@pytest.fixture
def hub_settings() -> Settings:
    return _settings(allow_private=True)


@pytest.fixture
async def evolution() -> AsyncIterator[FakeEvolution]:
    fake, runner = await start_evolution(API_KEY, frozenset({INSTANCE}))
    try:
        yield fake
    finally:
        await runner.cleanup()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False) as c:
        yield c


def config(base_url: str = "http://127.0.0.1:9", **changes: Any) -> EvolutionConfig:
    values = {
        "provider": "evolution",
        "base_url": base_url,
        "instance": INSTANCE,
        "api_key": API_KEY,
        "inbound_secret": INBOUND_SECRET,
        **changes,
    }
    return msgspec.convert(values, EvolutionConfig)


def outgoing(**changes: Any) -> Outgoing:
    values: dict[str, Any] = {
        "message_id": "msg_01jd8c3v6f0a2b4c6d8e0f1a2b",
        "to": "+5584999990101",
        "text": "Olá Maria, temos horários amanhã às 14h e 15h.",
        "template": None,
        "language": "pt_BR",
        "idempotency_key": "send-lead-42-attempt",
        **changes,
    }
    return Outgoing(**values)


async def send(
    fake: FakeEvolution,
    client: httpx.AsyncClient,
    settings: Settings,
    message: Outgoing | None = None,
    **config_changes: Any,
) -> Sent:
    return await EvolutionProvider().send(
        client, settings, config(fake.url, **config_changes), message or outgoing()
    )


# -- sending -----------------------------------------------------------------------------


async def test_send_posts_the_text_with_the_apikey_and_the_idempotency_key(
    evolution: FakeEvolution, client: httpx.AsyncClient, hub_settings: Settings
) -> None:
    sent = await send(evolution, client, hub_settings)

    assert sent == Sent(provider_message_id="BAE5000000000001")
    [call] = evolution.calls
    assert call.instance == INSTANCE
    assert call.body == {
        "number": "5584999990101",
        "text": "Olá Maria, temos horários amanhã às 14h e 15h.",
    }
    assert call.headers["apikey"] == API_KEY
    assert call.headers["x-idempotency-key"] == "send-lead-42-attempt"
    assert call.headers["content-type"] == "application/json"
    assert call.headers["host"] == evolution.url.removeprefix("http://")


async def test_a_retry_carries_the_same_idempotency_key(
    evolution: FakeEvolution, client: httpx.AsyncClient, hub_settings: Settings
) -> None:
    evolution.push(500, fixture("error_500"))
    with pytest.raises(ActionFailed):
        await send(evolution, client, hub_settings)
    await send(evolution, client, hub_settings)

    keys = [call.headers["x-idempotency-key"] for call in evolution.calls]
    assert keys == ["send-lead-42-attempt", "send-lead-42-attempt"]


async def test_a_trailing_slash_in_the_base_url_is_harmless(
    evolution: FakeEvolution, client: httpx.AsyncClient, hub_settings: Settings
) -> None:
    sent = await EvolutionProvider().send(
        client, hub_settings, config(evolution.url + "/"), outgoing()
    )
    assert sent.provider_message_id.startswith("BAE5")


async def test_a_template_is_refused_without_calling_evolution(
    evolution: FakeEvolution, client: httpx.AsyncClient, hub_settings: Settings
) -> None:
    with pytest.raises(ActionRejected) as caught:
        await send(evolution, client, hub_settings, outgoing(text=None, template="lembrete"))

    assert [e.path for e in caught.value.errors] == ["$.template"]
    assert "free text only" in caught.value.detail
    assert evolution.calls == []


def _rows() -> list[Any]:
    def row(name: str, status: int, body: Any, expected: dict[str, Any], **headers: str) -> Any:
        return pytest.param(status, body, headers, expected, id=name)

    return [
        row("401", 401, fixture("error_401"), {"credentials": True}),
        row("403", 403, fixture("error_403"), {"credentials": True}),
        row(
            "404-instance",
            404,
            fixture("error_404_instance"),
            {"credentials": "instance not found"},
        ),
        row("404-html", 404, b"<pre>Cannot POST /message/sendText/x</pre>", {"credentials": True}),
        row(
            "400-not-on-whatsapp",
            400,
            fixture("error_400_not_on_whatsapp"),
            {"path": "$.to", "reason": "not a WhatsApp number"},
        ),
        row(
            "400-validation",
            400,
            fixture("error_400_validation"),
            {"path": "$", "reason": 'instance requires property "text"'},
        ),
        row(
            "422",
            422,
            {
                "status": 422,
                "error": "Unprocessable",
                "response": {"message": ["Text is required"]},
            },
            {"path": "$", "reason": "Text is required"},
        ),
        row("400-plain", 400, b"bad", {"path": "$", "reason": "HTTP 400"}),
        row("400-session", 400, fixture("error_400_connection_closed"), {"code": "UPSTREAM_ERROR"}),
        row(
            "429-retry-after",
            429,
            b"slow down",
            {"code": "RATE_LIMITED", "retry_after": 17},
            **{"Retry-After": "17"},
        ),
        row("429-default", 429, b"", {"code": "RATE_LIMITED", "retry_after": 60}),
        row("408", 408, b"", {"code": "UPSTREAM_TIMEOUT"}),
        row("409", 409, b"", {"code": "UPSTREAM_ERROR"}),
        row("500", 500, fixture("error_500"), {"code": "UPSTREAM_ERROR", "detail": "Connection"}),
        row("502-html", 502, b"<html>Bad Gateway</html>", {"code": "UPSTREAM_ERROR"}),
        row(
            "503-retry-after",
            503,
            b"",
            {"code": "UPSTREAM_ERROR", "retry_after": 5},
            **{"Retry-After": "5"},
        ),
        row("302", 302, b"", {"code": "UPSTREAM_ERROR", "detail": "redirect"}, Location="/x"),
        row("201-not-json", 201, b"<html>ok</html>", {"code": "UPSTREAM_ERROR"}),
        row(
            "201-no-id",
            201,
            {"key": {"fromMe": True}, "status": "PENDING"},
            {"code": "UPSTREAM_ERROR"},
        ),
    ]


@pytest.mark.parametrize(("status", "body", "headers", "expected"), _rows())
async def test_evolution_answers_are_classified(
    evolution: FakeEvolution,
    client: httpx.AsyncClient,
    hub_settings: Settings,
    status: int,
    body: Any,
    headers: dict[str, str],
    expected: dict[str, Any],
) -> None:
    evolution.push(status, body, headers=headers)
    with pytest.raises((ActionRejected, ActionFailed)) as caught:
        await send(evolution, client, hub_settings)
    error = caught.value

    if "credentials" in expected:
        assert isinstance(error, CredentialsRejected)
        assert error.code == "UPSTREAM_ERROR"
        if isinstance(expected["credentials"], str):
            assert expected["credentials"] in error.reason
        assert API_KEY not in error.detail
    elif "path" in expected:
        assert isinstance(error, ActionRejected)
        assert [(e.path, e.message) for e in error.errors] == [
            (expected["path"], expected["reason"])
        ]
        assert error.extra == {"provider_status": status}
        assert "5584999990102" not in error.detail  # the number Evolution echoed
    else:
        assert isinstance(error, ActionFailed)
        assert not isinstance(error, CredentialsRejected)
        assert error.code == expected["code"]
        assert error.retry_after == expected.get("retry_after")
        assert expected.get("detail", "") in error.detail


async def test_evolution_refuses_a_wrong_api_key(
    evolution: FakeEvolution, client: httpx.AsyncClient, hub_settings: Settings
) -> None:
    with pytest.raises(CredentialsRejected) as caught:
        await send(evolution, client, hub_settings, api_key="not-the-key")
    assert "HTTP 401" in caught.value.reason
    assert evolution.calls == []


async def test_an_unknown_instance_is_a_configuration_problem(
    evolution: FakeEvolution, client: httpx.AsyncClient, hub_settings: Settings
) -> None:
    with pytest.raises(CredentialsRejected) as caught:
        await send(evolution, client, hub_settings, instance="other-instance")
    assert "instance not found" in caught.value.reason


async def test_evolution_message_is_cut_short_and_printable(
    evolution: FakeEvolution, client: httpx.AsyncClient, hub_settings: Settings
) -> None:
    long = "bad\x1b[31m\nvalue " + "x" * 1000
    evolution.push(400, {"status": 400, "error": "Bad Request", "response": {"message": [long]}})
    with pytest.raises(ActionRejected) as caught:
        await send(evolution, client, hub_settings)

    [error] = caught.value.errors
    assert len(error.message) <= 300
    assert error.message.isprintable()
    assert error.message.startswith("bad [31m value x")


async def test_a_slow_evolution_is_a_timeout(
    evolution: FakeEvolution, client: httpx.AsyncClient, hub_settings: Settings
) -> None:
    evolution.push(201, fixture("send_success"), delay=2.0)
    provider = EvolutionProvider(timeout_seconds=0.2)
    with pytest.raises(ActionFailed) as caught:
        await provider.send(client, hub_settings, config(evolution.url), outgoing())
    assert caught.value.code == "UPSTREAM_TIMEOUT"


async def test_an_unreachable_evolution_is_an_upstream_error(
    client: httpx.AsyncClient, hub_settings: Settings
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ActionFailed) as caught:
        await EvolutionProvider().send(client, hub_settings, config(closed), outgoing())
    assert caught.value.code == "UPSTREAM_ERROR"
    assert "could not reach Evolution" in caught.value.detail


async def test_an_answer_over_one_mebibyte_is_refused(
    evolution: FakeEvolution, client: httpx.AsyncClient, hub_settings: Settings
) -> None:
    evolution.push(201, b"{" + b" " * (1024 * 1024) + b"}")
    with pytest.raises(ActionFailed) as caught:
        await send(evolution, client, hub_settings)
    assert caught.value.code == "UPSTREAM_ERROR"
    assert "too large" in caught.value.detail


async def test_a_base_url_the_ssrf_guard_refuses_is_never_called(
    evolution: FakeEvolution, client: httpx.AsyncClient
) -> None:
    with pytest.raises(ActionFailed) as caught:
        await send(evolution, client, _settings(allow_private=False))
    assert caught.value.code == "TARGET_NOT_ALLOWED"
    assert evolution.calls == []


# -- receiving: authentication --------------------------------------------------------


async def receive(request: Any, evolution: EvolutionConfig | None = None) -> list[InboundEvent]:
    reply = await EvolutionProvider().receive(evolution or config(), request)
    assert (reply.status, reply.body) == (200, b"ok")
    return list(reply.events)


async def refused(request: Any, evolution: EvolutionConfig | None = None) -> ProblemError:
    with pytest.raises(ProblemError) as caught:
        await EvolutionProvider().receive(evolution or config(), request)
    return caught.value


TEXT = fixture("messages_upsert_text")


async def test_the_apikey_header_authenticates() -> None:
    assert len(await receive(webhook_request(TEXT, apikey=INBOUND_SECRET))) == 1


@pytest.mark.parametrize("apikey", [None, "", "wrong", INBOUND_SECRET + "x", API_KEY])
async def test_a_missing_or_wrong_apikey_is_refused(apikey: str | None) -> None:
    error = await refused(webhook_request(TEXT, apikey=apikey))
    assert error.code == "UNAUTHENTICATED"
    assert error.status == 401


async def test_the_apikey_in_the_body_proves_nothing() -> None:
    body = webhook_body(TEXT, apikey=INBOUND_SECRET)
    assert (await refused(webhook_request(body))).code == "UNAUTHENTICATED"


async def test_a_jwt_signed_with_the_secret_authenticates() -> None:
    assert len(await receive(webhook_request(TEXT, jwt_key=INBOUND_SECRET))) == 1


async def test_a_jwt_just_expired_is_within_the_leeway() -> None:
    token = jwt_token(INBOUND_SECRET, now=int(time.time()) - 630)  # expired 30 s ago
    assert len(await receive(webhook_request(TEXT, token=token))) == 1


def _bad_tokens() -> list[Any]:
    now = int(time.time())
    return [
        pytest.param(jwt_token(INBOUND_SECRET, now=now - 700), id="expired"),
        pytest.param(jwt_token("another-secret-of-thirty-two-bytes!!"), id="wrong-key"),
        pytest.param(jwt_token(None, algorithm="none"), id="alg-none"),
        pytest.param(jwt_token(INBOUND_SECRET, exp=None), id="no-exp"),
        pytest.param("not.a.jwt", id="garbage"),
    ]


@pytest.mark.parametrize("token", _bad_tokens())
async def test_a_bad_jwt_is_refused(token: str) -> None:
    assert (await refused(webhook_request(TEXT, token=token))).code == "UNAUTHENTICATED"


async def test_another_hmac_algorithm_with_the_right_key_is_refused() -> None:
    secret = INBOUND_SECRET * 2  # long enough for HS512
    token = jwt_token(secret, algorithm="HS512")
    error = await refused(webhook_request(TEXT, token=token), config(inbound_secret=secret))
    assert error.code == "UNAUTHENTICATED"
    assert (
        len(await receive(webhook_request(TEXT, jwt_key=secret), config(inbound_secret=secret)))
        == 1
    )


async def test_either_credential_is_enough() -> None:
    request = webhook_request(TEXT, apikey="stale", jwt_key=INBOUND_SECRET)
    assert len(await receive(request)) == 1


async def test_authentication_comes_before_parsing() -> None:
    assert (await refused(webhook_request(b"not json"))).code == "UNAUTHENTICATED"
    assert await receive(webhook_request(b"not json", apikey=INBOUND_SECRET)) == []
    assert await receive(webhook_request(b"[1, 2]", apikey=INBOUND_SECRET)) == []


async def test_only_post_is_served() -> None:
    error = await refused(webhook_request(TEXT, apikey=INBOUND_SECRET, method="GET"))
    assert error.code == "NOT_FOUND"


# -- receiving: events -------------------------------------------------------------------


async def events(body: dict[str, Any]) -> list[InboundEvent]:
    return await receive(webhook_request(body, apikey=INBOUND_SECRET))


def upsert(**changes: Any) -> dict[str, Any]:
    """The text fixture's item with fields replaced (``key`` and ``message`` merged)."""
    item = copy.deepcopy(TEXT["data"])
    item["key"].update(changes.pop("key", {}))
    if "message" in changes:
        item["message"] = changes.pop("message")
    item.update(changes)
    return item


def call(event: str, data: Any) -> dict[str, Any]:
    return webhook_body(TEXT, event=event, data=data)


async def test_a_text_message_is_received() -> None:
    [event] = await events(TEXT)

    assert event.type == "message.received"
    assert event.id == "acme-vendas:msg:3A5B9C2E7F1D4A6B8C0D"
    assert event.occurred_at == datetime.fromtimestamp(1717689097, UTC)
    assert event.data == {
        "message_id": "3A5B9C2E7F1D4A6B8C0D",
        "channel": "whatsapp",
        "direction": "inbound",
        "contact_phone": "+5584999990101",
        "contact_name": "Maria Souza",
        "body": "Oi! Ainda tem horário amanhã à tarde?",
        "provider": "evolution",
        "provider_message_id": "3A5B9C2E7F1D4A6B8C0D",
    }
    message = msgspec.convert(event.data, Message)
    assert message.lead is None
    assert message.media is None
    assert message.in_reply_to is None


async def test_an_image_is_received_as_metadata_only() -> None:
    [event] = await events(fixture("messages_upsert_image"))

    assert event.id == "acme-vendas:msg:3EB0A1B2C3D4E5F60718"
    assert event.data["body"] == "Segue a foto do orçamento"
    assert event.data["media"] == {
        "kind": "image",
        "mime_type": "image/jpeg",
        "caption": "Segue a foto do orçamento",
        "provider_media_id": "3EB0A1B2C3D4E5F60718",
        "sha256": "mX6sM1fJrC1cM3zq8p0zq0yJtqZ1Z8bR0m3P2v5XhE4=",
    }
    assert msgspec.convert(event.data, Message).media is not None
    encoded = json.dumps(event.data)
    for secret_part in ("mmg.whatsapp.net", "mediaKey", "p3q0Yp0u3m2J", "/9j/4AAQ", "directPath"):
        assert secret_part not in encoded


async def test_a_quoted_reply_names_the_message_it_answers() -> None:
    [event] = await events(fixture("messages_upsert_quoted"))
    assert event.data["in_reply_to"] == "BAE594145F4C59B4"
    assert event.data["body"] == "Pode ser às 15h"
    msgspec.convert(event.data, Message)


async def test_an_extended_text_keeps_its_own_context() -> None:
    # Evolution before 2.3 sent the content as WhatsApp shaped it.
    item = upsert(
        message={
            "extendedTextMessage": {
                "text": "Veja https://example.com",
                "contextInfo": {"stanzaId": "BAE5000000000007"},
            }
        },
        contextInfo=None,
        messageType="extendedTextMessage",
    )
    [event] = await events(call("messages.upsert", item))
    assert event.data["body"] == "Veja https://example.com"
    assert event.data["in_reply_to"] == "BAE5000000000007"


@pytest.mark.parametrize(
    ("message", "media", "body"),
    [
        pytest.param(
            {
                "documentWithCaptionMessage": {
                    "message": {
                        "documentMessage": {
                            "mimetype": "application/pdf",
                            "fileName": "proposta.pdf",
                            "caption": "A proposta",
                            "fileSha256": "3q2+7w==",
                            "url": "https://mmg.whatsapp.net/d/f/x.enc",
                        }
                    }
                }
            },
            {
                "kind": "document",
                "mime_type": "application/pdf",
                "file_name": "proposta.pdf",
                "caption": "A proposta",
                "sha256": "3q2+7w==",
            },
            "A proposta",
            id="document-with-caption",
        ),
        pytest.param(
            {"audioMessage": {"mimetype": "audio/ogg; codecs=opus", "ptt": True, "seconds": 7}},
            {"kind": "audio", "mime_type": "audio/ogg; codecs=opus"},
            "",
            id="voice-note",
        ),
        pytest.param(
            {
                "stickerMessage": {
                    "mimetype": "image/webp",
                    "fileSha256": {"0": 222, "1": 173, "2": 190},
                }
            },
            {"kind": "sticker", "mime_type": "image/webp", "sha256": "3q2+"},
            "",
            id="sticker-bytes-as-object",
        ),
        pytest.param(
            {"ephemeralMessage": {"message": {"videoMessage": {"mimetype": "video/mp4"}}}},
            {"kind": "video", "mime_type": "video/mp4"},
            "",
            id="disappearing-video",
        ),
    ],
)
async def test_media_kinds(message: dict[str, Any], media: dict[str, Any], body: str) -> None:
    [event] = await events(call("messages.upsert", upsert(message=message)))
    assert event.data["media"] == {**media, "provider_media_id": "3A5B9C2E7F1D4A6B8C0D"}
    assert event.data["body"] == body
    msgspec.convert(event.data, Message)


@pytest.mark.parametrize(
    "item",
    [
        pytest.param(upsert(key={"fromMe": True}), id="from-me"),
        pytest.param(upsert(key={"remoteJid": "120363025246125486@g.us"}), id="group"),
        pytest.param(upsert(key={"remoteJid": "status@broadcast"}), id="status"),
        pytest.param(upsert(key={"remoteJid": "120363198765432101@newsletter"}), id="channel"),
        pytest.param(
            upsert(message={"reactionMessage": {"key": {"id": "BAE5"}, "text": "👍"}}),
            id="reaction",
        ),
        pytest.param(
            upsert(message={"locationMessage": {"degreesLatitude": -5.79}}), id="location"
        ),
    ],
)
async def test_what_is_no_lead_message_is_skipped(item: dict[str, Any]) -> None:
    assert await events(call("messages.upsert", item)) == []


async def test_a_lid_chat_takes_the_phone_from_the_alternate_jid() -> None:
    item = upsert(
        key={
            "remoteJid": "182736450918273@lid",
            "remoteJidAlt": "5584999990101@s.whatsapp.net",
            "addressingMode": "lid",
        }
    )
    [event] = await events(call("messages.upsert", item))
    assert event.data["contact_phone"] == "+5584999990101"


async def test_a_bad_item_is_skipped_and_the_others_survive() -> None:
    good = upsert()
    image = copy.deepcopy(fixture("messages_upsert_image")["data"])
    data = [
        good,
        {"key": "garbage"},
        upsert(key={"id": 12}),
        upsert(key={"id": "x" * 200}),
        "not an object",
        image,
    ]
    found = await events(call("messages.upsert", data))
    assert [e.id for e in found] == [
        "acme-vendas:msg:3A5B9C2E7F1D4A6B8C0D",
        "acme-vendas:msg:3EB0A1B2C3D4E5F60718",
    ]


async def test_text_fields_are_made_storable() -> None:
    item = upsert(
        message={"conversation": "a\x00b" + "c" * 30_000},
        pushName="N" * 500,
        messageTimestamp="1717689097",
    )
    [event] = await events(call("messages.upsert", item))
    assert event.data["body"] == "ab" + "c" * 19_998
    assert len(event.data["contact_name"]) == 200
    assert event.occurred_at == datetime.fromtimestamp(1717689097, UTC)
    msgspec.convert(event.data, Message)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"low": 1717689097, "high": 0, "unsigned": True}, datetime.fromtimestamp(1717689097, UTC)),
        (None, RECEIVED_AT),
        (10**20, RECEIVED_AT),
        ("soon", RECEIVED_AT),
    ],
)
async def test_timestamps(value: Any, expected: datetime) -> None:
    [event] = await events(call("messages.upsert", upsert(messageTimestamp=value)))
    assert event.occurred_at == expected


@pytest.mark.parametrize("name", ["messages.upsert", "MESSAGES_UPSERT"])
async def test_both_event_spellings(name: str) -> None:
    [event] = await events(webhook_body(TEXT, event=name))
    assert event.id == "acme-vendas:msg:3A5B9C2E7F1D4A6B8C0D"


async def test_data_as_a_list_or_an_object_means_the_same() -> None:
    as_object = await events(TEXT)
    as_list = await events(webhook_body(TEXT, data=[TEXT["data"]]))
    assert as_list == as_object


async def test_another_instance_events_are_ignored() -> None:
    assert await events(webhook_body(TEXT, instance="other-instance")) == []


async def test_a_delivery_receipt() -> None:
    [event] = await events(fixture("messages_update_delivered"))

    assert event.type == "message.delivered"
    assert event.id == "acme-vendas:status:BAE594145F4C59B4:delivered"
    assert event.occurred_at == RECEIVED_AT
    assert event.data == {
        "message_id": "BAE594145F4C59B4",
        "channel": "whatsapp",
        "status": "delivered",
        "contact_phone": "+5584999990101",
        "provider": "evolution",
        "provider_message_id": "BAE594145F4C59B4",
    }
    msgspec.convert(event.data, MessageStatusChanged)


@pytest.mark.parametrize("status", ["READ", "PLAYED", 4])
async def test_a_read_receipt(status: str | int) -> None:
    body = fixture("messages_update_read")
    body["data"]["status"] = status
    [event] = await events(body)

    assert event.type == "message.read"
    assert event.id == "acme-vendas:status:BAE594145F4C59B4:read"
    assert msgspec.convert(event.data, MessageStatusChanged).status == "read"


async def test_an_error_status_is_a_failed_message() -> None:
    body = fixture("messages_update_delivered")
    body["data"]["status"] = "ERROR"
    [event] = await events(body)

    assert event.type == "message.failed"
    assert event.id == "acme-vendas:status:BAE594145F4C59B4:failed"
    failed = msgspec.convert(event.data, MessageFailed)
    assert (failed.direction, failed.body, failed.error_code, failed.attempts) == (
        "outbound",
        "",
        "ERROR",
        1,
    )
    assert failed.provider_message_id == "BAE594145F4C59B4"


@pytest.mark.parametrize("status", ["SERVER_ACK", "PENDING", "DELETED", 2])
async def test_statuses_that_publish_nothing(status: str | int) -> None:
    body = fixture("messages_update_delivered")
    body["data"]["status"] = status
    assert await events(body) == []


async def test_receipts_of_the_lead_messages_are_not_ours() -> None:
    body = fixture("messages_update_read")
    body["data"]["fromMe"] = False
    assert await events(body) == []


async def test_status_updates_in_a_list_and_upper_case() -> None:
    delivered = fixture("messages_update_delivered")["data"]
    read = fixture("messages_update_read")["data"]
    group = {**read, "remoteJid": "120363025246125486@g.us", "keyId": "BAE5000000000009"}
    found = await events(call("MESSAGES_UPDATE", [delivered, {"status": "READ"}, group, read]))
    assert [e.type for e in found] == ["message.delivered", "message.read"]


async def test_status_keyed_the_older_way() -> None:
    item = {
        "key": {"remoteJid": "5584999990101@s.whatsapp.net", "fromMe": True, "id": "BAE5AB"},
        "status": "DELIVERY_ACK",
    }
    [event] = await events(call("messages.update", item))
    assert event.id == "acme-vendas:status:BAE5AB:delivered"


@pytest.mark.parametrize("name", ["send_message", "connection_update"])
async def test_calls_that_publish_nothing(name: str) -> None:
    assert await events(fixture(name)) == []


def test_connection_state() -> None:
    body = fixture("connection_update")
    assert connection_state(body) == "open"
    assert connection_state({**body, "event": "CONNECTION_UPDATE"}) == "open"
    assert connection_state({**body, "data": {"instance": INSTANCE, "state": "close"}}) == "close"
    assert connection_state({**body, "data": None}) is None
    assert connection_state(TEXT) is None
