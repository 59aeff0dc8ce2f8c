"""The SSRF guard again at send time: no request reaches a private address."""

from __future__ import annotations

import pytest

from hub.delivery.dispatch import enqueue_deliveries
from hub.runtime import Runtime
from tests.delivery.support import delivery, make_deliveries, make_subscription, make_tenant


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]"])
async def test_private_targets_are_refused_when_sending(
    rt: Runtime, engines, receivers, host: str
) -> None:
    engine = engines(allow_private_targets=False)
    receiver = await receivers()
    port = receiver.url.split(":")[2].split("/")[0]
    # Saved while allowed (or DNS changed since): the send-time check still refuses.
    sub = await make_subscription(rt, await make_tenant(rt), f"http://{host}:{port}/hook")
    [delivery_id] = await make_deliveries(rt, sub)
    await enqueue_deliveries(rt, [delivery_id])

    await engine.run_until_idle()

    d = await delivery(rt, delivery_id)
    assert d.last_error_class == "target_blocked"
    assert d.status == "retrying"
    assert receiver.received == []


async def test_unusable_urls_are_refused_without_a_request(rt: Runtime, engine) -> None:
    sub = await make_subscription(rt, await make_tenant(rt), "ftp://example.com")
    [delivery_id] = await make_deliveries(rt, sub)
    await enqueue_deliveries(rt, [delivery_id])

    await engine.run_until_idle()

    d = await delivery(rt, delivery_id)
    assert d.last_error_class == "invalid_target"
    assert d.attempt_limit == 2
