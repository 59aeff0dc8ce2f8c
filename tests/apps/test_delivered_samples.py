"""The samples and fields the Zapier and Make apps show are what deliveries carry.

For every event type: the catalog's delivered sample is the catalog sample through the
default policy (the same function deliveries use), it holds no field the policy drops,
and the output fields (the catalog's delivered schema, the Zapier triggers' output
fields, the Make watch modules' interfaces and samples) are exactly the fields the
policy reveals. A live hub's samples endpoint answers the same shape and masks.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from hub.events.catalog import EVENT_TYPES
from hub.events.samples import catalog_sample
from hub.sanitize import default_policies
from hub.sanitize.delivered import revealed_paths
from hub.sanitize.ops import DROP, HASH
from hub.sanitize.shapes import leaf_paths
from tests.apps.catalogs import MAKE_APP, exported
from tests.apps.node import run_node
from tests.conftest import Factory, bearer

TYPES = sorted(EVENT_TYPES)


def _events() -> dict[str, dict[str, Any]]:
    return {e["type"]: e for e in exported("zapier")["events"]}


def _policy_reveals(event_type: str) -> list[str]:
    """The leaves of the data Struct a rule (its own or an ancestor's) lets out."""
    policies = default_policies()
    rules = policies.get(event_type).rules  # type: ignore[union-attr]
    out = []
    for leaf in leaf_paths(policies.shape(event_type)):
        path, op = leaf, None
        while op is None:
            op = rules.get(path)
            cut = max(path.rfind("."), path.rfind("[]"))
            if op is None and cut <= 0:
                break
            path = path[:cut]
        if op is not None and op.name != DROP:
            out.append(leaf)
    return sorted(out)


def _leaves(value: Any, prefix: str = "") -> list[str]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaves(v, f"{prefix}.{k}" if prefix else k)]
    if isinstance(value, list):
        return [p for v in value for p in _leaves(v, f"{prefix}[]")] or [f"{prefix}[]"]
    return [prefix]


def _covered(leaf: str, revealed: list[str]) -> bool:
    """A sample's leaf is a revealed path, or a null/empty container above some."""
    return leaf in revealed or any(r.startswith(leaf.removesuffix("[]")) for r in revealed)


@pytest.mark.parametrize("event_type", TYPES)
def test_the_catalog_sample_is_the_delivered_sample(event_type: str) -> None:
    entry = _events()[event_type]
    policy = default_policies().compiled(event_type)
    assert policy is not None
    assert entry["delivered_sample"] == json.loads(catalog_sample(event_type, policy))
    revealed = _policy_reveals(event_type)
    assert revealed_paths(entry["delivered_schema"]) == revealed
    leaves = _leaves(entry["delivered_sample"]["data"])
    assert all(_covered(leaf, revealed) for leaf in leaves), set(leaves) - set(revealed)
    dropped = {p for p, op in policy.rules.items() if op.name == DROP} | (
        set(leaf_paths(default_policies().shape(event_type))) - set(revealed)
    )
    assert not dropped & set(leaves), dropped & set(leaves)


def test_lead_samples_show_masked_contacts_and_no_dropped_fields() -> None:
    data = _events()["lead.created"]["delivered_sample"]["data"]
    assert data["contact"]["emails"][0]["address"] == "j***@p***.example"
    assert data["contact"]["phones"][0]["number"] == "+55***0101"
    assert data["document"] != EVENT_TYPES["lead.created"].sample["document"]
    assert not {"notes", "raw_email", "raw_phone"} & data.keys()


def _zapier_path(key: str) -> str:
    """``data__contact__emails[]address`` -> ``contact.emails[].address``."""
    return key.removeprefix("data__").replace("__", ".").replace("[]", "[].")


async def test_zapier_triggers_offer_exactly_the_revealed_fields() -> None:
    script = (
        "const app = require('./index.js');"
        "const out = {};"
        "for (const t of Object.values(app.triggers)) out[t.key] = "
        "{sample: t.operation.sample, fields: t.operation.outputFields};"
        "console.log(JSON.stringify(out));"
    )
    run = await run_node("-e", script, timeout=120)
    assert run.returncode == 0, run.output
    triggers = json.loads(run.output.strip().splitlines()[-1])
    triggers = {k: t for k, t in triggers.items() if not k.startswith("choices_")}  # dropdowns
    events = _events()
    assert len(triggers) == len(events)
    for event_type, entry in events.items():
        trigger = triggers[event_type.replace(".", "_")]
        assert trigger["sample"] == entry["delivered_sample"], event_type
        keys = [f["key"] for f in trigger["fields"] if f["key"].startswith("data__")]
        paths = sorted(
            _zapier_path(f["key"]) + ("[]" if f.get("list") else "")
            for f in trigger["fields"]
            if f["key"] in keys
        )
        assert paths == _policy_reveals(event_type), event_type


def _names(spec: list[dict[str, Any]], prefix: str = "") -> list[str]:
    out = []
    for field in spec:
        path = f"{prefix}.{field['name']}" if prefix else field["name"]
        if field.get("type") == "collection":
            out += _names(field.get("spec") or [], path)
        elif field.get("type") == "array" and isinstance(field.get("spec"), list):
            out += _names(field["spec"], f"{path}[]")
        elif field.get("type") == "array":
            out.append(f"{path}[]")
        else:
            out.append(path)
    return sorted(out)


@pytest.mark.parametrize("event_type", TYPES)
def test_make_watch_modules_offer_exactly_the_revealed_fields(event_type: str) -> None:
    folder = MAKE_APP / "modules" / ("watch-" + event_type.replace(".", "-").replace("_", "-"))
    (samples_file,) = folder.glob("*.samples.iml.json")
    (interface_file,) = folder.glob("*.interface.iml.json")
    assert json.loads(samples_file.read_text()) == _events()[event_type]["delivered_sample"]
    interface = json.loads(interface_file.read_text())
    (data,) = [f for f in interface if f["name"] == "data"]
    assert _names(data["spec"]) == _policy_reveals(event_type)


async def test_a_live_hub_samples_the_same_shape_and_masks(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    integration = await factory.integration(mode="sandbox")
    key = bearer(integration["api_key"])
    for event_type, entry in _events().items():
        r = await client.get(f"/v1/events/{event_type}/samples", headers=key)
        assert r.status_code == 200, r.text
        (live,) = r.json()
        static = entry["delivered_sample"]
        assert sorted(_leaves(live["data"])) == sorted(_leaves(static["data"])), event_type
        policy = default_policies().compiled(event_type)
        assert policy is not None
        hashed = {p for p, op in policy.rules.items() if op.name == HASH}
        for path in hashed:  # pseudonyms are per tenant: equal shape, other value
            live_value, static_value = _at(live["data"], path), _at(static["data"], path)
            assert (live_value is None) == (static_value is None)
        assert _without(live["data"], hashed) == _without(static["data"], hashed), event_type


def _at(data: Any, path: str) -> Any:
    for part in path.split("."):
        data = data.get(part) if isinstance(data, dict) else None
    return data


def _without(data: dict[str, Any], paths: set[str]) -> dict[str, Any]:
    out = json.loads(json.dumps(data))
    for path in paths:
        *parents, last = path.split(".")
        node = out
        for part in parents:
            node = node.get(part, {}) if isinstance(node, dict) else {}
        if isinstance(node, dict):
            node.pop(last, None)
    return out
