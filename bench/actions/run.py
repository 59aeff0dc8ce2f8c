"""Actions benchmark: ``python -m bench.actions [--seconds 8] [--connections 32]``.

One API process (granian, one worker, the same settings for every server), load from
a separate process on loopback, Postgres + Redis as in production:

(a) a bare litestar + msgspec POST endpoint (``bench/actions/bare.py``);
(b) sandbox ``create_lead`` with a fresh Idempotency-Key per request (claim, validate,
    charge the rate limits, simulate, publish ``lead.created``, store the answer);
(c) replays of existing keys;
(d) latency of (b) at half its peak rate (open loop, ``bench/actions/load.py``).

Targets (the budget in docs/performance.md, "Actions"): (b)/(a) >= 0.25,
(c)/(a) >= 0.5, p99 of (d) <= 50 ms. Throughput is measured with ``wrk`` when it is
installed (``apt-get install wrk``), else with the open-loop generator driven hard. The
last line prints the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec

from hub.admin.auth import CLI_ADMIN
from hub.config import load_settings
from hub.security.encryption import generate_key
from hub.store.engine import Database, normalize_url
from hub.store.migrate import upgrade
from hub.tenancy import service
from hub.tenancy.schemas import IntegrationCreate, Limits, TenantCreate

ROOT = Path(__file__).resolve().parents[2]
LEAD = {
    "company_name": "Exemplo Comércio Ltda",
    "contact_name": "João Silva",
    "document": "12345678000199",
    "emails": ["joao.silva@exemplo.com.br"],
    "phones": ["+5585999990000"],
    "tags": ["inbound"],
    "source": "website-form",
}
UNLIMITED = Limits(actions_per_minute=10_000_000, actions_per_day=10_000_000)
REPLAY_KEYS = 500


def _dsn(url: str) -> str:
    return normalize_url(url).replace("postgresql+asyncpg://", "postgresql://", 1)


async def _create_database(base: str) -> str:
    name = f"hub_bench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(_dsn(base))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return normalize_url(base).rpartition("/")[0] + "/" + name


async def _drop_database(base: str, url: str) -> None:
    conn = await asyncpg.connect(_dsn(base))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{url.rpartition("/")[2]}" WITH (FORCE)')
    finally:
        await conn.close()


async def _provision(env: dict[str, str]) -> str:
    """Migrate, then a tenant and a sandbox integration without practical limits."""
    from hub.runtime import build_runtime

    settings = load_settings(env)
    db = Database(settings.database_url)
    try:
        await upgrade(db)
    finally:
        await db.dispose()
    rt = await build_runtime(settings)
    try:
        tenant = await service.create_tenant(
            rt, CLI_ADMIN, TenantCreate(name="Bench", limits=UNLIMITED)
        )
        created = await service.create_integration(
            rt,
            CLI_ADMIN,
            tenant.id,
            IntegrationCreate(
                name="Bench", kind="partner", mode="sandbox", scopes=["actions:*"], limits=UNLIMITED
            ),
        )
        return created.api_key
    finally:
        await rt.close()


async def _clear_redis(url: str, prefix: str) -> None:
    import redis.asyncio as redis

    client = redis.Redis.from_url(url)
    try:
        async for key in client.scan_iter(match=f"{prefix}*", count=1000):
            await client.delete(key)
    finally:
        await client.aclose()


def cpu_seconds(root: int) -> float:
    """CPU time (user + system) of a process and its descendants, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in tree:
                tree.add(child)
                frontier.append(child)
    return sum(times.get(pid, 0.0) for pid in tree)


@contextlib.contextmanager
def serving(app: str, port: int, env: dict[str, str], log: Path) -> Iterator[tuple[str, int]]:
    argv = [
        str(Path(sys.executable).with_name("granian")),
        "--interface",
        "asgi",
        "--workers",
        "1",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
        app,
    ]
    with log.open("wb") as sink:
        proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=sink, stderr=sink)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{app} exited:\n{log.read_text()}")
            with contextlib.suppress(httpx.TransportError):
                httpx.get(f"{base}/healthz", timeout=1.0)
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{app} did not start:\n{log.read_text()}")
            time.sleep(0.1)
        yield base, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _lua_headers(headers: dict[str, str]) -> str:
    return "\n".join(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items())


def wrk_script(headers: dict[str, str], body: bytes, keys: str) -> str:
    """keys: 'fresh' (a new Idempotency-Key per request), 'replay' (cycle through the
    pre-made ones), or 'none'."""
    run = uuid.uuid4().hex[:10]
    lines = [
        'wrk.method = "POST"',
        f"wrk.body = [==[{body.decode()}]==]",
        _lua_headers(headers),
        "local counter = 0",
        "local thread_id = 0",
        "local n = 0",
        "setup = function(thread) n = n + 1; thread:set('tid', n) end",
        "init = function(args) thread_id = tid or 0 end",
    ]
    if keys == "fresh":
        lines.append(
            "request = function() counter = counter + 1; "
            f'wrk.headers["Idempotency-Key"] = "{run}-" .. thread_id .. "-" .. counter; '
            "return wrk.format() end"
        )
    elif keys == "replay":
        lines.append(
            "request = function() counter = counter + 1; "
            f'wrk.headers["Idempotency-Key"] = "replay-" .. (counter % {REPLAY_KEYS}); '
            "return wrk.format() end"
        )
    return "\n".join(lines) + "\n"


def run_wrk(url: str, script: str, seconds: float, connections: int) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
        path = f.name
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--latency",
                "-s",
                path,
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(path)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    p99_ms = None
    if p99:
        value, unit = float(p99.group(1)), p99.group(2)
        p99_ms = value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    return {
        "rate": rate,
        "requests": total,
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(0) if errors else "",
        "p99_ms_closed_loop": p99_ms,
    }


def run_open_loop(url: str, rate: float, seconds: float, headers: dict[str, str]) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("wb", suffix=".json", delete=False) as f:
        f.write(msgspec.json.encode(LEAD))
        body_file = f.name
    try:
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.actions.load",
                url,
                str(rate),
                str(seconds),
                json.dumps(headers),
                body_file,
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(body_file)
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def measure(
    url: str, pid: int, headers: dict[str, str], keys: str, seconds: float, connections: int
) -> dict[str, Any]:
    """Throughput, and the server's CPU per request (robust on a machine others share)."""
    if not shutil.which("wrk"):
        raise SystemExit("install wrk (apt-get install wrk) to measure throughput")
    body = msgspec.json.encode(LEAD)
    run_wrk(url, wrk_script(headers, body, keys), min(2.0, seconds), connections)  # warm-up
    before = cpu_seconds(pid)
    result = run_wrk(url, wrk_script(headers, body, keys), seconds, connections)
    result["cpu_ms_per_request"] = round(
        (cpu_seconds(pid) - before) * 1000 / max(1, result["requests"]), 3
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.actions", description=__doc__)
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each run (<= 10)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("HUB_TEST_DATABASE_URL") or "postgresql://root@127.0.0.1:5432/test",
        help="a Postgres to create the benchmark database next to",
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("HUB_TEST_REDIS_URL") or "redis://127.0.0.1:6379/0"
    )
    parser.add_argument("--port", type=int, default=18431)
    args = parser.parse_args(argv)

    base_db = args.database_url
    database_url = asyncio.run(_create_database(base_db))
    prefix = f"hubbench:{uuid.uuid4().hex[:8]}:"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(
        {
            "HUB_ENV": "production",
            "HUB_DATABASE_URL": database_url,
            "HUB_REDIS_URL": args.redis_url,
            "HUB_REDIS_PREFIX": prefix,
            "HUB_SECRET_KEYS": generate_key(),
            "HUB_LOG_LEVEL": "WARNING",
        }
    )
    results: dict[str, Any] = {}
    try:
        api_key = asyncio.run(_provision(env))
        headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
        logs = Path(tempfile.mkdtemp(prefix="bench-actions-"))

        with serving("bench.actions.bare:app", args.port, env, logs / "bare.log") as (base, pid):
            results["a_bare"] = measure(
                f"{base}/bare", pid, headers, "none", args.seconds, args.connections
            )

        with serving("hub.server:app", args.port + 1, env, logs / "hub.log") as (base, pid):
            url = f"{base}/v1/actions/create_lead"
            with httpx.Client(headers=headers, timeout=30) as http:
                for i in range(REPLAY_KEYS):
                    r = http.post(
                        url,
                        content=msgspec.json.encode(LEAD),
                        headers={"Idempotency-Key": f"replay-{i}"},
                    )
                    r.raise_for_status()
            results["b_fresh"] = measure(url, pid, headers, "fresh", args.seconds, args.connections)
            results["c_replay"] = measure(
                url, pid, headers, "replay", args.seconds, args.connections
            )
            half = results["b_fresh"]["rate"] / 2
            results["d_half_rate"] = run_open_loop(url, half, args.seconds, headers)
    finally:
        asyncio.run(_clear_redis(args.redis_url, prefix))
        asyncio.run(_drop_database(base_db, database_url))

    a, b, c = (results[k]["rate"] for k in ("a_bare", "b_fresh", "c_replay"))
    d = results["d_half_rate"]
    p99_ok = "ok" if d["p99_ms"] <= 50 else "MISS"
    for name, figures in results.items():
        print(f"{name:12} {json.dumps(figures)}")
    checks = [
        f"(b)/(a)={b / a:.2f} (>=0.25 {'ok' if b / a >= 0.25 else 'MISS'})",
        f"(c)/(a)={c / a:.2f} (>=0.5 {'ok' if c / a >= 0.5 else 'MISS'})",
        f"p99(b@{d['rate']:.0f}/s)={d['p99_ms']:.1f}ms (<=50 {p99_ok})",
    ]
    cpu = {k: results[k]["cpu_ms_per_request"] for k in ("a_bare", "b_fresh", "c_replay")}
    print(
        "server CPU per request (ms): "
        + " ".join(f"{k}={v}" for k, v in cpu.items())
        + f"  CPU-bound ratios: (b)/(a)={cpu['a_bare'] / cpu['b_fresh']:.2f}"
        + f" (c)/(a)={cpu['a_bare'] / cpu['c_replay']:.2f}"
    )
    print(f"a={a:.0f}/s b={b:.0f}/s c={c:.0f}/s  " + "  ".join(checks))
    return 0
