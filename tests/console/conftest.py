"""A live hub for the console's tests: the API served by uvicorn on a loopback port and a
worker delivering, in this test's event loop on the run's backend (so the in-process
Redis of the SQLite run is shared, as ``hub dev`` shares it); Debian's Chromium driven by
Playwright, kept off the network (only loopback resolves)."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from aiohttp import web
from playwright.async_api import Browser, BrowserContext, async_playwright

from hub.app import Hub, build_hub, create_app
from hub.config import Settings
from hub.delivery.jobs import engine_in
from hub.worker.app import build_worker
from tests.conftest import BOOTSTRAP_TOKEN
from tests.delivery.support import Received, Receiver
from tests.support.databases import wipe
from tests.support.processes import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--no-first-run",
    "--metrics-recording-only",
    "--disable-domain-reliability",
    "--disable-features=MediaRouter,OptimizationHints,Translate",
    # Every name but loopback fails to resolve: nothing leaves the machine.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "console"
ADMIN = {"Authorization": f"Bearer {BOOTSTRAP_TOKEN}"}


@dataclass
class LiveHub:
    hub: Hub
    url: str
    api: httpx.AsyncClient  # the admin/integration API of the same hub, over HTTP


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[LiveHub]:
    hub = await build_hub(settings)
    await wipe(hub.rt.db)
    await hub.start()
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, hub=hub),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            # A browser's keep-alive connections never hold the shutdown up.
            timeout_graceful_shutdown=2,
        )
    )
    serving = asyncio.create_task(server.serve())
    worker = build_worker(hub, handle_signals=False, poll_delay=0.05)
    working = asyncio.create_task(worker.main())
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=url, timeout=30) as api:
        while not server.started:
            if serving.done():
                serving.result()
            await asyncio.sleep(0.02)
        try:
            yield LiveHub(hub, url, api)
        finally:
            # The worker first: one left running would sweep the run's shared database
            # under the next tests. Each step is bounded, so a stuck one cannot leak
            # the others into the session's event loop.
            working.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(working, 10)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(worker.close(), 10)
            await engine_in(worker.ctx).aclose()  # even if close() gave up waiting
            server.should_exit = True
            try:
                await asyncio.wait_for(serving, 10)
            except TimeoutError:
                server.force_exit = True
                serving.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await serving
            await hub.close()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: scripts/test installs Debian's chromium package")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        await launched.close()


@pytest.fixture
async def context(browser: Browser, live: LiveHub) -> AsyncIterator[BrowserContext]:
    """After ``live`` (so closed before it: no page holds the server's shutdown up)."""
    ctx = await browser.new_context(viewport={"width": 1360, "height": 900})
    await ctx.grant_permissions(["clipboard-read", "clipboard-write"])
    yield ctx
    await ctx.close()


class Switch:
    """A receiver that fails (503) until switched on, then answers 200."""

    def __init__(self) -> None:
        self.ok = False
        self.delivered: asyncio.Queue[Received] = asyncio.Queue()

    async def __call__(self, _receiver: Receiver, got: Received) -> web.StreamResponse:
        if not self.ok:
            return web.Response(status=503, text="receiver down for maintenance")
        self.delivered.put_nowait(got)
        return web.Response(status=200, text="ok")


@pytest.fixture
async def failing_receiver() -> AsyncIterator[tuple[Receiver, Switch]]:
    switch = Switch()
    receiver = Receiver(switch)
    await receiver.start("/hook")
    yield receiver, switch
    await receiver.stop()


async def eventually(check: Callable[[], Awaitable[Any]], what: str, timeout: float = 30) -> Any:
    """Wait for the system to reach a state (the worker runs on real time)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


def screenshots_wanted() -> bool:
    return os.environ.get("HUB_UPDATE_SCREENSHOTS") == "1"
