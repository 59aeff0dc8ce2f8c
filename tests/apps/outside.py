"""The outside world of the apps' tests, on loopback: Zapier's hook URLs (a catch server)
and the tenant's product (the upstream that live actions reach).

- ``POST /hooks/<name>``: a delivery; recorded with its headers and raw body, answered 200.
- ``GET /_next/hooks/<name>?after=N&timeout=S``: waits for the (N+1)th delivery to that
  path and answers it as ``{"headers", "content"}`` (404 when none came in time), so
  the Node tests wait for the delivery itself rather than for time to pass.
- ``POST /upstream/actions/<action>``: the product; answers the catalog's sample outputs
  and counts calls per Idempotency-Key.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.support.processes import free_port


@dataclass
class Delivery:
    headers: dict[str, str]
    content: str


@dataclass
class World:
    url: str = ""
    sample_outputs: Mapping[str, Any] = field(default_factory=dict)
    deliveries: dict[str, list[Delivery]] = field(default_factory=lambda: defaultdict(list))
    upstream_calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def hook(self, request: web.Request) -> web.Response:
        content = await request.text()
        async with self.changed:
            self.deliveries[request.path].append(
                Delivery({k.lower(): v for k, v in request.headers.items()}, content)
            )
            self.changed.notify_all()
        return web.json_response({"ok": True})

    async def next_delivery(self, request: web.Request) -> web.Response:
        path = request.path.removeprefix("/_next")
        after = int(request.query.get("after", "0"))
        timeout = min(float(request.query.get("timeout", "30")), 120.0)
        async with self.changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self.changed.wait_for(lambda: len(self.deliveries[path]) > after), timeout
                )
            got = self.deliveries[path]
            if len(got) <= after:
                return web.json_response({"error": "no delivery"}, status=404)
            d = got[after]
        return web.json_response({"headers": d.headers, "content": d.content})

    async def upstream(self, request: web.Request) -> web.Response:
        action = request.match_info["action"]
        key = request.headers.get("Idempotency-Key", "")
        self.upstream_calls[(action, key)] += 1
        if action not in self.sample_outputs:
            return web.json_response({"detail": "unknown action"}, status=404)
        return web.json_response({"outputs": self.sample_outputs[action]})


@contextlib.asynccontextmanager
async def outside_world(sample_outputs: Mapping[str, Any]) -> AsyncIterator[World]:
    world = World(sample_outputs=sample_outputs)
    app = web.Application()
    app.router.add_post("/hooks/{name}", world.hook)
    app.router.add_get("/_next/hooks/{name}", world.next_delivery)
    app.router.add_post("/upstream/actions/{action}", world.upstream)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    world.url = f"http://127.0.0.1:{port}"
    try:
        yield world
    finally:
        await runner.cleanup()
