"""One key, many requests at once, two API processes on one database: the handler runs once."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import httpx
import msgspec
import pytest

from hub.config import Settings
from tests.actions.conftest import LEAD, Caller, Upstream, new_key
from tests.support.processes import free_port, hub_env, serving, uvicorn_argv

REQUESTS = 200


@pytest.mark.slow
async def test_concurrent_requests_across_two_processes_run_the_handler_once(
    live: Caller, upstream: Upstream, settings: Settings, tmp_path: Path
) -> None:
    # The one upstream call is slow, so most requests arrive while it runs.
    upstream.reply(200, delay=0.5)
    env = hub_env(settings)
    async with contextlib.AsyncExitStack() as stack:
        bases = []
        for name in ("api-a", "api-b"):
            port = free_port()
            bases.append(
                await stack.enter_async_context(
                    serving(uvicorn_argv(port), env=env, port=port, log=tmp_path / f"{name}.log")
                )
            )
        key = new_key()
        body = msgspec.json.encode(LEAD)
        headers = {
            "authorization": f"Bearer {live.api_key}",
            "content-type": "application/json",
            "idempotency-key": key,
        }
        limits = httpx.Limits(max_connections=REQUESTS, max_keepalive_connections=REQUESTS)
        async with httpx.AsyncClient(timeout=60, limits=limits) as http:
            gate = asyncio.Event()

            async def one(i: int) -> httpx.Response:
                await gate.wait()
                url = f"{bases[i % 2]}/v1/actions/create_lead"
                return await http.post(url, content=body, headers=headers)

            tasks = [asyncio.create_task(one(i)) for i in range(REQUESTS)]
            gate.set()
            responses = await asyncio.gather(*tasks)

            statuses = [r.status_code for r in responses]
            assert set(statuses) <= {200, 409}, statuses
            assert 200 in statuses
            assert 409 in statuses  # the race really happened
            firsts = {r.content for r in responses if r.status_code == 200}
            assert len(firsts) == 1
            for r in responses:
                if r.status_code == 409:
                    assert r.json()["code"] == "IDEMPOTENCY_IN_PROGRESS"
                    assert r.headers["retry-after"]
            assert len(upstream.calls) == 1

            for base in bases:
                replay = await http.post(
                    f"{base}/v1/actions/create_lead", content=body, headers=headers
                )
                assert replay.status_code == 200
                assert replay.content in firsts
                assert replay.headers["idempotent-replayed"] == "true"
    assert len(upstream.calls) == 1
