"""Sandbox integrations: no outside call, deterministic outputs, the matching event
published with ``sandbox: true`` exactly once per Idempotency-Key."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import select

from hub.actions.catalog import ACTIONS
from hub.actions.handlers import ActionCall
from hub.actions.idempotency import fingerprint
from hub.actions.records import Owned
from hub.actions.sandbox import sandbox_handler
from hub.app import Hub
from hub.clock import FrozenClock
from hub.events.models import Event
from hub.runtime import Runtime
from tests.actions.conftest import LEAD, Caller, Upstream, new_key


async def events_of(rt: Runtime, tenant_id: str) -> list[Event]:
    async with rt.db.session() as session:
        return list(
            await session.scalars(
                select(Event).where(Event.tenant_id == tenant_id).order_by(Event.id)
            )
        )


async def test_create_lead_publishes_a_sandbox_lead_created(sandbox: Caller, rt: Runtime) -> None:
    key = new_key()
    r = await sandbox.act("create_lead", LEAD, key)
    assert r.status_code == 200, r.text
    (event,) = await events_of(rt, sandbox.tenant_id)
    assert event.type == "lead.created"
    assert event.sandbox is True
    assert event.integration_id == sandbox.id
    assert event.producer_id.startswith("action:idem_")
    assert event.data is not None
    assert event.data["lead_id"] == r.json()["outputs"]["lead_id"]
    assert event.data["company_name"] == LEAD["company_name"]
    assert event.data["contact"]["name"] == LEAD["contact_name"]
    assert [e["address"] for e in event.data["contact"]["emails"]] == LEAD["emails"]
    # Replays publish nothing more.
    await sandbox.act("create_lead", LEAD, key)
    assert len(await events_of(rt, sandbox.tenant_id)) == 1


async def test_each_action_publishes_its_catalog_event(sandbox: Caller, rt: Runtime) -> None:
    for name, spec in ACTIONS.items():
        if spec.event_type is None:
            continue
        r = await sandbox.act(name, spec.sample_input, new_key())
        assert r.status_code == 200, (name, r.text)
    published = [e.type for e in await events_of(rt, sandbox.tenant_id)]
    assert published == [
        "lead.created",
        "lead.updated",
        "appointment.scheduled",
        "message.sent",
        "message.sent",
    ]


async def test_a_retry_after_a_crash_does_not_publish_twice(
    sandbox: Caller, rt: Runtime, hub: Hub, clock: FrozenClock
) -> None:
    spec = ACTIONS["create_lead"]
    key = new_key()
    body: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(LEAD))
    owned = await hub.actions.store.claim(
        tenant_id=sandbox.tenant_id,
        integration_id=sandbox.id,
        key=key,
        action=spec.name,
        fingerprint=fingerprint(spec.name, body),
        now=clock.now(),
    )
    assert isinstance(owned, Owned)
    call = ActionCall(
        action=spec,
        inputs=msgspec.convert(body, spec.input_type),
        tenant_id=sandbox.tenant_id,
        integration_id=sandbox.id,
        execution_id=owned.execution_id,
        idempotency_key=key,
        idempotency_id=owned.record_id,
        correlation_id="req_crashed",
        sandbox=True,
        started_at=clock.now(),
    )
    crashed_outputs = await sandbox_handler(rt, call)  # published, then the process died
    clock.advance(rt.settings.idempotency_lock_seconds)
    r = await sandbox.act("create_lead", LEAD, key)
    assert r.status_code == 200
    assert r.json()["outputs"]["lead_id"] == crashed_outputs.lead_id
    assert len(await events_of(rt, sandbox.tenant_id)) == 1


async def test_publish_event_publishes_what_the_caller_gave(
    live: Caller, sandbox: Caller, upstream: Upstream, rt: Runtime
) -> None:
    data = dict(ACTIONS["publish_event"].sample_input)
    data["data"] = {
        "appointment_id": "apt_1",
        "lead": {"lead_id": "lead_1"},
        "kind": "meeting",
        "channel": "video",
        "scheduled_for": "2026-11-23T14:00:00-03:00",
    }
    data["type"] = "appointment.scheduled"
    key = new_key()
    r = await live.act("publish_event", data, key)
    assert r.status_code == 200, r.text
    outputs = r.json()["outputs"]
    assert outputs["type"] == "appointment.scheduled"
    assert outputs["duplicate"] is False
    (event,) = await events_of(rt, live.tenant_id)
    assert event.id == outputs["event_id"]
    assert event.sandbox is False
    assert event.data is not None
    assert event.data["kind"] == "meeting"
    assert upstream.calls == []  # served by the hub itself

    assert (await sandbox.act("publish_event", data, new_key())).status_code == 200
    (sandboxed,) = await events_of(rt, sandbox.tenant_id)
    assert sandboxed.sandbox is True


async def test_publish_event_rejects_unknown_types_and_bad_data(live: Caller, rt: Runtime) -> None:
    r = await live.act("publish_event", {"type": "lead.exploded", "data": {}}, new_key())
    assert r.status_code == 422
    assert r.json()["errors"] == [{"path": "$.type", "message": "not an event type of the catalog"}]
    r = await live.act(
        "publish_event", {"type": "appointment.scheduled", "data": {"kind": 3}}, new_key()
    )
    assert r.status_code == 422
    paths = {e["path"] for e in r.json()["errors"]}
    assert {"$.data.appointment_id", "$.data.kind"} <= paths
    assert await events_of(rt, live.tenant_id) == []
