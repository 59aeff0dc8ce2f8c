"""A Postgres cluster and a Redis server of the test's own, to stop and start at will.

The machine's shared servers are never touched: the outages happen to throwaway
instances on free loopback ports, started from the same binaries (Debian's
PostgreSQL 15 and redis-server).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import asyncpg

from tests.support.processes import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")
REDIS_SERVER = shutil.which("redis-server")
START_TIMEOUT = 60.0


def available() -> str | None:
    """Why own instances cannot run here, or None."""
    if not (PG_BIN / "initdb").exists():
        return f"no PostgreSQL 15 binaries in {PG_BIN}"
    if REDIS_SERVER is None:
        return "no redis-server on PATH"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser (initdb refuses root)"
    return None


def _as_postgres(argv: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root: as root, run them as the postgres user.
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


class OwnPostgres:
    """``initdb`` into a fresh directory, trust auth for ``root``; ``stop()`` is a crash
    (immediate shutdown: connections are cut, nothing is flushed politely)."""

    def __init__(self) -> None:
        # Not pytest's tmp_path: its parents are root-only, the server runs as postgres.
        self.dir = Path(tempfile.mkdtemp(prefix="hub-chaos-pg-", dir="/tmp"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.url = f"postgresql://root@127.0.0.1:{self.port}/hub"

    def _run(self, *argv: str) -> None:
        subprocess.run(_as_postgres(list(argv)), check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        os.chmod(self.dir, 0o777)
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "root")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-w", "-l",
            str(self.dir / "log"), "start",
        )  # fmt: skip

    def stop(self) -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    async def create_database(self) -> None:
        conn = await asyncpg.connect(f"postgresql://root@127.0.0.1:{self.port}/postgres")
        try:
            await conn.execute('CREATE DATABASE "hub"')
        finally:
            await conn.close()

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class OwnRedis:
    """A ``redis-server`` that keeps nothing on disk: a restart loses every key, as a
    failed-over or restarted Redis without persistence does."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        assert REDIS_SERVER is not None
        self.proc = await asyncio.create_subprocess_exec(
            REDIS_SERVER,
            "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        deadline = asyncio.get_running_loop().time() + START_TIMEOUT
        while True:
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("own redis-server did not start")
            await asyncio.sleep(0.05)

    async def kill(self) -> None:
        """SIGKILL: the server dies with everything it held."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
