"""Integration scopes: ``actions:*``, ``actions:<action>``, ``triggers:*``,
``triggers:<event type>``, ``events:publish``."""

from __future__ import annotations

import re

SCOPE_PATTERN = (
    r"^(actions:(\*|[a-z][a-z0-9_]{0,63})|triggers:(\*|[a-z][a-z0-9_.]{0,79})|events:publish)$"
)
_SCOPE_RE = re.compile(SCOPE_PATTERN)


def invalid_scopes(scopes: list[str]) -> list[str]:
    return [s for s in scopes if not _SCOPE_RE.fullmatch(s)]


def scope_allows(granted: list[str] | tuple[str, ...], needed: str) -> bool:
    """``needed`` is e.g. ``actions:create_lead``; ``actions:*`` grants every action."""
    if needed in granted:
        return True
    family = needed.split(":", 1)[0]
    return f"{family}:*" in granted
