"""The Amazon SES provider: SESv2 sends against moto's server and a wire-level fake of
SESv2's error answers; SNS notifications signed for real with a self-made CA.

Sends are checked where they land (moto's SES backend: the raw message with the hub's
Message-ID, the envelope recipients) and at the wire (the SendEmail JSON botocore
writes, SigV4 with the tenant's key); SESv2's documented error answers
(tests/fixtures/email/ses/errors.json) against the hub's answers. The SNS envelopes and
SES notifications are AWS's documented examples (tests/fixtures/email/ses/), signed by
``fake_sns`` with a certificate served over TLS on loopback.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import ipaddress
import json
import socket
from collections import deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from aiobotocore.session import get_session
from aiohttp import web
from moto.core import DEFAULT_ACCOUNT_ID
from moto.server import ThreadedMotoServer
from moto.ses.models import ses_backends

from hub.actions.handlers import ActionFailed, ActionRejected
from hub.config import Settings, load_settings
from hub.connectors.protocol import (
    ConnectorUnusable,
    CredentialsRejected,
    InboundEvent,
    InboundReply,
    InboundRequest,
)
from hub.events.catalog import EVENT_TYPES
from hub.events.data import EmailBounced, EmailComplained, EmailEvent, EmailRejected
from hub.runtime import Runtime, build_runtime
from hub.security.encryption import generate_key
from hub.web.errors import ProblemError
from integrations.email.config import SesConfig
from integrations.email.message import build, hub_headers, rfc822_id, sender_of
from integrations.email.provider import OutgoingEmail, Sent
from integrations.email.ses import PinnedResolver, SesProvider
from integrations.email.sns import sns_host_rule
from tests.connectors.email.fake_sns import FakeSns, issue, start_sns
from tests.support.processes import free_port

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "email" / "ses"
ERRORS: dict[str, Any] = json.loads((FIXTURES / "errors.json").read_text())

REGION = "us-east-1"
# AWS's documented example keys (docs.aws.amazon.com/IAM/latest/UserGuide/security-creds.html).
ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOPIC_ARN = "arn:aws:sns:us-west-2:123456789012:MyTopic"  # the SNS examples' topic
SENDER = "vendas@acme.example"
TO = "compras@paodourado.example"
CC = "financeiro@paodourado.example"
BCC = "arquivo@acme.example"
HUB_MESSAGE_ID = "msg_01jd8w2b6c0e4g8j2m6p0s4v8y"
RECEIVED_AT = datetime(2025, 6, 20, 12, 0, tzinfo=UTC)
SNS_MESSAGE_ID = "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def make_settings(tmp_path: Path, *, allow_private: bool = True) -> Settings:
    env = {
        "HUB_ENV": "development",
        "HUB_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}",
        "HUB_REDIS_URL": "memory://",
        "HUB_SECRET_KEYS": generate_key(),
        "HUB_STATE_DIR": str(tmp_path / "state"),
        "HUB_LOG_LEVEL": "WARNING",
    }
    if allow_private:
        env["HUB_ALLOW_PRIVATE_TARGETS"] = "1"
    return load_settings(env)


def make_config(endpoint_url: str | None = None, **overrides: Any) -> SesConfig:
    values: dict[str, Any] = {
        "provider": "ses",
        "from_address": SENDER,
        "from_name": "Acme Vendas",
        "region": REGION,
        "access_key_id": ACCESS_KEY_ID,
        "secret_access_key": SECRET_ACCESS_KEY,
        "configuration_set": "acme-transactional",
        "sns_topic_arn": TOPIC_ARN,
        "endpoint_url": endpoint_url,
        **overrides,
    }
    return msgspec.convert({k: v for k, v in values.items() if v is not None}, SesConfig)


def outgoing(*, cc: tuple[str, ...] = (CC,), bcc: tuple[str, ...] = (BCC,)) -> OutgoingEmail:
    """The message as the connector builds it (the real RFC 5322 builder)."""
    sender = sender_of(SENDER, "Acme Vendas")
    message_id = rfc822_id(HUB_MESSAGE_ID, SENDER)
    headers = hub_headers(HUB_MESSAGE_ID, {"template_id": "tpl_follow_up"})
    raw = build(
        rfc822_message_id=message_id,
        sender=sender,
        to=[TO],
        cc=list(cc),
        reply_to=None,
        subject="Proposta de fornecimento",
        text="Olá, segue a proposta.",
        html=None,
        headers=headers,
        date=RECEIVED_AT,
    )
    return OutgoingEmail(
        message_id=HUB_MESSAGE_ID,
        rfc822_message_id=message_id,
        sender=sender,
        sender_address=SENDER,
        to=[TO],
        cc=list(cc),
        bcc=list(bcc),
        subject="Proposta de fornecimento",
        text="Olá, segue a proposta.",
        headers=headers,
        raw=raw,
        idempotency_key="key-1",
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False) as client:
        yield client


# -- moto's SES, in server mode on loopback -----------------------------------------------


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
async def moto(moto_url: str) -> str:
    async with httpx.AsyncClient(trust_env=False) as http:
        (await http.post(f"{moto_url}/moto-api/reset")).raise_for_status()
    return moto_url


async def verify_domain(endpoint: str, domain: str) -> None:
    async with get_session().create_client(
        "sesv2",
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
        endpoint_url=endpoint,
    ) as ses:
        await ses.create_email_identity(EmailIdentity=domain)


def moto_sent() -> list[Any]:
    return list(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)


async def test_send_reaches_moto_with_the_raw_message(
    settings: Settings, client: httpx.AsyncClient, moto: str
) -> None:
    await verify_domain(moto, "acme.example")
    message = outgoing()

    sent = await SesProvider().send(client, settings, make_config(moto), message)

    [stored] = moto_sent()
    assert sent == Sent(provider_message_id=stored.id)
    assert stored.source == SENDER
    # The raw message arrived whole: the hub's Message-ID and headers, no Bcc header.
    assert stored.raw_data.encode() == message.raw
    parsed = message_from_bytes(message.raw, policy=default_policy)
    assert parsed["Message-ID"] == f"<{HUB_MESSAGE_ID}@acme.example>"
    assert parsed["X-Hub-Message-Id"] == HUB_MESSAGE_ID
    assert "Bcc" not in parsed
    # The envelope (Destination) carries every recipient, Bcc included.
    assert {TO, CC, BCC} <= set(stored.destinations)


async def test_send_through_a_named_endpoint_is_pinned(
    settings: Settings, client: httpx.AsyncClient, moto: str
) -> None:
    """``localhost`` goes through the SSRF guard and the pinned resolver."""
    await verify_domain(moto, "acme.example")
    endpoint = moto.replace("127.0.0.1", "localhost")

    sent = await SesProvider().send(client, settings, make_config(endpoint), outgoing())

    assert sent.provider_message_id == moto_sent()[0].id


async def test_moto_refuses_an_unverified_sender(
    settings: Settings, client: httpx.AsyncClient, moto: str
) -> None:
    with pytest.raises(ActionRejected) as caught:
        await SesProvider().send(client, settings, make_config(moto), outgoing())

    assert caught.value.extra == {"provider_code": "MessageRejected"}
    [error] = caught.value.errors
    assert error.path == "$"
    assert error.message.startswith("SES MessageRejected: ")
    assert SENDER not in caught.value.detail
    assert SENDER not in error.message
    assert moto_sent() == []


async def test_pinned_resolver_knows_only_the_checked_host() -> None:
    resolver = PinnedResolver("Localhost", [ipaddress.ip_address("127.0.0.1")])

    [result] = await resolver.resolve("localhost", 4566, socket.AF_UNSPEC)
    assert (result["host"], result["port"]) == ("127.0.0.1", 4566)
    with pytest.raises(OSError):
        await resolver.resolve("metadata.internal", 80, socket.AF_UNSPEC)
    with pytest.raises(OSError):
        await resolver.resolve("localhost", 80, socket.AF_INET6)


# -- a wire-level fake of SESv2 (its JSON error answers) -----------------------------------


@dataclass(frozen=True)
class Call:
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeSes:
    url: str = ""
    calls: list[Call] = field(default_factory=list)
    replies: deque[tuple[int, dict[str, str], bytes, float]] = field(default_factory=deque)

    def reply_next(
        self, status: int, body: Any, headers: dict[str, str] | None = None, delay: float = 0.0
    ) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.replies.append((status, dict(headers or {}), raw, delay))

    async def send_email(self, request: web.Request) -> web.Response:
        self.calls.append(
            Call(
                path=request.path,
                headers={k.lower(): v for k, v in request.headers.items()},
                body=json.loads(await request.read()),
            )
        )
        if self.replies:
            status, headers, raw, delay = self.replies.popleft()
            if delay:
                await asyncio.sleep(delay)
            return web.Response(status=status, body=raw, headers=headers)
        return web.json_response({"MessageId": "010001903d1c5ad1-fake-000000"})


@pytest.fixture
async def fake_ses() -> AsyncIterator[FakeSes]:
    fake = FakeSes()
    app = web.Application()
    app.router.add_post("/v2/email/outbound-emails", fake.send_email)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    fake.url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        await runner.cleanup()


async def test_send_email_request_at_the_wire(
    settings: Settings, client: httpx.AsyncClient, fake_ses: FakeSes
) -> None:
    message = outgoing()

    sent = await SesProvider().send(client, settings, make_config(fake_ses.url), message)

    assert sent == Sent(provider_message_id="010001903d1c5ad1-fake-000000")
    [call] = fake_ses.calls
    assert call.body == {
        "FromEmailAddress": SENDER,
        "Destination": {"ToAddresses": [TO], "CcAddresses": [CC], "BccAddresses": [BCC]},
        "Content": {"Raw": {"Data": base64.b64encode(message.raw).decode()}},
        "ConfigurationSetName": "acme-transactional",
        "EmailTags": [{"Name": "hub_message_id", "Value": HUB_MESSAGE_ID}],
    }
    authorization = call.headers["authorization"]
    assert authorization.startswith(f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY_ID}/")
    assert f"/{REGION}/ses/aws4_request" in authorization
    assert SECRET_ACCESS_KEY not in json.dumps(call.headers)


async def test_send_without_configuration_set_or_copies(
    settings: Settings, client: httpx.AsyncClient, fake_ses: FakeSes
) -> None:
    config = make_config(fake_ses.url, configuration_set=None)

    await SesProvider().send(client, settings, config, outgoing(cc=(), bcc=()))

    body = fake_ses.calls[0].body
    assert "ConfigurationSetName" not in body
    assert body["Destination"] == {"ToAddresses": [TO]}


RATE = ("failed", "RATE_LIMITED", 60)
QUOTA = ("failed", "QUOTA_EXCEEDED", 3600)
UPSTREAM = ("failed", "UPSTREAM_ERROR", None)
CREDENTIALS = ("credentials", None, None)
PAUSED = ("unusable", None, None)


def rejected(path: str) -> tuple[str, str, None]:
    return ("rejected", path, None)


CLASSIFICATION = {
    "TooManyRequestsException": RATE,
    "LimitExceededException": RATE,
    "LimitExceededException_daily": QUOTA,
    "ThrottlingException": RATE,
    "SendingPausedException": PAUSED,
    "MessageRejected": rejected("$"),
    "MessageRejected_recipient": rejected("$.to"),
    "MailFromDomainNotVerifiedException": rejected("$"),
    "BadRequestException": rejected("$"),
    "NotFoundException": rejected("$"),
    "AccountSuspendedException": CREDENTIALS,
    "UnrecognizedClientException": CREDENTIALS,
    "InvalidClientTokenId": CREDENTIALS,
    "SignatureDoesNotMatch": CREDENTIALS,
    "AccessDeniedException": CREDENTIALS,
    "ExpiredTokenException": CREDENTIALS,
    "InternalFailure": UPSTREAM,
    "ServiceUnavailable": UPSTREAM,
    "RequestExpired": UPSTREAM,
}


def test_every_error_fixture_is_classified() -> None:
    assert set(CLASSIFICATION) == {name for name in ERRORS if not name.startswith("_")}


@pytest.mark.parametrize("name", sorted(CLASSIFICATION))
async def test_error_classification(
    name: str, settings: Settings, client: httpx.AsyncClient, fake_ses: FakeSes
) -> None:
    answer = ERRORS[name]
    fake_ses.reply_next(answer["status"], answer["body"], answer["headers"])
    kind, code_or_path, retry_after = CLASSIFICATION[name]
    code = name.split("_")[0]

    with pytest.raises(Exception) as caught:
        await SesProvider().send(client, settings, make_config(fake_ses.url), outgoing())

    error = caught.value
    text = json.dumps([str(error), vars(error)], default=str)
    assert SECRET_ACCESS_KEY not in text
    assert ACCESS_KEY_ID not in text
    if kind == "failed":
        assert type(error) is ActionFailed
        assert (error.code, error.retry_after) == (code_or_path, retry_after)
    elif kind == "credentials":
        assert isinstance(error, CredentialsRejected)
        assert code in error.reason
    elif kind == "unusable":
        assert isinstance(error, ConnectorUnusable)
        assert not isinstance(error, CredentialsRejected)
        assert "SendingPausedException" in error.reason
    else:
        assert isinstance(error, ActionRejected)
        assert error.extra == {"provider_code": code}
        [field_error] = error.errors
        assert field_error.path == code_or_path
        assert field_error.message.startswith(f"SES {code}: ")
        # SES's words are kept, the addresses they quote are not.
        for address in (SENDER, TO):
            assert address not in error.detail
            assert address not in field_error.message


async def test_an_answer_that_is_not_json_is_an_upstream_error(
    settings: Settings, client: httpx.AsyncClient, fake_ses: FakeSes
) -> None:
    fake_ses.reply_next(502, b"<html>Bad Gateway</html>", {"content-type": "text/html"})

    with pytest.raises(ActionFailed) as caught:
        await SesProvider().send(client, settings, make_config(fake_ses.url), outgoing())

    assert caught.value.code == "UPSTREAM_ERROR"


async def test_a_success_without_message_id_is_an_upstream_error(
    settings: Settings, client: httpx.AsyncClient, fake_ses: FakeSes
) -> None:
    fake_ses.reply_next(200, {})

    with pytest.raises(ActionFailed) as caught:
        await SesProvider().send(client, settings, make_config(fake_ses.url), outgoing())

    assert caught.value.code == "UPSTREAM_ERROR"


async def test_a_slow_answer_is_a_timeout(
    settings: Settings, client: httpx.AsyncClient, fake_ses: FakeSes
) -> None:
    fake_ses.reply_next(200, {"MessageId": "late"}, delay=2.0)

    with pytest.raises(ActionFailed) as caught:
        await SesProvider(timeout_seconds=0.3).send(
            client, settings, make_config(fake_ses.url), outgoing()
        )

    assert caught.value.code == "UPSTREAM_TIMEOUT"


async def test_an_unreachable_endpoint_is_an_upstream_error(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    config = make_config(f"http://127.0.0.1:{free_port()}")

    with pytest.raises(ActionFailed) as caught:
        await SesProvider().send(client, settings, config, outgoing())

    assert caught.value.code == "UPSTREAM_ERROR"
    assert "EndpointConnectionError" in caught.value.detail


async def test_a_closed_connection_is_an_upstream_error(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1024)
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(ActionFailed) as caught:
            await SesProvider().send(
                client, settings, make_config(f"http://127.0.0.1:{port}"), outgoing()
            )
    finally:
        server.close()
        await server.wait_closed()

    assert caught.value.code == "UPSTREAM_ERROR"
    assert "ConnectionClosedError" in caught.value.detail


async def test_a_private_endpoint_is_refused_by_the_ssrf_guard(
    tmp_path: Path, client: httpx.AsyncClient, fake_ses: FakeSes
) -> None:
    strict = make_settings(tmp_path, allow_private=False)

    with pytest.raises(ActionFailed) as caught:
        await SesProvider().send(client, strict, make_config(fake_ses.url), outgoing())

    assert caught.value.code == "TARGET_NOT_ALLOWED"
    assert fake_ses.calls == []


# -- receiving: SNS, signed for real ------------------------------------------------------


@pytest.fixture(scope="module")
async def sns_server() -> AsyncIterator[FakeSns]:
    fake, runner = await start_sns()
    try:
        yield fake
    finally:
        await runner.cleanup()


@pytest.fixture
def sns(sns_server: FakeSns) -> FakeSns:
    sns_server.cert_fetches = 0
    sns_server.confirmations.clear()
    return sns_server


@pytest.fixture
async def rt(settings: Settings) -> AsyncIterator[Runtime]:
    runtime = await build_runtime(settings, migrate=True)
    try:
        yield runtime
    finally:
        await runtime.close()


@dataclass
class Confirmer:
    """The test's subscription confirmer: records every URL, then asks the fake SNS."""

    sns: FakeSns
    urls: list[str] = field(default_factory=list)

    async def __call__(self, url: str) -> None:
        self.urls.append(url)
        await self.sns.confirm(url)


@pytest.fixture
def confirmer(sns: FakeSns) -> Confirmer:
    return Confirmer(sns)


@pytest.fixture
def receiver(sns: FakeSns, confirmer: Confirmer) -> SesProvider:
    return SesProvider(
        cert_fetcher=sns.fetch_certificate,
        cert_host_rule=sns.host_rule,
        subscription_confirmer=confirmer,
    )


def notification(ses: Any, *, message_id: str = SNS_MESSAGE_ID, **changes: Any) -> dict[str, Any]:
    """SNS's documented Notification envelope carrying ``ses`` (a JSON string if not one)."""
    envelope = fixture("sns_notification.json")
    envelope.pop("Subject")  # SES publishes without one
    envelope.update(
        MessageId=message_id,
        TopicArn=TOPIC_ARN,
        Message=ses if isinstance(ses, str) else json.dumps(ses),
        Timestamp="2025-06-20T11:59:58.123Z",
    )
    envelope.update(changes)
    return envelope


def request(message: dict[str, Any], method: str = "POST") -> InboundRequest:
    return InboundRequest(
        method=method,
        headers={
            "x-amz-sns-message-type": str(message.get("Type")),
            "x-amz-sns-message-id": str(message.get("MessageId")),
            "x-amz-sns-topic-arn": str(message.get("TopicArn")),
            "content-type": "text/plain; charset=UTF-8",
            "user-agent": "Amazon Simple Notification Service Agent",
        },
        query={},
        body=json.dumps(message).encode(),
        received_at=RECEIVED_AT,
        tenant_id="ten_01jd8w2b6c0e4g8j2m6p0s4v8y",
        connector_id="con_01jd8w2b6c0e4g8j2m6p0s4v8y",
    )


async def receive(
    provider: SesProvider, rt: Runtime, message: dict[str, Any], config: SesConfig | None = None
) -> InboundReply:
    return await provider.receive(rt, config or make_config(), request(message))


async def refused(
    provider: SesProvider, rt: Runtime, message: dict[str, Any], config: SesConfig | None = None
) -> ProblemError:
    with pytest.raises(ProblemError) as caught:
        await receive(provider, rt, message, config)
    return caught.value


def typed(event: InboundEvent) -> Any:
    """The event's data as the catalog stores it (raises when it would be refused)."""
    return msgspec.convert(dict(event.data), EVENT_TYPES[event.type].data_type)


# -- signatures ----------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1", "2"])
async def test_signature_versions_verify(
    version: str, receiver: SesProvider, rt: Runtime, sns: FakeSns
) -> None:
    message = sns.sign(notification(fixture("notification_delivery.json")), version=version)

    reply = await receive(receiver, rt, message)

    assert (reply.status, reply.body) == (200, b"OK")
    assert [event.type for event in reply.events] == ["email.delivered"]
    assert sns.cert_fetches == 1


async def test_a_subject_is_signed_too(receiver: SesProvider, rt: Runtime, sns: FakeSns) -> None:
    message = sns.sign(notification(fixture("notification_delivery.json"), Subject="SES"))
    assert len((await receive(receiver, rt, message)).events) == 1

    message["Subject"] = "Other"
    problem = await refused(receiver, rt, message)
    assert problem.code == "UNAUTHENTICATED"


@pytest.mark.parametrize("name", ["Message", "MessageId", "Timestamp", "Type"])
async def test_a_tampered_message_is_refused(
    name: str, receiver: SesProvider, rt: Runtime, sns: FakeSns
) -> None:
    message = sns.sign(notification(fixture("notification_bounce_with_dsn.json")))
    message[name] = {
        "Message": message["Message"].replace("jane@example.com", "john@example.com"),
        "MessageId": "22b80b92-fdea-4c2c-8f9d-000000000000",
        "Timestamp": "2025-06-20T11:59:59.000Z",
        "Type": "SubscriptionConfirmation",
    }[name]

    problem = await refused(receiver, rt, message)

    assert (problem.code, problem.status) == ("UNAUTHENTICATED", 401)


@pytest.mark.parametrize(
    "cert_url",
    [
        "https://127.0.0.2:{port}/SimpleNotificationService-x.pem",  # another host
        "http://127.0.0.1:{port}/SimpleNotificationService-x.pem",  # not https
        "https://127.0.0.1:{port}/SimpleNotificationService-x.txt",  # not a .pem
        "https://127.0.0.1:{port}/cert.pem?x=1",  # a query
        "https://sns.us-west-2.amazonaws.com.evil.example/SimpleNotificationService-x.pem",
    ],
)
async def test_a_certificate_from_elsewhere_is_refused_unfetched(
    cert_url: str, receiver: SesProvider, rt: Runtime, sns: FakeSns
) -> None:
    url = cert_url.format(port=sns.port)
    message = sns.sign(notification(fixture("notification_delivery.json")), cert_url=url)

    problem = await refused(receiver, rt, message)

    assert problem.code == "UNAUTHENTICATED"
    assert sns.cert_fetches == 0


async def test_production_defaults_never_fetch_from_loopback(rt: Runtime, sns: FakeSns) -> None:
    message = sns.sign(notification(fixture("notification_delivery.json")))

    problem = await refused(SesProvider(), rt, message)

    assert problem.code == "UNAUTHENTICATED"
    assert sns.cert_fetches == 0


@pytest.mark.parametrize(
    ("url", "holds"),
    [
        ("https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem", True),
        ("https://sns.eu-central-1.amazonaws.com/SimpleNotificationService-abc.pem", True),
        ("https://sns.us-gov-west-1.amazonaws.com/SimpleNotificationService-abc.pem", True),
        ("https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem", True),
        ("https://sns.us-east-1.amazonaws.com:443/SimpleNotificationService-abc.pem", True),
        ("http://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem", False),
        ("https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-abc.pem", False),
        ("https://sns.us-east-1.amazonaws.com.evil.example/x.pem", False),
        ("https://sns.us-east-1.amazonaws.com@evil.example/x.pem", False),
        ("https://user@sns.us-east-1.amazonaws.com/x.pem", False),
        ("https://evilsns.us-east-1.amazonaws.com/x.pem", False),
        ("https://sns.evil.amazonaws.com/x.pem", False),
        ("https://s3.us-east-1.amazonaws.com/x.pem", False),
        ("https://SNS.US-EAST-1.AMAZONAWS.COM.evil.example/x.pem", False),
        ("https://127.0.0.1/x.pem", False),
        ("https://sns.us-east-1.amazonaws.com /x.pem", False),
        ("not a url", False),
    ],
)
def test_the_production_host_rule(url: str, holds: bool) -> None:
    assert sns_host_rule(url) is holds


async def test_another_topic_is_refused_unfetched(
    receiver: SesProvider, rt: Runtime, sns: FakeSns
) -> None:
    other = "arn:aws:sns:us-west-2:123456789012:SomeoneElsesTopic"
    message = sns.sign(notification(fixture("notification_delivery.json"), TopicArn=other))

    problem = await refused(receiver, rt, message)

    assert problem.code == "UNAUTHENTICATED"
    assert sns.cert_fetches == 0


async def test_without_a_configured_topic_nothing_is_accepted(
    receiver: SesProvider, rt: Runtime, sns: FakeSns
) -> None:
    message = sns.sign(notification(fixture("notification_delivery.json")))
    config = make_config(sns_topic_arn=None)

    problem = await refused(receiver, rt, message, config)

    assert problem.code == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    "spoil",
    [
        "no signature",
        "empty signature",
        "not base64",
        "no version",
        "version 3",
        "no certificate url",
        "another key",
        "not json",
        "no type",
    ],
)
async def test_a_missing_or_unusable_signature_is_refused(
    spoil: str, receiver: SesProvider, rt: Runtime, sns: FakeSns
) -> None:
    message = sns.sign(notification(fixture("notification_delivery.json")))
    if spoil == "no signature":
        del message["Signature"]
    elif spoil == "empty signature":
        message["Signature"] = ""
    elif spoil == "not base64":
        message["Signature"] = "not*base64!"
    elif spoil == "no version":
        del message["SignatureVersion"]
    elif spoil == "version 3":
        message["SignatureVersion"] = "3"
    elif spoil == "no certificate url":
        del message["SigningCertURL"]
    elif spoil == "another key":
        stranger = issue(sns.ca, "stranger").key
        message = sns.sign(notification(fixture("notification_delivery.json")), key=stranger)
    elif spoil == "no type":
        del message["Type"]

    if spoil == "not json":
        with pytest.raises(ProblemError) as caught:
            await receiver.receive(
                rt,
                make_config(),
                InboundRequest("POST", {}, {}, b"<xml/>", RECEIVED_AT),
            )
        problem = caught.value
    else:
        problem = await refused(receiver, rt, message)

    assert problem.code == "UNAUTHENTICATED"


async def test_an_expired_certificate_is_refused(
    rt: Runtime, sns: FakeSns, confirmer: Confirmer
) -> None:
    expired = issue(
        sns.ca,
        "sns.amazonaws.com",
        not_before=RECEIVED_AT - timedelta(days=400),
        not_after=RECEIVED_AT - timedelta(days=1),
    )

    async def fetch(url: str) -> bytes:
        return expired.pem

    provider = SesProvider(cert_fetcher=fetch, cert_host_rule=sns.host_rule)
    message = sns.sign(notification(fixture("notification_delivery.json")), key=expired.key)

    problem = await refused(provider, rt, message)

    assert problem.code == "UNAUTHENTICATED"


async def test_a_certificate_is_fetched_once_per_url(
    receiver: SesProvider, rt: Runtime, sns: FakeSns
) -> None:
    for index in range(3):
        message = sns.sign(
            notification(
                fixture("notification_delivery.json"),
                message_id=f"22b80b92-fdea-4c2c-8f9d-bdfb0c7bf32{index}",
            ),
            version="2" if index % 2 else "1",
        )
        assert len((await receive(receiver, rt, message)).events) == 1

    assert sns.cert_fetches == 1


async def test_an_unreachable_certificate_answers_unavailable(rt: Runtime, sns: FakeSns) -> None:
    """SNS delivers again later: nothing is lost for a network failure on our side."""
    port = free_port()
    provider = SesProvider(
        cert_fetcher=sns.fetch_certificate, cert_host_rule=lambda url: url.startswith("https://")
    )
    url = f"https://127.0.0.1:{port}/SimpleNotificationService-x.pem"
    message = sns.sign(notification(fixture("notification_delivery.json")), cert_url=url)

    problem = await refused(provider, rt, message)

    assert (problem.code, problem.status) == ("UNAVAILABLE", 503)


async def test_only_post_is_accepted(receiver: SesProvider, rt: Runtime, sns: FakeSns) -> None:
    message = sns.sign(notification(fixture("notification_delivery.json")))
    with pytest.raises(ProblemError) as caught:
        await receiver.receive(rt, make_config(), request(message, method="GET"))
    assert caught.value.code == "METHOD_NOT_ALLOWED"


# -- subscription confirmations --------------------------------------------------------------

TOKEN = "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3"


def confirmation(sns: FakeSns, kind: str = "SubscriptionConfirmation", **changes: Any) -> Any:
    name = {
        "SubscriptionConfirmation": "sns_subscription_confirmation.json",
        "UnsubscribeConfirmation": "sns_unsubscribe_confirmation.json",
    }[kind]
    message = fixture(name)
    message.update(
        Token=TOKEN, SubscribeURL=sns.subscribe_url(TOPIC_ARN, TOKEN), TopicArn=TOPIC_ARN
    )
    message.update(changes)
    return sns.sign(message)


async def test_a_subscription_is_confirmed_at_its_subscribe_url(
    receiver: SesProvider, rt: Runtime, sns: FakeSns, confirmer: Confirmer
) -> None:
    reply = await receive(receiver, rt, confirmation(sns))

    assert (reply.status, list(reply.events)) == (200, [])
    assert sns.confirmations == [
        {"Action": "ConfirmSubscription", "TopicArn": TOPIC_ARN, "Token": TOKEN}
    ]
    assert confirmer.urls == [sns.subscribe_url(TOPIC_ARN, TOKEN)]


@pytest.mark.parametrize(
    "subscribe_url",
    [
        "https://attacker.example/?Action=ConfirmSubscription&TopicArn={topic}&Token=t",
        "http://127.0.0.1:{port}/?Action=ConfirmSubscription&TopicArn={topic}&Token=t",
        "https://127.0.0.1:{port}/?Action=Unsubscribe&TopicArn={topic}&Token=t",
        "https://127.0.0.1:{port}/?Action=ConfirmSubscription"
        "&TopicArn=arn:aws:sns:us-west-2:123456789012:Other&Token=t",
    ],
)
async def test_a_subscribe_url_elsewhere_is_never_fetched(
    subscribe_url: str, receiver: SesProvider, rt: Runtime, sns: FakeSns, confirmer: Confirmer
) -> None:
    url = subscribe_url.format(port=sns.port, topic=TOPIC_ARN)

    problem = await refused(receiver, rt, confirmation(sns, SubscribeURL=url))

    assert problem.code == "UNAUTHENTICATED"
    assert confirmer.urls == []
    assert sns.confirmations == []


async def test_an_unsigned_confirmation_is_never_fetched(
    receiver: SesProvider, rt: Runtime, sns: FakeSns, confirmer: Confirmer
) -> None:
    message = confirmation(sns)
    message["Token"] = "0" * 64  # not what SNS signed

    problem = await refused(receiver, rt, message)

    assert problem.code == "UNAUTHENTICATED"
    assert confirmer.urls == []


async def test_a_failed_confirmation_asks_sns_to_try_again(rt: Runtime, sns: FakeSns) -> None:
    async def failing(url: str) -> None:
        raise httpx.ConnectError("refused")

    provider = SesProvider(
        cert_fetcher=sns.fetch_certificate,
        cert_host_rule=sns.host_rule,
        subscription_confirmer=failing,
    )

    problem = await refused(provider, rt, confirmation(sns))

    assert (problem.code, problem.status) == ("UNAVAILABLE", 503)


async def test_an_unsubscribe_confirmation_is_acknowledged(
    receiver: SesProvider, rt: Runtime, sns: FakeSns, confirmer: Confirmer
) -> None:
    reply = await receive(receiver, rt, confirmation(sns, "UnsubscribeConfirmation"))

    assert (reply.status, list(reply.events)) == (200, [])
    assert confirmer.urls == []


# -- notifications → events ----------------------------------------------------------------


def with_header(ses: dict[str, Any], name: str, value: str) -> dict[str, Any]:
    ses = copy.deepcopy(ses)
    ses["mail"]["headers"].append({"name": name, "value": value})
    return ses


def with_tag(ses: dict[str, Any], value: str) -> dict[str, Any]:
    ses = copy.deepcopy(ses)
    ses["mail"].setdefault("tags", {})["hub_message_id"] = [value]
    return ses


async def events_of(
    receiver: SesProvider, rt: Runtime, sns: FakeSns, ses: Any
) -> list[InboundEvent]:
    reply = await receive(receiver, rt, sns.sign(notification(ses)))
    assert reply.status == 200
    for event in reply.events:
        typed(event)  # every event fits the catalog
    return list(reply.events)


async def test_a_permanent_bounce_with_a_dsn(
    receiver: SesProvider, rt: Runtime, sns: FakeSns
) -> None:
    [event] = await events_of(receiver, rt, sns, fixture("notification_bounce_with_dsn.json"))

    provider_id = "00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000"
    assert event.type == "email.bounced"
    assert event.id == f"ses:{SNS_MESSAGE_ID}:jane@example.com"
    assert event.occurred_at == datetime(2016, 1, 27, 14, 59, 38, 237000, tzinfo=UTC)
    assert typed(event) == EmailBounced(
        message_id=provider_id,  # identity notifications carry no tags or hub header here
        recipient="jane@example.com",
        subject="Hello",
        provider="ses",
        provider_message_id=provider_id,
        rfc822_message_id="custom-message-ID",
        bounce_type="hard",
        diagnostic="smtp; 550 5.1.1 <jane@example.com>... User",
    )


async def test_one_event_per_bounced_recipient(
    receiver: SesProvider, rt: Runtime, sns: FakeSns
) -> None:
    events = await events_of(receiver, rt, sns, fixture("notification_bounce_without_dsn.json"))

    assert [event.data["recipient"] for event in events] == [
        "jane@example.com",
        "richard@example.com",
    ]
    assert len({event.id for event in events}) == 2
    assert all(event.data["bounce_type"] == "hard" for event in events)
    assert all("diagnostic" not in event.data for event in events)


@pytest.mark.parametrize(
    ("bounce_type", "expected"), [("Transient", "soft"), ("Undetermined", "soft")]
)
async def test_other_bounces_are_soft(
    bounce_type: str, expected: str, receiver: SesProvider, rt: Runtime, sns: FakeSns
) -> None:
    ses = fixture("notification_bounce_with_dsn.json")
    ses["bounce"]["bounceType"] = bounce_type

    [event] = await events_of(receiver, rt, sns, ses)

    assert event.data["bounce_type"] == expected


async def test_the_hub_message_id_header_is_preferred(
    receiver: SesProvider, rt: Runtime, sns: FakeSns
) -> None:
    ses = with_header(fixture("notification_delivery.json"), "X-Hub-Message-Id", HUB_MESSAGE_ID)
    ses = with_header(ses, "X-Hub-Template-Id", "tpl_follow_up")

    [event] = await events_of(receiver, rt, sns, ses)

    provider_id = "0000014644fe5ef6-9a483358-9170-4cb4-a269-f5dcdf415321-000000"
    assert event.type == "email.delivered"
    assert event.occurred_at == datetime(2016, 1, 27, 14, 59, 38, 237000, tzinfo=UTC)
    assert typed(event) == EmailEvent(
        message_id=HUB_MESSAGE_ID,
        recipient="jane@example.com",
        subject="Hello",
        template_id="tpl_follow_up",
        provider="ses",
        provider_message_id=provider_id,
        rfc822_message_id="custom-message-ID",
    )


async def test_the_message_tag_is_preferred_over_the_header(
    receiver: SesProvider, rt: Runtime, sns: FakeSns
) -> None:
    ses = with_header(fixture("event_bounce.json"), "X-Hub-Message-Id", "msg_from_the_header")
    ses = with_tag(ses, HUB_MESSAGE_ID)

    [event] = await events_of(receiver, rt, sns, ses)

    assert typed(event) == EmailBounced(
        message_id=HUB_MESSAGE_ID,
        recipient="recipient@example.com",
        subject="Message sent from Amazon SES",
        provider="ses",
        provider_message_id="EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000",
        rfc822_message_id="EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000",
        bounce_type="hard",
        diagnostic="smtp; 550 5.1.1 user unknown",
    )
    assert event.occurred_at == datetime(2017, 8, 5, 0, 41, 2, 669000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "feedback_type"),
    [
        ("notification_complaint_with_feedback.json", "abuse"),
        ("notification_complaint_without_feedback.json", None),
        ("event_complaint.json", "abuse"),
    ],
)
async def test_complaints(
    name: str, feedback_type: str | None, receiver: SesProvider, rt: Runtime, sns: FakeSns
) -> None:
    [event] = await events_of(receiver, rt, sns, with_tag(fixture(name), HUB_MESSAGE_ID))

    complaint = typed(event)
    assert event.type == "email.complained"
    assert isinstance(complaint, EmailComplained)
    assert (complaint.message_id, complaint.feedback_type) == (HUB_MESSAGE_ID, feedback_type)
    assert event.id == f"ses:{SNS_MESSAGE_ID}:{complaint.recipient}"


async def test_event_publishing_delivery(receiver: SesProvider, rt: Runtime, sns: FakeSns) -> None:
    [event] = await events_of(
        receiver, rt, sns, with_tag(fixture("event_delivery.json"), HUB_MESSAGE_ID)
    )

    assert event.type == "email.delivered"
    assert event.data["message_id"] == HUB_MESSAGE_ID
    assert event.data["recipient"] == "recipient@example.com"
    assert event.occurred_at == datetime(2016, 10, 19, 23, 21, 4, 133000, tzinfo=UTC)


async def test_a_reject_is_one_event_per_destination(
    receiver: SesProvider, rt: Runtime, sns: FakeSns
) -> None:
    ses = with_tag(fixture("event_reject.json"), HUB_MESSAGE_ID)
    ses["mail"]["destination"] = [TO, CC]

    events = await events_of(receiver, rt, sns, ses)

    assert [event.type for event in events] == ["email.rejected", "email.rejected"]
    assert [typed(event) for event in events] == [
        EmailRejected(
            message_id=HUB_MESSAGE_ID,
            recipient=address,
            subject="Message sent from Amazon SES",
            provider="ses",
            provider_message_id="EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000",
            rfc822_message_id="EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000",
            reason="Bad content",
        )
        for address in (TO, CC)
    ]
    assert events[0].occurred_at == datetime(2016, 10, 14, 17, 38, 15, 211000, tzinfo=UTC)


async def test_a_send_record_publishes_nothing(
    receiver: SesProvider, rt: Runtime, sns: FakeSns
) -> None:
    """The connector publishes email.sent itself, when SES accepted the message."""
    assert await events_of(receiver, rt, sns, fixture("event_send.json")) == []


async def test_a_named_recipient_is_reduced_to_its_address(
    receiver: SesProvider, rt: Runtime, sns: FakeSns
) -> None:
    ses = fixture("notification_bounce_with_dsn.json")
    ses["bounce"]["bouncedRecipients"][0]["emailAddress"] = "Jane Doe <jane@example.com>"

    [event] = await events_of(receiver, rt, sns, ses)

    assert event.data["recipient"] == "jane@example.com"


async def test_a_long_recipient_keeps_the_event_id_short(
    receiver: SesProvider, rt: Runtime, sns: FakeSns
) -> None:
    address = "a" * 64 + "@" + "b" * 200 + ".example"
    ses = fixture("notification_delivery.json")
    ses["delivery"]["recipients"] = [address]

    [event] = await events_of(receiver, rt, sns, ses)

    assert event.data["recipient"] == address
    assert len("email:" + event.id) <= 255


async def test_one_unreadable_recipient_is_skipped(
    receiver: SesProvider, rt: Runtime, sns: FakeSns
) -> None:
    ses = fixture("notification_bounce_without_dsn.json")
    ses["bounce"]["bouncedRecipients"].insert(0, {"emailAddress": 42})
    ses["bounce"]["bouncedRecipients"].insert(1, {"emailAddress": "not an address"})
    ses["bounce"]["bouncedRecipients"].insert(2, "jane@example.com")

    events = await events_of(receiver, rt, sns, ses)

    assert [event.data["recipient"] for event in events] == [
        "jane@example.com",
        "richard@example.com",
    ]


def _without_mail_id(ses: dict[str, Any]) -> dict[str, Any]:
    del ses["mail"]["messageId"]
    return ses


def _unknown_bounce(ses: dict[str, Any]) -> dict[str, Any]:
    ses["bounce"]["bounceType"] = "Sideways"
    return ses


def _no_recipients(ses: dict[str, Any]) -> dict[str, Any]:
    ses["bounce"]["bouncedRecipients"] = "jane@example.com"
    return ses


def _mail_not_an_object(ses: dict[str, Any]) -> dict[str, Any]:
    ses["mail"] = ["jane@example.com"]
    return ses


@pytest.mark.parametrize(
    "message",
    [
        "not json at all",
        json.dumps(["a", "list"]),
        json.dumps({"notificationType": "Bounce"}),
        json.dumps({"eventType": "Open", "mail": {}}),
        json.dumps(_without_mail_id(fixture("notification_bounce_with_dsn.json"))),
        json.dumps(_unknown_bounce(fixture("notification_bounce_with_dsn.json"))),
        json.dumps(_no_recipients(fixture("notification_bounce_with_dsn.json"))),
        json.dumps(_mail_not_an_object(fixture("notification_bounce_with_dsn.json"))),
    ],
    ids=[
        "not json",
        "a list",
        "no mail",
        "an open",
        "no mail id",
        "unknown bounce type",
        "recipients not a list",
        "mail not an object",
    ],
)
async def test_a_malformed_notification_is_skipped_quietly(
    message: str, receiver: SesProvider, rt: Runtime, sns: FakeSns
) -> None:
    """Authentic but unreadable: answered 200 (SNS would retry it in vain), no events."""
    reply = await receive(receiver, rt, sns.sign(notification(message)))

    assert (reply.status, list(reply.events)) == (200, [])


async def test_an_out_of_range_timestamp_falls_back(
    receiver: SesProvider, rt: Runtime, sns: FakeSns
) -> None:
    ses = fixture("notification_delivery.json")
    ses["delivery"]["timestamp"] = "yesterday"

    [event] = await events_of(receiver, rt, sns, ses)

    # SNS's Timestamp of the notification.
    assert event.occurred_at == datetime(2025, 6, 20, 11, 59, 58, 123000, tzinfo=UTC)
