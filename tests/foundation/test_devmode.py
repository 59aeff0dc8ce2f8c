"""``hub dev`` from nothing: it migrates, creates a demo, prints curl lines that work,
and a second run reuses the same state."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from pathlib import Path

import pytest

from tests.support.processes import START_TIMEOUT, clean_env, free_port, stop

pytestmark = pytest.mark.slow


class DevRun:
    def __init__(self, output: list[str], returncode: int, stderr: str) -> None:
        self.output = output
        self.returncode = returncode
        self.stderr = stderr

    def value(self, label: str) -> str:
        for line in self.output:
            match = re.match(rf"^\s*{label}\s*:\s*(\S+)", line)
            if match:
                return match.group(1)
        raise AssertionError(f"{label!r} not printed:\n" + "\n".join(self.output))

    @property
    def curl_lines(self) -> list[str]:
        return [line.strip() for line in self.output if line.strip().startswith("curl ")]


async def run_curl(line: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        "bash", "-c", line, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode is not None
    return proc.returncode, out.decode(errors="replace")


async def dev_session(cwd: Path, port: int) -> DevRun:
    """Start ``hub dev``, read what it prints, run every curl line, stop it with Ctrl-C."""
    env = clean_env(HUB_STATE_DIR=str(cwd / "state"))
    stderr_path = cwd / f"dev-{port}.err"
    with stderr_path.open("wb") as err:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hub", "dev", "--port", str(port),
            cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE, stderr=err,
            start_new_session=True,
        )  # fmt: skip
    output: list[str] = []
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(START_TIMEOUT):
            while True:
                raw = await proc.stdout.readline()
                if not raw:
                    raise AssertionError("hub dev exited:\n" + stderr_path.read_text())
                output.append(raw.decode().rstrip("\n"))
                if output[-1].startswith("API reference"):
                    break
        failures = []
        for line in [line.strip() for line in output if line.strip().startswith("curl ")]:
            code, out = await run_curl(line)
            if code != 0:
                failures.append(f"{line}\n  -> exit {code}: {out[:300]}")
        assert not failures, "printed curl lines failed:\n" + "\n".join(failures)
    finally:
        returncode = await stop(proc, signal.SIGINT)
    return DevRun(output, returncode, stderr_path.read_text())


async def test_hub_dev_prints_working_next_steps_and_keeps_its_state(tmp_path: Path) -> None:
    first = await dev_session(tmp_path, free_port())
    assert first.returncode == 0, first.stderr
    assert len(first.curl_lines) >= 4
    for label in ("admin token", "tenant", "integration", "API key"):
        first.value(label)
    state = tmp_path / "state"
    for name in ("hub.sqlite3", "secret_keys", "dev-credentials.json"):
        assert (state / name).exists(), name
    for name in ("secret_keys", "dev-credentials.json"):
        assert (state / name).stat().st_mode & 0o777 == 0o600

    second = await dev_session(tmp_path, free_port())
    assert second.returncode == 0, second.stderr
    for label in ("admin token", "tenant", "integration", "API key"):
        assert second.value(label) == first.value(label)
