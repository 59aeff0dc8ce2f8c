"""The install is reproducible and production's is lean.

The lock files in requirements/ (hashes for every file) are what scripts/dev, scripts/test
and the Dockerfile install; they must agree with pyproject.toml's pins. Production leaves
out the `embedded` extra (fakeredis, lupa, uvicorn): nothing outside ``hub dev`` may need
it at import time, and ``hub dev`` without it says how to install it.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCKS = {
    "prod.lock": (),
    "embedded.lock": ("embedded",),
    "dev.lock": ("embedded", "dev"),
}
EMBEDDED_ONLY = {"fakeredis", "lupa", "uvicorn"}

# Makes the embedded extra's modules unimportable in a child interpreter, as on a
# production install that never had them.
_BLOCK_EMBEDDED = """
import sys
class _Absent:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"fakeredis", "lupa", "uvicorn"}:
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None
sys.meta_path.insert(0, _Absent())
import importlib.util
_real_find_spec = importlib.util.find_spec
def _find_spec(name, package=None):
    if name.split(".")[0] in {"fakeredis", "lupa", "uvicorn"}:
        return None
    return _real_find_spec(name, package)
importlib.util.find_spec = _find_spec
"""


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _locked(lock: str) -> dict[str, str]:
    """``{package: version}`` of a lock file, asserting every entry carries hashes."""
    text = (ROOT / "requirements" / lock).read_text()
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.strip())
    versions: dict[str, str] = {}
    for entry in entries:
        if entry.startswith("#"):
            continue
        match = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)", entry)
        assert match, f"{lock}: not a pinned requirement: {entry[:80]!r}"
        assert "--hash=sha256:" in entry, f"{lock}: {match.group(1)} has no hash"
        versions[_normalise(match.group(1))] = match.group(2)
    return versions


def _pins(extras: tuple[str, ...]) -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in extras:
        requirements += project["optional-dependencies"][extra]
    pins: dict[str, str] = {}
    for requirement in requirements:
        match = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(\S+)$", requirement)
        if match and _normalise(match.group(1)) != "hub":
            pins[_normalise(match.group(1))] = match.group(2)
    return pins


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_each_lock_holds_every_pin_of_pyproject_at_its_version(lock: str) -> None:
    locked = _locked(lock)
    pins = _pins(LOCKS[lock])
    assert pins, "pyproject.toml has no == pins to check"
    wrong = {name: (pin, locked.get(name)) for name, pin in pins.items() if locked.get(name) != pin}
    assert not wrong, f"{lock} is stale (pin, locked): {wrong}; run bash scripts/lock"


def test_production_lock_leaves_out_the_embedded_extra() -> None:
    assert not EMBEDDED_ONLY & set(_locked("prod.lock"))
    assert set(_locked("embedded.lock")) >= EMBEDDED_ONLY
    assert set(_locked("dev.lock")) >= set(_locked("embedded.lock"))


def test_scripts_and_image_install_from_the_locks() -> None:
    assert "requirements/dev.lock" in (ROOT / "scripts/test").read_text()
    assert "requirements/embedded.lock" in (ROOT / "scripts/dev").read_text()
    for script in ("scripts/test", "scripts/dev"):
        assert "--require-hashes" in (ROOT / script).read_text(), script


def _child(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _BLOCK_EMBEDDED + code, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_module_but_the_dev_mode_imports_without_the_embedded_extra() -> None:
    code = """
import importlib, pkgutil
import hub, integrations
failed = []
for package in (hub, integrations):
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        # alembic's env.py runs only under alembic; __main__ runs the CLI; devmode is hub dev.
        if ".migrations" in module.name or module.name.endswith(("__main__", ".devmode")):
            continue
        try:
            importlib.import_module(module.name)
        except ImportError as exc:
            failed.append(f"{module.name}: {exc}")
print("\\n".join(failed) or "ok")
"""
    result = _child(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok", result.stdout


def test_hub_dev_without_the_embedded_extra_says_how_to_install_it(tmp_path: Path) -> None:
    code = f"""
import os, sys
os.environ["HUB_STATE_DIR"] = {str(tmp_path)!r}
from hub.cli import main
sys.exit(main(["dev", "--port", "1"]))
"""
    result = _child(code)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "'embedded' extra" in result.stderr
    assert "fakeredis, lupa, uvicorn" in result.stderr
    assert not list(tmp_path.iterdir()), "hub dev created state before refusing"
