"""The open-loop generator of ``bench.inbound``: one request every ``1/rate`` seconds.

Each request is built when it is due (so a webhook can carry a fresh timestamp and
its own signature), and its latency runs from that due moment to the last byte of
the answer: a stalled server shows up in the tail instead of slowing the sender
(no coordinated omission). The same generator drives the baseline and the hub.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp

# (body, headers) of the request numbered n.
RequestFactory = Callable[[int], tuple[bytes, dict[str, str]]]
CONNECTION_LIMIT = 256
TIMEOUT_SECONDS = 30.0


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (nan when empty)."""
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


@dataclass
class LoadResult:
    sent: int = 0
    ok_2xx: int = 0
    status_5xx: int = 0
    no_answer: int = 0  # a transport error or the client's timeout
    other_statuses: dict[int, int] = field(default_factory=dict)  # non-2xx, non-5xx
    send_span_s: float = 0.0  # from the first request's due moment to the last's send
    latencies_ms: list[float] = field(default_factory=list)  # of the 2xx answers
    due_s: list[float] = field(default_factory=list)  # when each of them was due

    @property
    def non_2xx(self) -> int:
        return self.sent - self.ok_2xx

    def p(self, q: float) -> float:
        """The q-quantile of the 2xx latencies (ms)."""
        return percentile(sorted(self.latencies_ms), q)

    def p95_by_window(self, window_s: float) -> list[float]:
        """p95 (ms) of the 2xx answers due in each successive ``window_s`` seconds:
        a steady rise is the server falling behind, a spike a stall."""
        windows: dict[int, list[float]] = {}
        for due, latency in zip(self.due_s, self.latencies_ms, strict=True):
            windows.setdefault(int(due // window_s), []).append(latency)
        return [round(percentile(sorted(windows[k]), 0.95), 1) for k in sorted(windows)]

    def summary(self) -> dict[str, object]:
        lat = sorted(self.latencies_ms)
        return {
            "sent": self.sent,
            "2xx": self.ok_2xx,
            "non_2xx": self.non_2xx,
            "5xx": self.status_5xx,
            "no_answer": self.no_answer,
            "other": {str(k): v for k, v in sorted(self.other_statuses.items())},
            "rate": round(self.sent / self.send_span_s, 1) if self.send_span_s else None,
            "p50_ms": round(percentile(lat, 0.50), 2),
            "p95_ms": round(percentile(lat, 0.95), 2),
            "p99_ms": round(percentile(lat, 0.99), 2),
            "max_ms": round(lat[-1], 2) if lat else None,
        }


async def open_loop(
    url: str, rate: float, seconds: float, make: RequestFactory, *, first: int = 0
) -> LoadResult:
    """POST ``rate * seconds`` requests to ``url`` on schedule; ``make(n)`` builds the
    n-th (numbered from ``first``)."""
    result = LoadResult()
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)
    connector = aiohttp.TCPConnector(limit=CONNECTION_LIMIT)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def one(n: int, due: float, offset: float) -> None:
            body, headers = make(n)
            try:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError):
                result.no_answer += 1
                return
            if 200 <= status < 300:
                result.ok_2xx += 1
                result.latencies_ms.append((time.perf_counter() - due) * 1000.0)
                result.due_s.append(offset)
            elif status >= 500:
                result.status_5xx += 1
            else:
                result.other_statuses[status] = result.other_statuses.get(status, 0) + 1

        total = int(rate * seconds)
        tasks: list[asyncio.Task[None]] = []
        start = time.perf_counter()
        for i in range(total):
            offset = i / rate
            due = start + offset
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(first + i, due, offset)))
        # Like `due`, the span counts the first request's interval: total / span ~ rate.
        result.send_span_s = time.perf_counter() - start + 1 / rate
        result.sent = total
        await asyncio.gather(*tasks)
    return result
