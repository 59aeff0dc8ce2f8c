"""What every open-loop benchmark in ``bench/`` shares: its processes, the bare
baseline's requests, the measured phase, the clean-up and the report's pieces."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import msgspec

from bench.actions.run import LEAD, cpu_seconds
from bench.inbound.load import LoadResult, RequestFactory, open_loop

ROOT = Path(__file__).resolve().parents[1]


def bare_requests() -> RequestFactory:
    body = msgspec.json.encode(LEAD)
    headers = {"content-type": "application/json"}

    def make(_n: int) -> tuple[bytes, dict[str, str]]:
        return body, headers

    return make


@contextlib.contextmanager
def process(argv: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=out, stderr=out)
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_http(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited:\n{log.read_text()}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not come up:\n{log.read_text()}")
        time.sleep(0.1)


async def clear_redis(url: str, prefix: str) -> int:
    import redis.asyncio as redis

    client = redis.Redis.from_url(url)
    deleted = 0
    try:
        async for key in client.scan_iter(match=f"{prefix}*", count=1000):
            deleted += int(await client.delete(key))
    finally:
        await client.aclose()
    return deleted


def phase(
    url: str,
    rate: float,
    seconds: float,
    warmup: float,
    requests: tuple[RequestFactory, RequestFactory],
    pids: list[int],
) -> tuple[LoadResult, list[float]]:
    """A warm-up, then the measured load; with the CPU seconds each of ``pids`` (and
    its descendants) spent during the measured load."""
    make, warm = requests
    if warmup > 0:
        asyncio.run(open_loop(url, rate, warmup, warm))
    before = [cpu_seconds(pid) for pid in pids]
    result = asyncio.run(open_loop(url, rate, seconds, make))
    return result, [cpu_seconds(pid) - b for pid, b in zip(pids, before, strict=True)]


def per_request_ms(cpu_s: float, n: int) -> float:
    return round(cpu_s * 1000 / max(1, n), 3)


def progress(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())
