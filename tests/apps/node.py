"""Running the Zapier app's Node tooling (Node 22 from the ``node`` npm package)."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.apps.catalogs import ZAPIER_APP

NODE = ZAPIER_APP / "node_modules" / ".bin" / "node"
ZAPIER_CLI = ZAPIER_APP / "node_modules" / "zapier-platform-cli" / "src" / "bin" / "run"
OFFLINE_GUARD = ZAPIER_APP / "test" / "offline-guard.js"
# The CLI must not phone home: analytics and the update notifier are switched off.
QUIET_CLI = {"DISABLE_ZAPIER_ANALYTICS": "1", "NO_UPDATE_NOTIFIER": "1", "CI": "true"}


@dataclass
class Run:
    returncode: int
    output: str

    def tap_count(self, name: str) -> int:
        found = re.findall(rf"^# {name} (\d+)$", self.output, flags=re.MULTILINE)
        assert found, f"no '# {name}' line in the TAP output:\n{self.output[-4000:]}"
        return int(found[-1])


def require_node() -> None:
    assert NODE.exists(), (
        "zapier_app/node_modules is missing: run `npm ci` in zapier_app/ "
        "(bash scripts/test does it)"
    )


def node_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment without the hub's own settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    # node_modules/.bin first: the CLI's `#!/usr/bin/env node` must find Node 22.
    env["PATH"] = f"{NODE.parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("NODE_OPTIONS", None)
    env.update(extra or {})
    return env


async def run_node(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = 600, cwd: Path = ZAPIER_APP
) -> Run:
    require_node()
    proc = await asyncio.create_subprocess_exec(
        str(NODE),
        *args,
        cwd=cwd,
        env=node_env(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return Run(proc.returncode, out.decode(errors="replace"))


async def node_tests(*files: str, env: Mapping[str, str] | None = None) -> Run:
    """``node --test`` with the TAP reporter, one file at a time (a live hub is shared)."""
    return await run_node("--test", "--test-reporter=tap", "--test-concurrency=1", *files, env=env)


def assert_all_passed(run: Run) -> None:
    assert run.returncode == 0, run.output[-8000:]
    assert run.tap_count("pass") > 0, run.output[-4000:]
    for name in ("fail", "cancelled", "skipped", "todo"):
        assert run.tap_count(name) == 0, f"{name}:\n{run.output[-8000:]}"
