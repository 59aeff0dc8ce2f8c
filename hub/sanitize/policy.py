"""A policy: the allowlist of one event type's fields, as reviewed in ``policies/``.

File format (``policies/<event type>.json``)::

    {
      "event_type": "lead.created",
      "version": 3,
      "description": "why these fields, for the reviewer",
      "fields": {"lead_id": "keep", "contact.emails[].address": "mask_email", ...}
    }

Default deny: a field not named is dropped. ``drop`` lines are documentation of a
decision. Any change to ``fields`` must bump ``version`` (the golden tests fail
otherwise); every delivery records the version it was sanitized with.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from hub.sanitize.ops import DROP, Op, parse_op
from hub.sanitize.paths import is_under, parse_path
from hub.sanitize.shapes import Shape, check_path

MAX_RULES = 500


class PolicyError(ValueError):
    """A policy (or an override) that must not be used; ``problems`` says why."""

    def __init__(self, where: str, problems: list[str]) -> None:
        self.where = where
        self.problems = problems
        super().__init__(f"{where}: " + "; ".join(problems))


class PolicyFile(msgspec.Struct, forbid_unknown_fields=True):
    event_type: Annotated[str, Meta(min_length=1, max_length=80)]
    version: Annotated[int, Meta(ge=1, le=1_000_000)]
    fields: Annotated[dict[str, str], Meta(max_length=MAX_RULES)]
    description: str = ""


@dataclass(frozen=True)
class Policy:
    event_type: str
    version: int
    rules: dict[str, Op]  # in file order

    @property
    def label(self) -> str:
        """What deliveries record, e.g. ``lead.created@3``."""
        return f"{self.event_type}@{self.version}"


def parse_rules(fields: Mapping[str, str]) -> tuple[dict[str, Op], list[str]]:
    rules: dict[str, Op] = {}
    problems: list[str] = []
    for path, spec in fields.items():
        try:
            parse_path(path)
            rules[path] = parse_op(spec)
        except ValueError as exc:
            problems.append(str(exc))
    return rules, problems


def check_rules(rules: Mapping[str, Op], shape: Shape) -> list[str]:
    """Every reason the rules do not fit the data's shape (empty when they do)."""
    problems = []
    for path, op in rules.items():
        why = check_path(shape, path, parse_path(path), op)
        if why:
            problems.append(why)
    paths = list(rules)
    for outer in paths:
        for inner in paths:
            if is_under(inner, outer):
                problems.append(f"{outer!r} and {inner!r} overlap: keep one")
    return problems


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"key {key!r} appears twice")
        seen[key] = value
    return seen


def load_policy_file(path: Path, shape: Shape) -> Policy:
    """Read, parse and check one policy file against its event type's data shape."""
    where = path.name
    try:
        # The standard library parser, for its duplicate-key hook: a path named
        # twice would otherwise silently keep the last rule.
        raw = json.loads(path.read_text("utf-8"), object_pairs_hook=_no_duplicate_keys)
        parsed = msgspec.convert(raw, PolicyFile)
    except (OSError, ValueError, msgspec.ValidationError) as exc:
        raise PolicyError(where, [str(exc)]) from None
    if path.name != f"{parsed.event_type}.json":
        raise PolicyError(where, [f"the file must be named {parsed.event_type}.json"])
    rules, problems = parse_rules(parsed.fields)
    if not problems:
        problems = check_rules(rules, shape)
    if problems:
        raise PolicyError(where, problems)
    return Policy(event_type=parsed.event_type, version=parsed.version, rules=rules)


def rules_text(rules: Mapping[str, Op]) -> dict[str, str]:
    return {path: str(op) for path, op in rules.items()}


def without_drops(rules: Mapping[str, Op]) -> dict[str, Op]:
    return {p: op for p, op in rules.items() if op.name != DROP}
