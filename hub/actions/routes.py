"""HTTP routes of the actions capability."""

from __future__ import annotations

from typing import Any

INTEGRATION_ROUTES: list[Any] = []
ADMIN_ROUTES: list[Any] = []
