"""A receiver that answers 200 at once: ``python -m bench.delivery.sink --port N``.

Runs in its own process so the hub's worker and the bare client pay for their
side only; it stands in for a provider's send API as well (``bench.email``: every
answer names an ``X-Message-Id``). ``GET /count`` answers how many POSTs it has received.
"""

from __future__ import annotations

import argparse

from aiohttp import web

received = 0


async def hook(request: web.Request) -> web.Response:
    global received
    await request.read()
    received += 1
    # A provider API's answer too (bench.email): SendGrid names the message it accepted.
    return web.Response(text="ok", headers={"X-Message-Id": f"sink{received}"})


async def count(_request: web.Request) -> web.Response:
    return web.Response(text=str(received))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = web.Application()
    app.router.add_get("/count", count)
    app.router.add_post("/{tail:.*}", hook)
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
