"""A hub with the fake channel registered, served over real HTTP on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn

from hub.app import Hub, build_hub, create_app
from hub.clock import FrozenClock
from hub.config import Settings
from tests.connectors.fake_channel import FakeChannel, FakeProvider, start_provider
from tests.support.databases import wipe
from tests.support.processes import free_port


@pytest.fixture
def channel() -> FakeChannel:
    return FakeChannel()


@pytest.fixture
async def hub(settings: Settings, clock: FrozenClock, channel: FakeChannel) -> AsyncIterator[Hub]:
    """The hub every process builds, plus one connector: registered, nothing else."""
    built = await build_hub(settings, clock=clock, connectors=[channel])
    await wipe(built.rt.db)
    await built.start()
    yield built
    await built.close()


@pytest.fixture
async def provider() -> AsyncIterator[FakeProvider]:
    provider, runner = await start_provider()
    try:
        yield provider
    finally:
        await runner.cleanup()


@pytest.fixture
async def http(hub: Hub) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the hub served by uvicorn on a loopback port (real HTTP)."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(hub.settings, hub=hub),
            host="127.0.0.1",
            port=port,
            lifespan="off",
            log_level="warning",
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", trust_env=False) as c:
            yield c
    finally:
        server.should_exit = True
        await task
