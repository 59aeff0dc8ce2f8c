"""``hub export zapier|make``: a stable, complete catalog file the apps are built from."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import msgspec
import pytest

from hub.actions.catalog import ACTIONS
from hub.cli.export import render
from hub.config import Settings
from hub.events.catalog import EVENT_TYPES
from tests.support.processes import hub_env, run_hub


@pytest.mark.parametrize("platform", ["zapier", "make"])
def test_export_is_deterministic_sorted_json(platform: str) -> None:
    text = render(platform)
    assert text == render(platform)
    assert text.endswith("}\n")
    document = json.loads(text)
    assert json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n" == text
    assert document["format"] == "hub-catalog"
    assert document["version"] == 1
    assert document["platform"] == platform
    assert [a["name"] for a in document["actions"]] == sorted(ACTIONS)
    assert [e["type"] for e in document["events"]] == sorted(EVENT_TYPES)
    assert document["api"]["actions"]["idempotency_header"] == "Idempotency-Key"
    assert document["api"]["errors"]["codes"]["IDEMPOTENCY_KEY_REUSED"] == 422


def test_samples_validate_against_the_exported_schemas() -> None:
    document = json.loads(render("zapier"))
    for action in document["actions"]:
        jsonschema.validate(action["sample_input"], action["input_schema"])
        jsonschema.validate(action["sample"], action["output_schema"])
        spec = ACTIONS[action["name"]]
        msgspec.convert(action["sample_input"], spec.input_type)
        msgspec.convert(action["sample"], spec.output_type)
        assert action["scope"] == f"actions:{action['name']}"
        assert action["title"]
        assert action["description"]
        assert action["noun"]
    for event in document["events"]:
        jsonschema.validate(event["sample"], event["data_schema"])
        assert event["scope"] == f"triggers:{event['type']}"


def test_every_input_field_is_documented() -> None:
    document = json.loads(render("zapier"))
    for action in document["actions"]:
        schema = action["input_schema"]
        assert schema["additionalProperties"] is False
        assert schema.get("description"), action["name"]
        for name, field in schema["properties"].items():
            described = field if "anyOf" not in field else field["anyOf"][0]
            text = json.dumps(described)
            assert "title" in text or "description" in text, (
                action["name"],
                name,
            )


async def test_cli_writes_the_file(settings: Settings, tmp_path: Path) -> None:
    target = tmp_path / "catalog.json"
    done = await run_hub("export", "make", "--output", str(target), env=hub_env(settings))
    assert done.returncode == 0, done.stderr
    assert target.read_text(encoding="utf-8") == render("make")
    to_stdout = await run_hub("export", "zapier", env=hub_env(settings))
    assert to_stdout.stdout == render("zapier")
    bad = await run_hub("export", "ifttt", env=hub_env(settings))
    assert bad.returncode != 0
