"""Meta's Graph API for WhatsApp messages, faked at its wire format on loopback.

``POST /{version}/{phone_number_id}/messages`` checks the bearer token (a wrong one
gets Meta's own 401 with error 190), records each call and answers a ``wamid`` the way
the Cloud API does. A test pushes canned replies (a status, one of Meta's error bodies,
headers, a delay) to make the next calls fail.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.support.processes import free_port

INVALID_TOKEN_BODY: dict[str, Any] = {
    "error": {
        "message": "Invalid OAuth access token - Cannot parse access token",
        "type": "OAuthException",
        "code": 190,
        "fbtrace_id": "Aq0Hsd3tqS3Lrt4fV9sQx1K",
    }
}


@dataclass(frozen=True)
class Call:
    version: str
    phone_number_id: str
    headers: dict[str, str]  # lower-case names
    body: Any


@dataclass(frozen=True)
class Canned:
    status: int
    body: Any  # JSON-able, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class FakeGraph:
    token: str
    url: str = ""
    calls: list[Call] = field(default_factory=list)
    replies: deque[Canned] = field(default_factory=deque)

    def reply_next(
        self,
        status: int,
        body: Any,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
    ) -> None:
        """Answer the next call with this instead of a success."""
        self.replies.append(Canned(status, body, dict(headers or {}), delay))

    async def messages(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = None
        self.calls.append(
            Call(
                version=request.match_info["version"],
                phone_number_id=request.match_info["phone_number_id"],
                headers={name.lower(): value for name, value in request.headers.items()},
                body=body,
            )
        )
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return web.json_response(INVALID_TOKEN_BODY, status=401)
        if self.replies:
            return await self._canned(self.replies.popleft())
        if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
            return web.json_response(
                {
                    "error": {
                        "message": "(#100) The parameter messaging_product is required.",
                        "type": "OAuthException",
                        "code": 100,
                        "fbtrace_id": "A5mP0nVb2xX1fGq7Yk3dWzT",
                    }
                },
                status=400,
            )
        to = str(body.get("to", ""))
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": f"wamid.fake{len(self.calls):04d}"}],
            }
        )

    async def _canned(self, canned: Canned) -> web.Response:
        if canned.delay:
            await asyncio.sleep(canned.delay)
        if isinstance(canned.body, bytes):
            return web.Response(body=canned.body, status=canned.status, headers=canned.headers)
        return web.json_response(canned.body, status=canned.status, headers=canned.headers)


async def start_graph(token: str) -> tuple[FakeGraph, web.AppRunner]:
    graph = FakeGraph(token=token)
    app = web.Application()
    app.router.add_post("/{version}/{phone_number_id}/messages", graph.messages)
    # A delayed reply must not hold the test's cleanup for long.
    runner = web.AppRunner(app, shutdown_timeout=2.0)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    graph.url = f"http://127.0.0.1:{port}"
    return graph, runner
