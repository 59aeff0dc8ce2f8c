"""``hub dlq list`` and ``hub dlq replay``, run as the real command line."""

from __future__ import annotations

import asyncio
import json
import sys

from sqlalchemy import select

from hub.audit.models import AuditEntry
from hub.clock import FrozenClock
from hub.config import Settings
from hub.delivery.dispatch import enqueue_deliveries
from hub.delivery.engine import DeliveryEngine
from hub.delivery.sweeper import sweep
from hub.runtime import Runtime
from tests.delivery.support import (
    ROOT,
    hub_env,
    make_deliveries,
    make_subscription,
    make_tenant,
    scripted,
    statuses,
)


async def hub(settings: Settings, *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub",
        *args,
        env=hub_env(settings),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_list_and_replay_from_the_command_line(
    rt: Runtime, settings: Settings, clock: FrozenClock, engine: DeliveryEngine, receivers
) -> None:
    receiver = await receivers(scripted([400, 400, 200]))
    sub = await make_subscription(rt, await make_tenant(rt), receiver.url)
    ids = await make_deliveries(rt, sub, 2)
    await enqueue_deliveries(rt, ids)
    await engine.run_until_idle()
    clock.advance(10)
    await engine.run_until_idle()
    assert await statuses(rt, ids) == {"dead": 2}

    code, out, err = await hub(settings, "dlq", "list", "--tenant", sub.tenant_id, "--json")
    assert code == 0, err
    listed = [json.loads(line) for line in out.splitlines()]
    assert sorted(d["id"] for d in listed) == sorted(ids)
    assert {d["last_error_class"] for d in listed} == {"http_400"}

    code, out, err = await hub(settings, "dlq", "replay")
    assert code == 2
    assert "--all" in err

    code, out, err = await hub(
        settings, "dlq", "replay", "--subscription", sub.id, "--error-class", "http_400"
    )
    assert code == 0, err
    assert out.startswith("queued 2, refused 0")

    assert await statuses(rt, ids) == {"pending": 2}
    await sweep(rt)  # the CLI's hand-off may not reach this process's Redis stand-in
    await engine.run_until_idle()
    assert await statuses(rt, ids) == {"delivered": 2}
    async with rt.db.session() as session:
        [entry] = await session.scalars(
            select(AuditEntry).where(AuditEntry.action == "deliveries.replay")
        )
    assert entry.actor == "cli"
    assert entry.details["filter"]["subscription_id"] == sub.id

    code, out, err = await hub(settings, "dlq", "list")
    assert code == 0, err
    assert out.strip().endswith("0 deliveries")
