"""The Zapier app without a hub: built from what ``hub export zapier`` writes, valid for
Zapier's schema (whole app and each trigger and create), and ``zapier-platform validate``
passes with no network at all.
"""

from __future__ import annotations

import json

from tests.apps.catalogs import ZAPIER_APP, exported_text
from tests.apps.node import (
    OFFLINE_GUARD,
    QUIET_CLI,
    ZAPIER_CLI,
    assert_all_passed,
    node_tests,
    run_node,
)


def test_the_committed_catalog_is_what_the_hub_exports() -> None:
    committed = (ZAPIER_APP / "catalog.json").read_text(encoding="utf-8")
    assert committed == exported_text("zapier"), (
        "zapier_app/catalog.json is stale: run `hub export zapier -o zapier_app/catalog.json`"
    )


def test_core_is_pinned_exactly_and_the_lockfile_agrees() -> None:
    package = json.loads((ZAPIER_APP / "package.json").read_text())
    lock = json.loads((ZAPIER_APP / "package-lock.json").read_text())
    pinned = package["dependencies"]["zapier-platform-core"]
    assert pinned[0].isdigit(), f"zapier-platform-core must be pinned exactly, not {pinned}"
    assert lock["packages"]["node_modules/zapier-platform-core"]["version"] == pinned
    assert package["devDependencies"]["node"].startswith("22.")


async def test_node_unit_and_schema_tests_pass() -> None:
    run = await node_tests("test/units.test.js", "test/schema.test.js")
    assert_all_passed(run)


async def test_zapier_platform_validate_passes_offline() -> None:
    # The guard makes any non-loopback connection or DNS lookup fail and say so.
    run = await run_node(
        "--require",
        str(OFFLINE_GUARD),
        str(ZAPIER_CLI),
        "validate",
        "--without-style",
        env={**QUIET_CLI, "NODE_OPTIONS": f"--require {OFFLINE_GUARD}"},
        timeout=300,
    )
    assert run.returncode == 0, run.output
    assert "structurally sound" in run.output, run.output
    assert "OFFLINE-GUARD" not in run.output, run.output
