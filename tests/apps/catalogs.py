"""The catalog as ``hub export`` writes it: the real CLI, run as a user would."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ZAPIER_APP = ROOT / "zapier_app"
MAKE_APP = ROOT / "make_templates"


@cache
def exported_text(platform: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "hub", "export", platform],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def exported(platform: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(exported_text(platform))
    return document
