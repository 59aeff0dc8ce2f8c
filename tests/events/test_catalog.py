"""The catalog and ``publish_internal`` (the hub publishing its own events)."""

from __future__ import annotations

import httpx
import msgspec
import pytest

from hub.events.catalog import EVENT_TYPES
from hub.events.ingest import publish_internal
from hub.runtime import Runtime
from hub.sanitize import default_policies
from tests.conftest import Factory
from tests.events.helpers import all_deliveries, all_events, subscribe, subscriber

EXPECTED = {
    "lead.created",
    "lead.updated",
    "lead.status_changed",
    "message.received",
    "message.sent",
    "message.failed",
    "message.delivered",
    "message.read",
    "appointment.scheduled",
    "appointment.cancelled",
    "subscription.disabled",
    "connector.failing",
    "email.sent",
    "email.delivered",
    "email.bounced",
    "email.complained",
    "email.rejected",
}


def test_the_catalog_declares_the_event_types_with_valid_samples() -> None:
    assert set(EVENT_TYPES) == EXPECTED
    for name, event_type in EVENT_TYPES.items():
        assert event_type.name == name
        assert event_type.title
        assert event_type.description
        msgspec.convert(event_type.sample, event_type.data_type)


def test_every_catalog_event_type_has_a_policy() -> None:
    policies = default_policies()
    assert set(policies.event_types()) == set(EVENT_TYPES)
    for name in EVENT_TYPES:
        assert policies.compiled(name) is not None


async def test_publish_internal_stores_once_and_fans_out(
    client: httpx.AsyncClient, factory: Factory, rt: Runtime
) -> None:
    tenant = await factory.tenant()
    zap = await subscriber(factory, tenant["id"], mode="sandbox")
    await subscribe(client, zap["api_key"])
    kwargs = {
        "tenant_id": tenant["id"],
        "integration_id": zap["id"],
        "event_type": "lead.created",
        "producer_id": "sandbox:create_lead:1",
        "data": EVENT_TYPES["lead.created"].sample,
        "sandbox": True,
    }
    event_id = await publish_internal(rt, **kwargs)  # type: ignore[arg-type]
    assert event_id is not None
    assert event_id.startswith("evt_")
    assert await publish_internal(rt, **kwargs) is None  # type: ignore[arg-type]
    (stored,) = await all_events(rt)
    assert stored.id == event_id
    assert stored.sandbox is True
    (delivery,) = await all_deliveries(rt)
    assert delivery.event_id == event_id
    assert delivery.sandbox is True


async def test_publish_internal_refuses_what_the_catalog_does_not_allow(
    factory: Factory, rt: Runtime
) -> None:
    tenant = await factory.tenant()
    base = {
        "tenant_id": tenant["id"],
        "integration_id": "int_x",
        "producer_id": "p",
        "sandbox": False,
    }
    with pytest.raises(ValueError, match="unknown event type"):
        await publish_internal(rt, event_type="lead.exploded", data={}, **base)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="does not fit"):
        await publish_internal(rt, event_type="lead.created", data={"lead_id": 1}, **base)  # type: ignore[arg-type]
    assert await all_events(rt) == []


async def test_subscription_disabled_as_the_delivery_engine_publishes_it(
    factory: Factory, rt: Runtime
) -> None:
    tenant = await factory.tenant()
    zap = await subscriber(factory, tenant["id"])
    event_id = await publish_internal(
        rt,
        tenant_id=tenant["id"],
        integration_id=zap["id"],
        event_type="subscription.disabled",
        producer_id="subscription.disabled:sub_1:1",
        data={
            "subscription_id": "sub_1",
            "event_type": "lead.created",
            "reason": "target failing",
            "failing_since": None,
            "disabled_at": rt.clock.now().isoformat(),
        },
        sandbox=False,
    )
    assert event_id is not None
