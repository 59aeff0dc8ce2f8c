"""Wire types of the policy admin endpoints."""

from __future__ import annotations

from typing import Any

import msgspec


class PreviewRequest(msgspec.Struct, forbid_unknown_fields=True):
    integration_id: str
    data: dict[str, Any]


class PreviewResult(msgspec.Struct):
    event_type: str
    integration_id: str
    policy_version: str
    data: dict[str, Any]


class PolicyView(msgspec.Struct):
    event_type: str
    policy_version: str
    fields: dict[str, str]  # the effective rules; fields not named are dropped
