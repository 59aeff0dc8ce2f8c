"""Idempotency-Key semantics: replay, conflict, reuse, release on retriable failure,
lock expiry, record expiry — Postgres (or SQLite) as the arbiter."""

from __future__ import annotations

import asyncio

import httpx
import msgspec
from sqlalchemy import select

from hub.actions.jobs import purge_actions
from hub.actions.models import Execution, IdempotencyRecord
from hub.app import CRON_JOBS, Hub
from hub.clock import FrozenClock
from hub.runtime import Runtime
from tests.actions.conftest import LEAD, Caller, Upstream, count_rows, new_key
from tests.conftest import Factory, bearer


async def test_thousand_sequential_retries_call_upstream_once(
    live: Caller, upstream: Upstream, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    # Retries are replays: they are not charged, so the default limits do not interfere.
    key = new_key()
    first = await live.act("create_lead", LEAD, key)
    assert first.status_code == 200
    for _ in range(999):
        again = await live.act("create_lead", LEAD, key)
        assert again.status_code == 200
        assert again.content == first.content
        assert again.headers["idempotent-replayed"] == "true"
    assert len(upstream.calls) == 1


async def test_same_key_other_body_is_key_reused(live: Caller, upstream: Upstream) -> None:
    key = new_key()
    assert (await live.act("create_lead", LEAD, key)).status_code == 200
    r = await live.act("create_lead", {**LEAD, "company_name": "Outra Ltda"}, key)
    assert r.status_code == 422
    assert r.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    # Another action with the same key and body is another request too.
    r = await live.act("send_email", {"to": ["a@b.example"], "subject": "x", "text": "y"}, key)
    assert r.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert len(upstream.calls) == 1


async def test_keys_are_scoped_per_integration(
    live: Caller, factory: Factory, client: httpx.AsyncClient, upstream: Upstream
) -> None:
    key = new_key()
    other = Caller(client, await factory.integration(live.tenant_id, name="Other"), live.tenant_id)
    a = await live.act("create_lead", LEAD, key)
    b = await other.act("create_lead", {**LEAD, "company_name": "Outra Ltda"}, key)
    assert a.status_code == b.status_code == 200
    assert a.json()["execution_id"] != b.json()["execution_id"]
    assert "idempotent-replayed" not in b.headers
    assert len(upstream.calls) == 2


async def test_quoted_and_bare_forms_name_one_key(live: Caller, upstream: Upstream) -> None:
    first = await live.act("create_lead", LEAD, "order-4711")
    quoted = await live.act("create_lead", LEAD, '"order-4711"')
    assert quoted.headers["idempotent-replayed"] == "true"
    assert quoted.content == first.content
    assert len(upstream.calls) == 1


async def test_in_progress_is_409_with_retry_after(live: Caller, upstream: Upstream) -> None:
    upstream.reply(200, delay=0.5)
    key = new_key()
    first = asyncio.create_task(live.act("create_lead", LEAD, key))
    while not upstream.calls:
        await asyncio.sleep(0.01)
    second = await live.act("create_lead", LEAD, key)
    assert second.status_code == 409
    assert second.json()["code"] == "IDEMPOTENCY_IN_PROGRESS"
    assert int(second.headers["retry-after"]) >= 1
    done = await first
    assert done.status_code == 200
    third = await live.act("create_lead", LEAD, key)
    assert third.content == done.content
    assert len(upstream.calls) == 1


async def test_retriable_failure_releases_the_key_and_upstream_sees_the_same_key(
    live: Caller, upstream: Upstream, client: httpx.AsyncClient, rt: Runtime
) -> None:
    upstream.reply(503, {"detail": "database restarting"})
    key = new_key()
    first = await live.act("create_lead", LEAD, key)
    assert first.status_code == 502
    assert first.json()["code"] == "UPSTREAM_ERROR"
    second = await live.act("create_lead", LEAD, key)
    assert second.status_code == 200, second.text
    assert "idempotent-replayed" not in second.headers
    later = await live.act("create_lead", LEAD, key)
    assert later.status_code == 200
    assert later.content == second.content
    assert later.headers["idempotent-replayed"] == "true"

    assert len(upstream.calls) == 2
    assert {c.headers["idempotency-key"] for c in upstream.calls} == {key}
    # The same message for Standard Webhooks receivers: one webhook-id across retries.
    assert len({c.headers["webhook-id"] for c in upstream.calls}) == 1
    async with rt.db.session() as session:
        executions = list(await session.scalars(select(Execution).order_by(Execution.attempt)))
    assert [(e.status, e.error_code, e.attempt) for e in executions] == [
        ("failed", "UPSTREAM_ERROR", 1),
        ("succeeded", None, 2),
    ]


async def test_definitive_rejection_is_stored_and_replayed(
    live: Caller, upstream: Upstream
) -> None:
    upstream.reply(
        409 + 1,  # 410 Gone: a definitive answer
        {"detail": "lead was merged", "errors": [{"path": "$.lead_id", "message": "merged"}]},
    )
    key = new_key()
    body = {"lead_id": "lead_1", "status": "won"}
    first = await live.act("update_lead", body, key)
    assert first.status_code == 422
    problem = first.json()
    assert problem["code"] == "VALIDATION_FAILED"
    assert "lead was merged" in problem["detail"]
    assert problem["errors"] == [{"path": "$.lead_id", "message": "merged"}]
    assert problem["upstream_status"] == 410
    again = await live.act("update_lead", body, key)
    assert again.status_code == 422
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["content-type"].startswith("application/problem+json")
    assert len(upstream.calls) == 1


async def test_validation_failure_is_stored_and_replayed_without_running(
    live: Caller, upstream: Upstream, rt: Runtime
) -> None:
    key = new_key()
    bad = {**LEAD, "phones": ["85 9999-0000"], "emails": "not-a-list"}
    first = await live.act("create_lead", bad, key)
    assert first.status_code == 422
    paths = {e["path"] for e in first.json()["errors"]}
    assert paths == {"$.phones[0]", "$.emails"}
    again = await live.act("create_lead", bad, key)
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    # A corrected body is a new request: it needs a new key.
    fixed = await live.act("create_lead", LEAD, key)
    assert fixed.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert upstream.calls == []
    assert await count_rows(rt) == (1, 0)  # the stored answer; no execution ran


async def test_crashed_request_lock_expires(
    live: Caller, upstream: Upstream, rt: Runtime, hub: Hub, clock: FrozenClock
) -> None:
    """A process that died mid-request leaves a running record; after the lock it runs again."""
    from hub.actions.idempotency import fingerprint

    key = new_key()
    body = msgspec.json.decode(msgspec.json.encode(LEAD))
    crashed = await hub.actions.store.claim(
        tenant_id=live.tenant_id,
        integration_id=live.id,
        key=key,
        action="create_lead",
        fingerprint=fingerprint("create_lead", body),
        now=clock.now(),
    )
    assert crashed.__class__.__name__ == "Owned"  # ...and then the process died

    r = await live.act("create_lead", LEAD, key)
    assert r.status_code == 409
    clock.advance(rt.settings.idempotency_lock_seconds - 1)
    assert (await live.act("create_lead", LEAD, key)).status_code == 409
    clock.advance(1)
    r = await live.act("create_lead", LEAD, key)
    assert r.status_code == 200, r.text
    assert len(upstream.calls) == 1
    # The crashed request can no longer store its answer over its successor's.
    from hub.actions.records import Answer

    assert not await hub.actions.store.complete(
        crashed,
        Answer(200, "application/json", b"{}"),
        None,  # type: ignore[arg-type]
    )
    replay = await live.act("create_lead", LEAD, key)
    assert replay.content == r.content


async def test_records_expire_after_the_window_and_are_purged(
    live: Caller, upstream: Upstream, rt: Runtime, clock: FrozenClock
) -> None:
    key = new_key()
    first = await live.act("create_lead", LEAD, key)
    clock.advance(rt.settings.idempotency_ttl_seconds - 1)
    assert (await live.act("create_lead", LEAD, key)).content == first.content
    clock.advance(1)
    # Past the window the key is new again: it runs (once more) and may take another body.
    again = await live.act("create_lead", {**LEAD, "company_name": "Outra Ltda"}, key)
    assert again.status_code == 200
    assert "idempotent-replayed" not in again.headers
    assert len(upstream.calls) == 2

    other = new_key()
    await live.act("create_lead", LEAD, other)
    clock.advance(rt.settings.idempotency_ttl_seconds + 1)
    result = await purge_actions({"rt": rt})
    assert result["idempotency_records"] == 2
    async with rt.db.session() as session:
        assert list(await session.scalars(select(IdempotencyRecord))) == []


async def test_running_execution_is_visible(
    live: Caller, upstream: Upstream, client: httpx.AsyncClient, rt: Runtime
) -> None:
    upstream.reply(200, delay=0.4)
    task = asyncio.create_task(live.act("create_lead", LEAD, new_key()))
    while not upstream.calls:
        await asyncio.sleep(0.01)
    execution_id = upstream.calls[0].json["execution_id"]
    running = await client.get(f"/v1/executions/{execution_id}", headers=bearer(live.api_key))
    assert running.status_code == 200
    assert running.json()["status"] == "running"
    assert (await task).json()["execution_id"] == execution_id


def test_the_purge_runs_as_an_arq_cron_job() -> None:
    assert any(job.name == "cron:actions_purge" for job in CRON_JOBS)
