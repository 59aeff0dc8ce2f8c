"""Real hub processes for tests: the CLI, a second API server, ``hub dev``.

They share the test's database and Redis prefix through the environment, the
way separate production processes share them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from hub.config import Settings

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def clean_env(**values: str) -> dict[str, str]:
    """The current environment without any ``HUB_*`` variable, plus ``values``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(values)
    return env


def hub_env(settings: Settings, **overrides: str) -> dict[str, str]:
    """The environment of a hub process that shares this test's database and Redis."""
    values = {
        "HUB_ENV": settings.env,
        "HUB_DATABASE_URL": settings.database_url,
        "HUB_REDIS_URL": settings.redis_url,
        "HUB_REDIS_PREFIX": settings.redis_prefix,
        "HUB_SECRET_KEYS": ",".join(settings.secret_keys),
        "HUB_ALLOW_PRIVATE_TARGETS": "1" if settings.allow_private_targets else "",
        "HUB_STATE_DIR": settings.state_dir,
        "HUB_LOG_LEVEL": "WARNING",
    }
    if settings.bootstrap_admin_token:
        values["HUB_BOOTSTRAP_ADMIN_TOKEN"] = settings.bootstrap_admin_token
    values.update(overrides)
    return clean_env(**{k: v for k, v in values.items() if v != ""})


@dataclass
class Completed:
    returncode: int
    stdout: str
    stderr: str


async def run_hub(
    *args: str,
    env: Mapping[str, str],
    cwd: Path | None = None,
    timeout: float = 60,
    stdin: bytes = b"",
) -> Completed:
    """Run ``python -m hub <args>`` to completion, ``stdin`` as its standard input."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub",
        *args,
        env=dict(env),
        cwd=cwd or ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(stdin), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return Completed(proc.returncode, out.decode(), err.decode())


async def stop(proc: asyncio.subprocess.Process, sig: int = signal.SIGTERM) -> int:
    """Stop a process started with ``start_new_session`` and everything it spawned."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            await asyncio.wait_for(proc.wait(), 15)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # stray children (e.g. granian workers)
    assert proc.returncode is not None
    return proc.returncode


async def wait_healthy(base_url: str, proc: asyncio.subprocess.Process, log: Path) -> None:
    """Poll ``/healthz`` until it answers (a process start, not time passing, is awaited)."""
    deadline = asyncio.get_running_loop().time() + START_TIMEOUT
    async with httpx.AsyncClient(timeout=1.0) as client:
        while True:
            if proc.returncode is not None:
                raise AssertionError(f"server exited ({proc.returncode}):\n{log.read_text()}")
            with contextlib.suppress(httpx.TransportError):
                if (await client.get(f"{base_url}/healthz")).status_code == 200:
                    return
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"server did not become healthy:\n{log.read_text()}")
            await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def serving(
    argv: list[str], *, env: Mapping[str, str], port: int, log: Path, cwd: Path | None = None
) -> AsyncIterator[str]:
    """Start a server process, wait until healthy, yield its base URL, always stop it."""
    with log.open("wb") as sink:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            env=dict(env),
            cwd=cwd or ROOT,
            stdout=sink,
            stderr=sink,
            start_new_session=True,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        await wait_healthy(base_url, proc, log)
        yield base_url
    finally:
        await stop(proc)


def uvicorn_argv(port: int) -> list[str]:
    """A second API process exactly as production builds it (``hub.server:app``)."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "hub.server:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]


async def start_then_terminate(
    argv: list[str], *, env: Mapping[str, str], log: Path, ready_marker: str
) -> int:
    """Start a long-running process, wait until its log shows ``ready_marker``, SIGTERM it,
    and return its exit code (a clean shutdown is 0)."""
    with log.open("wb") as sink:
        proc = await asyncio.create_subprocess_exec(
            *argv, env=dict(env), cwd=ROOT, stdout=sink, stderr=sink, start_new_session=True
        )
    try:
        deadline = asyncio.get_running_loop().time() + START_TIMEOUT
        while ready_marker not in log.read_text(errors="replace"):
            if proc.returncode is not None:
                raise AssertionError(f"exited ({proc.returncode}) before ready:\n{log.read_text()}")
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"never ready:\n{log.read_text()}")
            await asyncio.sleep(0.05)
        os.killpg(proc.pid, signal.SIGTERM)
        return await asyncio.wait_for(proc.wait(), 20)
    finally:
        await stop(proc)
