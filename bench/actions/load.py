"""Open-loop load at a constant rate (latency without coordinated omission).

``python -m bench.actions.load URL RATE SECONDS HEADERS_JSON BODY_FILE`` prints one
JSON line: sent, ok, errors, achieved rate, latency percentiles (ms). Each request
gets a fresh ``Idempotency-Key``. Latency is measured from the moment the request
was due, so a stalled server shows up in the tail instead of slowing the sender.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from pathlib import Path

import aiohttp


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


async def run(url: str, rate: float, seconds: float, headers: dict[str, str], body: bytes) -> dict:  # type: ignore[type-arg]
    latencies: list[float] = []
    errors = 0
    prefix = uuid.uuid4().hex[:12]
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(i: int, due: float) -> None:
            nonlocal errors
            sent = {**headers, "Idempotency-Key": f"open-{prefix}-{i}"}
            try:
                async with session.post(url, data=body, headers=sent) as response:
                    await response.read()
                    if response.status != 200:
                        errors += 1
                        return
            except aiohttp.ClientError:
                errors += 1
                return
            latencies.append((time.perf_counter() - due) * 1000.0)

        start = time.perf_counter()
        total = int(rate * seconds)
        tasks = []
        for i in range(total):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i, due)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "sent": total,
        "ok": len(latencies),
        "errors": errors,
        "rate": round(total / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.50), 2),
        "p90_ms": round(percentile(latencies, 0.90), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "max_ms": round(latencies[-1], 2) if latencies else None,
    }


def main() -> None:
    url, rate, seconds, headers, body_file = sys.argv[1:6]
    result = asyncio.run(
        run(url, float(rate), float(seconds), json.loads(headers), Path(body_file).read_bytes())
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
