"""The Zapier app against a live hub: real processes, real HTTP, the Node test suite.

tests/apps/live.py starts the hub (API + delivery worker); a catch server stands in
for Zapier's hook URLs and another route for the tenant's product.
zapier_app/test/live.test.js then drives the app with createAppTester.
"""

from __future__ import annotations

from pathlib import Path

from hub.config import Settings
from hub.events.catalog import RESERVED_EVENT_TYPES
from tests.apps.catalogs import exported
from tests.apps.live import live_hub, provision
from tests.apps.node import assert_all_passed, node_tests
from tests.apps.outside import outside_world


async def test_the_zapier_app_works_against_a_live_hub(settings: Settings, tmp_path: Path) -> None:
    catalog = exported("zapier")
    outputs = {a["name"]: a["sample"] for a in catalog["actions"]}
    assert settings.bootstrap_admin_token
    async with outside_world(outputs) as world, live_hub(settings, tmp_path) as base:
        env = await provision(base, settings.bootstrap_admin_token, world)
        run = await node_tests(
            "test/live.test.js",
            env={
                **env,
                "HUB_BASE_URL": base,
                "HUB_ADMIN_TOKEN": settings.bootstrap_admin_token,
                "HUB_CATCH_URL": world.url,
                "HUB_RESERVED_EVENT_TYPES": ",".join(sorted(RESERVED_EVENT_TYPES)),
            },
        )
        (tmp_path / "node-live.tap").write_text(run.output)
        # Replays and Autoreplay never reached the product twice: one call per key.
        assert world.upstream_calls, "no live action reached the upstream"
        repeated = {k: n for k, n in world.upstream_calls.items() if n != 1}
        assert repeated == {}
        logs = "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in tmp_path.glob("*.log")
        )
        assert run.returncode == 0, run.output[-8000:] + logs
        assert_all_passed(run)
