"""The request a subscriber receives: Standard Webhooks signed, headers, body, limits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiohttp import web
from sqlalchemy import update
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from hub import __version__
from hub.delivery.dispatch import enqueue_deliveries
from hub.delivery.engine import DeliveryEngine
from hub.hooks.models import SubscriptionSecret
from hub.runtime import Runtime
from hub.security.signing import new_signing_secret
from tests.delivery.support import (
    Received,
    Receiver,
    attempts,
    delivery,
    make_deliveries,
    make_subscription,
    make_tenant,
    statuses,
)


async def test_every_delivery_verifies_with_standardwebhooks(
    rt: Runtime, engine: DeliveryEngine, receivers
) -> None:
    receiver = await receivers()
    sub = await make_subscription(rt, await make_tenant(rt), receiver.url)
    ids = await make_deliveries(rt, sub, 5)
    await enqueue_deliveries(rt, ids)

    await engine.run_until_idle()

    assert await statuses(rt, ids) == {"delivered": 5}
    assert sorted(receiver.counts()) == sorted(ids)
    for got in receiver.received:
        payload = Webhook(sub.secrets[0]).verify(got.body, got.headers)
        assert payload["type"] == "lead.created"
        assert got.headers["Content-Type"] == "application/json"
        assert got.headers["User-Agent"] == f"hub/{__version__}"
        assert len(got.headers["webhook-signature"].split(" ")) == 1
    d = await delivery(rt, ids[0])
    assert d.attempt_count == 1
    assert d.last_status_code == 200
    assert d.lease_token is None
    [attempt] = await attempts(rt, ids[0])
    assert attempt.number == 1
    assert attempt.status_code == 200
    assert attempt.error_class is None
    assert attempt.response_excerpt == "ok"


async def test_during_a_rotation_every_live_secret_signs(
    rt: Runtime, engine: DeliveryEngine, receivers
) -> None:
    receiver = await receivers()
    sub = await make_subscription(rt, await make_tenant(rt), receiver.url, secrets=2)
    now = rt.clock.now()
    expired = new_signing_secret()
    async with rt.db.transaction() as session:
        # The old secret's grace period still runs; a third one's is over.
        await session.execute(
            update(SubscriptionSecret)
            .where(SubscriptionSecret.subscription_id == sub.id)
            .values(expires_at=now + timedelta(hours=1))
        )
        session.add(
            SubscriptionSecret(
                id="sec_expired",
                subscription_id=sub.id,
                secret_encrypted=rt.vault.encrypt(expired),
                created_at=now - timedelta(days=2),
                expires_at=now - timedelta(seconds=1),
            )
        )
    ids = await make_deliveries(rt, sub, 2)
    await enqueue_deliveries(rt, ids)

    await engine.run_until_idle()

    assert len(receiver.received) == 2
    for got in receiver.received:
        assert len(got.headers["webhook-signature"].split(" ")) == 2
        for secret in sub.secrets:
            Webhook(secret).verify(got.body, got.headers)
        with pytest.raises(WebhookVerificationError):
            Webhook(expired).verify(got.body, got.headers)


async def test_redirects_are_not_followed_and_count_as_a_refusal(
    rt: Runtime, engine: DeliveryEngine, receivers
) -> None:
    elsewhere = await receivers()

    async def redirect(r: Receiver, got: Received) -> web.StreamResponse:
        raise web.HTTPFound(elsewhere.url)

    receiver = await receivers(redirect)
    sub = await make_subscription(rt, await make_tenant(rt), receiver.url)
    [delivery_id] = await make_deliveries(rt, sub)
    await enqueue_deliveries(rt, [delivery_id])

    await engine.run_until_idle()

    assert elsewhere.received == []
    d = await delivery(rt, delivery_id)
    assert d.status == "retrying"
    assert d.last_status_code == 302
    assert d.last_error_class == "http_302"
    [attempt] = await attempts(rt, delivery_id)
    assert attempt.response_headers["location"] == elsewhere.url


async def test_only_the_first_64_kib_are_read_and_1_kib_kept(
    rt: Runtime, engine: DeliveryEngine, receivers
) -> None:
    async def big_body(r: Receiver, got: Received) -> web.StreamResponse:
        return web.Response(status=500, body=b"x" * (5 * 1024 * 1024))

    receiver = await receivers(big_body)
    sub = await make_subscription(rt, await make_tenant(rt), receiver.url)
    [delivery_id] = await make_deliveries(rt, sub)
    await enqueue_deliveries(rt, [delivery_id])

    await engine.run_until_idle()

    [attempt] = await attempts(rt, delivery_id)
    assert attempt.status_code == 500
    assert attempt.response_excerpt == "x" * 1024
