"""The catalog file ``hub export zapier|make`` writes: the whole catalog plus the API's
conventions, deterministic, the one input the Zapier and Make apps are built from."""

from __future__ import annotations

from typing import Any

import msgspec

from hub.actions.catalog import catalog_for
from hub.actions.choices import fields_with_choices
from hub.web.errors import CODES, PROBLEM_CONTENT_TYPE

CATALOG_FORMAT = "hub-catalog"
CATALOG_VERSION = 1


def export_document(platform: str) -> dict[str, Any]:
    """The file ``hub export`` writes: the whole catalog plus the API's conventions.

    Deterministic (no timestamps; the CLI sorts keys) so a committed copy can be
    compared with a fresh export.
    """
    document: dict[str, Any] = msgspec.to_builtins(catalog_for(None))
    document.update(
        {
            "format": CATALOG_FORMAT,
            "version": CATALOG_VERSION,
            "platform": platform,
            "api": {
                "auth": {
                    "header": "Authorization",
                    "scheme": "Bearer",
                    "alternative_header": "X-API-Key",
                    "key_pattern": "^hk_[0-9a-z]{16}_[0-9a-z]{52}$",
                    "test": {"method": "GET", "path": "/v1/me"},
                },
                "actions": {
                    "method": "POST",
                    "path": "/v1/actions/{action}",
                    "idempotency_header": "Idempotency-Key",
                    "idempotency_key_max_length": 255,
                    "replayed_header": "Idempotent-Replayed",
                    "response_fields": ["execution_id", "action", "status", "outputs"],
                },
                "catalog": {"method": "GET", "path": "/v1/catalog"},
                "executions": {"method": "GET", "path": "/v1/executions/{execution_id}"},
                "errors": {
                    "media_type": PROBLEM_CONTENT_TYPE,
                    "codes": {code: status for code, (status, _) in CODES.items()},
                    # Safe to repeat with the same Idempotency-Key.
                    "retriable": sorted(
                        {
                            "IDEMPOTENCY_IN_PROGRESS",
                            "RATE_LIMITED",
                            "QUOTA_EXCEEDED",
                            "UPSTREAM_ERROR",
                            "UNAVAILABLE",
                            "UPSTREAM_TIMEOUT",
                            "INTERNAL",
                        }
                    ),
                },
                "deliveries": {"signatures": "standard-webhooks-v1"},
                # Dynamic dropdowns: GET /v1/choices/{name} -> {"items": [{value, label}]},
                # for these inputs of these actions.
                "choices": {
                    "path": "/v1/choices/{name}",
                    "fields": {
                        a["name"]: found
                        for a in document["actions"]
                        if (found := fields_with_choices(a["input_schema"]))
                    },
                },
            },
        }
    )
    return document
