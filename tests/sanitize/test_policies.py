"""Loading policies: a policy that does not fit its event's data Struct never loads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hub.events.catalog import EVENT_TYPES
from hub.sanitize.policy import PolicyError
from hub.sanitize.registry import POLICIES_DIR, PolicySet


def _write(directory: Path, event_type: str, fields: dict[str, str], **extra: Any) -> Path:
    directory.mkdir(exist_ok=True)
    path = directory / f"{event_type}.json"
    doc = {"event_type": event_type, "version": 1, "fields": fields, **extra}
    path.write_text(json.dumps(doc))
    return path


def test_the_shipped_policies_load() -> None:
    policies = PolicySet.load()
    assert set(policies.event_types()) == set(EVENT_TYPES)


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"contact.fax": "keep"}, "'contact.fax' is not a field"),
        ({"company": "keep"}, "'company' is not a field"),
        ({"contact": "keep"}, "holds an object"),
        ({"contact.emails": "keep"}, "is a list: write 'contact.emails[]'"),
        ({"contact.emails[]": "keep"}, "holds an object"),
        ({"status[]": "keep"}, "is not a list"),
        ({"source.row": "mask_email"}, "applies to text"),
        ({"created_at": "truncate:4"}, "applies to text"),
        ({"lead_id": "reveal"}, "unknown operation"),
        ({"lead id": "keep"}, "must be a field name"),
        ({"contact.name": "keep", "contact": "drop"}, "overlap"),
        ({"__class__": "keep"}, "is not a field"),
    ],
)
def test_policies_that_do_not_fit_the_struct_fail_loading(
    tmp_path: Path, fields: dict[str, str], why: str
) -> None:
    _write(tmp_path, "lead.created", fields)
    with pytest.raises(PolicyError, match=r"lead\.created\.json") as caught:
        PolicySet.load(tmp_path)
    assert any(why in p for p in caught.value.problems), caught.value.problems


def test_dropping_a_whole_list_or_object_is_fine(tmp_path: Path) -> None:
    _write(tmp_path, "lead.created", {"contact": "drop", "tags": "drop", "lead_id": "keep"})
    policy = PolicySet.load(tmp_path).compiled("lead.created")
    assert policy is not None
    assert policy.version == "lead.created@1"


def test_file_level_mistakes_fail_loading(tmp_path: Path) -> None:
    _write(tmp_path, "lead.exploded", {"lead_id": "keep"})
    with pytest.raises(PolicyError, match="not in the event catalog"):
        PolicySet.load(tmp_path)

    other = tmp_path / "b"
    other.mkdir()
    (other / "lead.created.json").write_text(
        '{"event_type": "lead.created", "version": 1, '
        '"fields": {"lead_id": "keep", "lead_id": "hash"}}'
    )
    with pytest.raises(PolicyError, match="appears twice"):
        PolicySet.load(other)

    renamed = tmp_path / "c"
    path = _write(renamed, "lead.created", {"lead_id": "keep"})
    path.rename(renamed / "lead.updated.json")
    with pytest.raises(PolicyError, match=r"must be named lead\.created\.json"):
        PolicySet.load(renamed)

    for bad in ({"version": 0}, {"surprise": True}):
        directory = tmp_path / f"d{len(bad)}{next(iter(bad))}"
        _write(directory, "lead.created", {"lead_id": "keep"}, **bad)
        with pytest.raises(PolicyError):
            PolicySet.load(directory)


def test_a_missing_policy_fails_closed(tmp_path: Path) -> None:
    tmp_path.mkdir(exist_ok=True)
    policies = PolicySet.load(tmp_path)  # no files at all
    assert policies.compiled("lead.created") is None
    assert policies.for_integration("lead.created", {}) is None


def test_the_shipped_policy_files_are_pretty_and_versioned() -> None:
    for path in sorted(POLICIES_DIR.glob("*.json")):
        doc = json.loads(path.read_text("utf-8"))
        assert doc["version"] >= 1
        assert doc["description"], f"{path.name}: say why, for the reviewer"
        assert path.read_text("utf-8").endswith("\n")
