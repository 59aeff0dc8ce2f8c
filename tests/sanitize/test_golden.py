"""Every catalog sample through its policy, compared with a reviewed golden file.

A policy change shows up here as a golden diff; a change in what leaves without
a version bump fails. Regenerate after a deliberate change (and bump the
policy's version) with ``HUB_UPDATE_GOLDEN=1 pytest tests/sanitize/test_golden.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import msgspec
import pytest

from hub.events.catalog import EVENT_TYPES
from hub.sanitize.ops import Pseudonymizer
from hub.sanitize.policy import rules_text
from hub.sanitize.registry import default_policies

GOLDEN = Path(__file__).parent / "golden"
# A fixed key so the pseudonyms in the golden files are stable.
KEY = bytes(range(32))


def _render(event_type: str) -> dict[str, Any]:
    event = EVENT_TYPES[event_type]
    policy = default_policies().compiled(event_type)
    assert policy is not None
    data = policy.sanitize(msgspec.convert(event.sample, event.data_type), Pseudonymizer(KEY))
    return {
        "policy_version": policy.version,
        "fields": rules_text(policy.rules),
        "sample_sanitized": msgspec.to_builtins(data),
    }


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_sample_through_policy_matches_golden(event_type: str) -> None:
    path = GOLDEN / f"{event_type}.json"
    rendered = _render(event_type)
    if os.environ.get("HUB_UPDATE_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(json.dumps(rendered, indent=2, ensure_ascii=False) + "\n", "utf-8")
    golden = json.loads(path.read_text("utf-8"))
    if golden["policy_version"] == rendered["policy_version"]:
        assert rendered["fields"] == golden["fields"], (
            f"{event_type}: the policy changed without a version bump"
        )
    assert rendered == golden


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_samples_reveal_no_raw_contact(event_type: str) -> None:
    """Belt and braces over the goldens: no sample e-mail or phone leaves unmasked."""
    text = json.dumps(_render(event_type)["sample_sanitized"], ensure_ascii=False)
    for secret in ("joao.silva@", "compras@", "99999-0101", "+5584999990101", "12345678000190"):
        assert secret not in text
