"""The documentation keeps up with the code it describes."""

from __future__ import annotations

import re
from pathlib import Path

from hub.admin import routes as admin_routes
from hub.tenancy import routes as tenancy_routes
from hub.web.errors import CODES

ROOT = Path(__file__).resolve().parents[2]


def read(path: str) -> str:
    return (ROOT / path).read_text()


def all_docs() -> str:
    return read("README.md") + "".join(p.read_text() for p in sorted((ROOT / "docs").glob("*.md")))


def test_every_setting_is_documented() -> None:
    names = set(re.findall(r'"(HUB_[A-Z0-9_]+)"', read("hub/config.py")))
    assert len(names) > 10
    docs = all_docs()
    assert sorted(n for n in names if f"`{n}`" not in docs) == []


def test_the_readme_configuration_table_covers_the_foundation_settings() -> None:
    readme = read("README.md")
    for name in (
        "HUB_ENV",
        "HUB_DATABASE_URL",
        "HUB_REDIS_URL",
        "HUB_REDIS_PREFIX",
        "HUB_SECRET_KEYS",
        "HUB_BOOTSTRAP_ADMIN_TOKEN",
        "HUB_ALLOW_PRIVATE_TARGETS",
        "HUB_MAX_BODY_BYTES",
        "HUB_STATE_DIR",
        "HUB_LOG_LEVEL",
    ):
        assert f"| `{name}` |" in readme, name


def test_every_problem_code_is_in_the_error_table() -> None:
    api = read("docs/api.md")
    for code, (status, _title) in CODES.items():
        assert f"| {status} | `{code}` |" in api, code


def test_every_foundation_route_is_documented() -> None:
    api = read("docs/api.md")
    for module in (admin_routes, tenancy_routes):
        for prefix, handlers in (
            ("/admin/v1", module.ADMIN_ROUTES),
            ("/v1", module.INTEGRATION_ROUTES),
        ):
            for handler in handlers:
                for path in handler.paths:  # type: ignore[attr-defined]
                    # The docs name every path parameter {id}.
                    documented = prefix + re.sub(r"\{(\w+)(:\w+)?\}", "{id}", path)
                    for method in handler.http_methods:  # type: ignore[attr-defined]
                        assert f"`{method} {documented}`" in api, (method, documented)


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci = [
        line.strip()
        for line in read(".ci/run").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert ci[-1] == "bash scripts/test"
    assert "\n    bash scripts/test\n" in read("README.md")
    assert "\n    bash scripts/dev\n" in read("README.md")
