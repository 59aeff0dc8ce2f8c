"""The SMTP provider against a real SMTP server (aiosmtpd) on loopback.

The message must arrive byte for byte as the connector built it, with the envelope the
configuration and the recipients give; TLS is verified for real (a CA and certificate
made in the test, trusted by the provider's context only); every way a server says no
is checked against the hub's answer (integrations/email/smtp.py has the table).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from typing import Any

import httpx
import msgspec
import pytest

from hub.actions.handlers import ActionFailed, ActionRejected
from hub.config import Settings, load_settings
from hub.connectors.protocol import CredentialsRejected, InboundRequest
from hub.security.encryption import generate_key
from hub.web.errors import ProblemError
from integrations.email.config import SmtpConfig
from integrations.email.provider import OutgoingEmail, Sent
from integrations.email.smtp import SmtpProvider, message_id_of
from tests.connectors.email.fake_smtp import (
    Certificates,
    Recorder,
    make_certificates,
    raw_server,
    start_smtp,
)
from tests.support.processes import free_port

# The fake's plain-text AUTH servers (security "none") are meant: aiosmtpd warns of them.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")

SENDER = "vendas@acme-imoveis.example"
TO = ["joao.silva@example.org", "maria@example.net"]
CC = ["gerente@acme-imoveis.example"]
BCC = ["arquivo@acme-imoveis.example"]
HUB_MESSAGE_ID = "msg_01jd8w2b6c0e4g8j2m6p0s4v8y"
RFC822_ID = f"<{HUB_MESSAGE_ID}@acme-imoveis.example>"
USER = "vendas@acme-imoveis.example"
PASSWORD = "s3nha-d0-smtp-9f2c"
RECEIVED_AT = datetime(2025, 6, 20, 12, 0, tzinfo=UTC)


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


def make_config(port: int, **overrides: Any) -> SmtpConfig:
    values = {
        "provider": "smtp",
        "from_address": SENDER,
        "from_name": "ACME Imóveis",
        "host": "localhost",
        "port": port,
        "security": "none",
        **overrides,
    }
    return msgspec.convert(values, SmtpConfig)


def build_raw(*, to: list[str], cc: list[str]) -> bytes:
    """A message as the connector builds it (stdlib, CRLF, the hub's Message-ID), with
    what SMTP must carry untouched: 8-bit UTF-8 and a line that starts with a dot."""
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = f"ACME Imóveis <{SENDER}>"
    message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    message["Subject"] = "Sua proposta do apartamento na Rua das Flores"
    message["Date"] = "Fri, 20 Jun 2025 12:00:00 +0000"
    message["Message-ID"] = RFC822_ID
    message["X-Hub-Message-Id"] = HUB_MESSAGE_ID
    message.set_content(
        "Olá João,\n\nSegue a proposta, válida até sexta.\n.\n..linha que começa com ponto\n",
        cte="8bit",
    )
    message.add_alternative("<p>Olá João,</p><p>Segue a proposta.</p>\n", subtype="html")
    return message.as_bytes()


def outgoing(
    to: list[str] | None = None,
    cc: list[str] | None = None,
    bcc: list[str] | None = None,
    sender: str = SENDER,
) -> OutgoingEmail:
    to = TO if to is None else to
    cc = CC if cc is None else cc
    bcc = BCC if bcc is None else bcc
    return OutgoingEmail(
        message_id=HUB_MESSAGE_ID,
        rfc822_message_id=RFC822_ID,
        sender=f"ACME Imóveis <{sender}>",
        sender_address=sender,
        to=to,
        cc=cc,
        bcc=bcc,
        subject="Sua proposta do apartamento na Rua das Flores",
        text="Olá João",
        headers={"X-Hub-Message-Id": HUB_MESSAGE_ID},
        raw=build_raw(to=to, cc=cc),
        idempotency_key="key-1",
    )


@pytest.fixture
def settings() -> Settings:
    return make_settings()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False) as client:
        yield client


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """A certificate for the name "localhost" only: no IP address in it, so a
    connection to the checked 127.0.0.1 verifies only if TLS checks the name."""
    return make_certificates(tmp_path_factory.mktemp("smtp-certs"))


@pytest.fixture(scope="module")
def other_certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(
        tmp_path_factory.mktemp("smtp-other-certs"), dns_names=("mail.other.example",)
    )


def provider(certs: Certificates | None = None, **kwargs: Any) -> SmtpProvider:
    return SmtpProvider(tls_context=certs.client_context() if certs else None, **kwargs)


async def send(
    settings: Settings,
    client: httpx.AsyncClient,
    config: SmtpConfig,
    message: OutgoingEmail | None = None,
    certs: Certificates | None = None,
    **kwargs: Any,
) -> Sent:
    return await provider(certs, **kwargs).send(client, settings, config, message or outgoing())


def assert_no_address(*texts: object) -> None:
    for text in texts:
        for address in [*TO, *CC, *BCC]:
            assert address not in str(text)


# -- delivery ----------------------------------------------------------------------------


async def test_the_message_arrives_byte_identical_with_its_envelope(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    message = outgoing()
    async with start_smtp() as fake:
        sent = await send(settings, client, make_config(fake.port), message)

    assert sent == Sent(provider_message_id=RFC822_ID)
    [received] = fake.received
    assert received.data == message.raw  # dot lines and 8-bit bytes untouched
    assert received.mail_from == SENDER
    assert received.rcpt_tos == [*TO, *CC, *BCC]
    assert "BODY=8BITMIME" in received.mail_options
    assert received.ehlo_name == "acme-imoveis.example"  # not this machine's name
    assert received.tls is False
    assert received.authenticated is False
    assert message_id_of(received.data) == RFC822_ID


async def test_a_recipient_listed_twice_is_one_rcpt(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    message = outgoing(to=[TO[0]], cc=[TO[0]], bcc=[])
    async with start_smtp() as fake:
        await send(settings, client, make_config(fake.port), message)
    assert fake.received[0].rcpt_tos == [TO[0]]


def test_the_message_id_is_read_as_written() -> None:
    raw = (
        b"From: a@example.com\r\nMessage-ID:\r\n <msg_01abc@acme-imoveis.example>\r\n"
        b"Subject: x\r\n\r\nbody\r\n"
    )
    assert message_id_of(raw) == "<msg_01abc@acme-imoveis.example>"
    assert message_id_of(b"From: a@example.com\r\n\r\nbody\r\n") is None


async def test_without_a_message_id_header_the_hubs_id_is_answered(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    message = outgoing()
    raw = message.raw.replace(f"Message-ID: {RFC822_ID}\r\n".encode(), b"")
    assert b"Message-ID" not in raw
    message = OutgoingEmail(**{**_fields(message), "raw": raw})
    async with start_smtp() as fake:
        sent = await send(settings, client, make_config(fake.port), message)
    assert sent.provider_message_id == RFC822_ID
    assert fake.received[0].data == raw


def _fields(message: OutgoingEmail) -> dict[str, Any]:
    return {name: getattr(message, name) for name in OutgoingEmail.__slots__}


async def test_international_addresses_go_with_smtputf8(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    message = outgoing(to=["joão@exemplo.com.br"], cc=[], bcc=[])
    async with start_smtp(smtputf8=True) as fake:
        await send(settings, client, make_config(fake.port), message)
    [received] = fake.received
    assert received.rcpt_tos == ["joão@exemplo.com.br"]
    assert "SMTPUTF8" in received.mail_options


async def test_international_addresses_without_smtputf8_are_rejected(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    message = outgoing(to=["joão@exemplo.com.br"], cc=[], bcc=[])
    async with start_smtp(smtputf8=False) as fake:
        with pytest.raises(ActionRejected) as caught:
            await send(settings, client, make_config(fake.port), message)
    assert "SMTPUTF8" in caught.value.detail
    assert fake.received == []


# -- AUTH --------------------------------------------------------------------------------


async def test_auth_with_the_right_password(settings: Settings, client: httpx.AsyncClient) -> None:
    recorder = Recorder(user=USER, password=PASSWORD)
    async with start_smtp(recorder, auth=True, auth_require_tls=False) as fake:
        config = make_config(fake.port, username=USER, password=PASSWORD)
        await send(settings, client, config)
    [received] = fake.received
    assert received.authenticated is True
    assert received.login == USER.encode()


async def test_a_wrong_password_is_credentials_rejected(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    recorder = Recorder(user=USER, password=PASSWORD)
    async with start_smtp(recorder, auth=True, auth_require_tls=False) as fake:
        config = make_config(fake.port, username=USER, password="wrong-password-123")
        with pytest.raises(CredentialsRejected) as caught:
            await send(settings, client, config)
    assert "535" in caught.value.reason
    assert "wrong-password-123" not in caught.value.detail
    assert USER not in caught.value.detail
    assert fake.received == []
    assert recorder.auth_attempts >= 1


async def test_a_temporary_auth_failure_is_retriable(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    recorder = Recorder(
        user=USER, password=PASSWORD, auth_reply="454 4.7.0 Temporary authentication failure"
    )
    async with start_smtp(recorder, auth=True, auth_require_tls=False) as fake:
        config = make_config(fake.port, username=USER, password=PASSWORD)
        with pytest.raises(ActionFailed) as caught:
            await send(settings, client, config)
    assert not isinstance(caught.value, CredentialsRejected)
    assert caught.value.code == "UPSTREAM_ERROR"
    assert "454" in caught.value.detail


async def test_a_server_requiring_auth_without_credentials_configured(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    recorder = Recorder(user=USER, password=PASSWORD)
    async with start_smtp(recorder, auth=True, auth_require_tls=False) as fake:
        # aiosmtpd answers MAIL FROM "530 5.7.0 Authentication required".
        with pytest.raises(CredentialsRejected) as caught:
            await send(settings, client, make_config(fake.port))
    assert "530" in caught.value.reason
    assert fake.received == []


async def test_auth_not_offered_in_clear_is_an_upstream_error(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    recorder = Recorder(user=USER, password=PASSWORD)
    # aiosmtpd offers AUTH only after TLS by default: a "none" connection never sees it.
    async with start_smtp(recorder, auth=True, auth_require_tls=True) as fake:
        config = make_config(fake.port, username=USER, password=PASSWORD)
        with pytest.raises(ActionFailed) as caught:
            await send(settings, client, config)
    assert not isinstance(caught.value, CredentialsRejected)
    assert caught.value.code == "UPSTREAM_ERROR"
    assert "AUTH" in caught.value.detail
    assert recorder.auth_attempts == 0


# -- TLS ---------------------------------------------------------------------------------


async def test_starttls_required_and_offered(
    settings: Settings, client: httpx.AsyncClient, certs: Certificates
) -> None:
    recorder = Recorder(user=USER, password=PASSWORD)
    message = outgoing()
    async with start_smtp(recorder, starttls=certs, require_starttls=True, auth=True) as fake:
        config = make_config(fake.port, security="starttls", username=USER, password=PASSWORD)
        sent = await send(settings, client, config, message, certs)
    assert sent.provider_message_id == RFC822_ID
    [received] = fake.received
    assert received.tls is True
    assert received.authenticated is True
    assert received.data == message.raw


async def test_starttls_required_and_missing_sends_nothing_in_clear(
    settings: Settings, client: httpx.AsyncClient, certs: Certificates
) -> None:
    recorder = Recorder(user=USER, password=PASSWORD)
    async with start_smtp(recorder, auth=True, auth_require_tls=False) as fake:
        config = make_config(fake.port, security="starttls", username=USER, password=PASSWORD)
        with pytest.raises(ActionFailed) as caught:
            await send(settings, client, config, certs=certs)
    assert caught.value.code == "UPSTREAM_ERROR"
    assert "does not offer STARTTLS" in caught.value.detail
    assert recorder.auth_attempts == 0  # the password never crossed in clear
    assert fake.received == []


async def test_implicit_tls(
    settings: Settings, client: httpx.AsyncClient, certs: Certificates
) -> None:
    recorder = Recorder(user=USER, password=PASSWORD)
    message = outgoing()
    async with start_smtp(recorder, implicit_tls=certs, auth=True) as fake:
        config = make_config(fake.port, security="tls", username=USER, password=PASSWORD)
        await send(settings, client, config, message, certs)
    [received] = fake.received
    assert received.tls is True
    assert received.authenticated is True
    assert received.data == message.raw


@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_a_certificate_for_another_name_is_refused(
    settings: Settings,
    client: httpx.AsyncClient,
    certs: Certificates,
    other_certs: Certificates,
    security: str,
) -> None:
    recorder = Recorder(user=USER, password=PASSWORD)
    server = {"implicit_tls": other_certs} if security == "tls" else {"starttls": other_certs}
    async with start_smtp(recorder, auth=True, **server) as fake:  # type: ignore[arg-type]
        config = make_config(fake.port, security=security, username=USER, password=PASSWORD)
        with pytest.raises(ActionFailed) as caught:
            # The client trusts other_certs' CA: only the name is wrong.
            await send(settings, client, config, certs=other_certs)
    assert not isinstance(caught.value, CredentialsRejected)
    assert caught.value.code == "UPSTREAM_ERROR"
    assert "certificate does not verify for localhost" in caught.value.detail
    assert recorder.auth_attempts == 0
    assert fake.received == []


async def test_a_certificate_from_an_unknown_ca_is_refused(
    settings: Settings, client: httpx.AsyncClient, certs: Certificates
) -> None:
    async with start_smtp(starttls=certs, require_starttls=True) as fake:
        config = make_config(fake.port, security="starttls")
        with pytest.raises(ActionFailed) as caught:
            await send(settings, client, config)  # the default context: system CAs only
    assert not isinstance(caught.value, CredentialsRejected)
    assert caught.value.code == "UPSTREAM_ERROR"
    assert "certificate does not verify" in caught.value.detail
    assert fake.received == []


# -- the SSRF guard ----------------------------------------------------------------------


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
async def test_a_private_host_is_refused(client: httpx.AsyncClient, host: str) -> None:
    settings = make_settings(allow_private=False)
    async with start_smtp() as fake:
        with pytest.raises(ActionFailed) as caught:
            await send(settings, client, make_config(fake.port, host=host))
    assert caught.value.code == "TARGET_NOT_ALLOWED"
    assert "private or reserved" in caught.value.detail
    assert fake.recorder.ehlos == 0
    assert fake.received == []


# -- refusals ----------------------------------------------------------------------------


async def test_every_recipient_refused_permanently_is_rejected_by_index(
    settings: Settings, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    refusal = "550 5.1.1 <{}>: Recipient address rejected: User unknown"
    message = outgoing(to=[TO[0]], cc=[CC[0]], bcc=[])
    recorder = Recorder(rcpt_replies={a: refusal.format(a) for a in [TO[0], CC[0]]})
    caplog.set_level(logging.DEBUG, "hub")
    async with start_smtp(recorder) as fake:
        with pytest.raises(ActionRejected) as caught:
            await send(settings, client, make_config(fake.port), message)
    rejected = caught.value
    assert [e.path for e in rejected.errors] == ["$.to[0]", "$.cc[0]"]
    assert all("550 5.1.1" in e.message for e in rejected.errors)
    assert rejected.extra == {"smtp_codes": {"$.to[0]": 550, "$.cc[0]": 550}}
    assert_no_address(rejected.detail, [e.message for e in rejected.errors], caplog.text)
    assert fake.received == []


async def test_every_recipient_refused_with_one_deferral_is_retriable(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    message = outgoing(to=TO, cc=[], bcc=[])
    recorder = Recorder(
        rcpt_replies={
            TO[0]: "550 5.1.1 User unknown",
            TO[1]: "451 4.7.1 Greylisted, try again in 5 minutes",
        }
    )
    async with start_smtp(recorder) as fake:
        with pytest.raises(ActionFailed) as caught:
            await send(settings, client, make_config(fake.port), message)
    failed = caught.value
    assert failed.code == "UPSTREAM_ERROR"
    assert [e.path for e in failed.errors] == ["$.to[0]", "$.to[1]"]
    assert "$.to[1]: 451" in failed.detail
    assert_no_address(failed.detail, [e.message for e in failed.errors])


async def test_some_recipients_refused_is_still_sent_to_the_others(
    settings: Settings, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    message = outgoing()
    recorder = Recorder(
        rcpt_replies={
            TO[1]: "550 5.1.1 <maria@example.net>: Recipient address rejected",
            BCC[0]: "451 4.2.0 Mailbox busy",
        }
    )
    caplog.set_level(logging.INFO, "hub")
    async with start_smtp(recorder) as fake:
        sent = await send(settings, client, make_config(fake.port), message)
    assert sent.provider_message_id == RFC822_ID
    [received] = fake.received
    assert received.rcpt_tos == [TO[0], CC[0]]
    assert received.data == message.raw
    [record] = [r for r in caplog.records if "refused some recipients" in r.getMessage()]
    assert record.__dict__["refusals"] == ["$.bcc[0]=451", "$.to[1]=550"]
    assert_no_address(caplog.text, record.__dict__)


@pytest.mark.parametrize(
    ("reply", "answer"),
    [
        ("553 5.7.1 <vendas@acme-imoveis.example>: Sender address rejected", "rejected"),
        ("451 4.3.0 Temporary lookup failure", "UPSTREAM_ERROR"),
        ("530 5.7.0 Authentication required", "credentials"),
    ],
)
async def test_the_sender_refused(
    settings: Settings, client: httpx.AsyncClient, reply: str, answer: str
) -> None:
    async with start_smtp(Recorder(mail_reply=reply)) as fake:
        with pytest.raises((ActionRejected, ActionFailed)) as caught:
            await send(settings, client, make_config(fake.port))
    error = caught.value
    if answer == "rejected":
        assert isinstance(error, ActionRejected)
        assert [e.path for e in error.errors] == ["$"]
        assert error.errors[0].message == "the server refused the sender"
        assert error.extra == {"smtp_code": 553, "smtp_status": "5.7.1"}
        assert SENDER not in error.detail
    elif answer == "credentials":
        assert isinstance(error, CredentialsRejected)
    else:
        assert isinstance(error, ActionFailed)
        assert not isinstance(error, CredentialsRejected)
        assert error.code == answer
    assert fake.received == []


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        ("554 5.7.1 Message rejected: spam content detected", None),
        ("552 5.3.4 Message size exceeds fixed limit", None),
        ("452 4.3.1 Insufficient system storage", "UPSTREAM_ERROR"),
        ("421 4.3.2 Service shutting down", "UPSTREAM_ERROR"),
    ],
)
async def test_the_data_refused(
    settings: Settings, client: httpx.AsyncClient, reply: str, code: str | None
) -> None:
    async with start_smtp(Recorder(data_reply=reply)) as fake:
        with pytest.raises((ActionRejected, ActionFailed)) as caught:
            await send(settings, client, make_config(fake.port))
    error = caught.value
    smtp_code = int(reply[:3])
    if code is None:
        assert isinstance(error, ActionRejected)
        assert [e.path for e in error.errors] == ["$"]
        assert error.extra == {"smtp_code": smtp_code, "smtp_status": reply.split()[1]}
        assert "spam" not in error.detail  # the server's words stay out: codes only
    else:
        assert isinstance(error, ActionFailed)
        assert error.code == code
        assert str(smtp_code) in error.detail


# -- connections -------------------------------------------------------------------------


async def test_nothing_listening_is_an_upstream_error(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    with pytest.raises(ActionFailed) as caught:
        await send(settings, client, make_config(free_port()))
    assert caught.value.code == "UPSTREAM_ERROR"
    assert "could not reach" in caught.value.detail


async def test_a_server_that_hangs_up_is_an_upstream_error(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    async with raw_server(b"") as server:
        with pytest.raises(ActionFailed) as caught:
            await send(settings, client, make_config(server.port))
    assert caught.value.code == "UPSTREAM_ERROR"
    assert server.connections >= 1


async def test_a_server_refusing_service_at_the_greeting(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    async with raw_server(b"554 5.3.2 mx.fake.test no SMTP service here\r\n") as server:
        with pytest.raises(ActionFailed) as caught:
            await send(settings, client, make_config(server.port))
    assert caught.value.code == "UPSTREAM_ERROR"
    assert "554" in caught.value.detail


async def test_a_server_that_never_answers_times_out(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    async with raw_server(None) as server:
        started = time.monotonic()
        with pytest.raises(ActionFailed) as caught:
            await send(settings, client, make_config(server.port), timeout_seconds=0.5)
        elapsed = time.monotonic() - started
    assert caught.value.code == "UPSTREAM_TIMEOUT"
    assert "0.5 s" in caught.value.detail
    assert elapsed < 2.0
    assert server.connections == 1


async def test_a_slow_goodbye_after_the_message_is_still_sent(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    recorder = Recorder(quit_delay=5.0)
    async with start_smtp(recorder) as fake:
        started = time.monotonic()
        sent = await send(settings, client, make_config(fake.port), timeout_seconds=0.5)
        elapsed = time.monotonic() - started
    assert sent.provider_message_id == RFC822_ID
    assert len(fake.received) == 1
    assert elapsed < 4.0  # QUIT waited for briefly, never the server's 5 s


# -- receive -----------------------------------------------------------------------------


async def test_smtp_has_no_webhooks() -> None:
    request = InboundRequest(
        method="POST",
        headers={},
        query={},
        body=b"{}",
        received_at=RECEIVED_AT,
    )
    with pytest.raises(ProblemError) as caught:
        await provider().receive(None, make_config(25), request)  # type: ignore[arg-type]
    assert caught.value.code == "NOT_FOUND"
    assert "bounces arrive by e-mail" in caught.value.detail


async def test_sends_can_overlap(settings: Settings, client: httpx.AsyncClient) -> None:
    smtp = provider()
    async with start_smtp() as fake:
        config = make_config(fake.port)
        sent = await asyncio.gather(
            *(smtp.send(client, settings, config, outgoing()) for _ in range(3))
        )
    assert {s.provider_message_id for s in sent} == {RFC822_ID}
    assert len(fake.received) == 3
