"""The loaded policies, and their compiled forms per integration override.

Loaded once per process from ``policies/`` and checked against the event
catalog; the API and worker load them at start so a bad policy stops the boot,
not the first event. Compiled functions are cached per (event type, override).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.events.catalog import EVENT_TYPES, EventType
from hub.sanitize.compiler import Sanitize, compile_rules
from hub.sanitize.ops import DROP, MASKING, Op
from hub.sanitize.overrides import narrowed_rules
from hub.sanitize.paths import is_under
from hub.sanitize.policy import Policy, PolicyError, load_policy_file
from hub.sanitize.shapes import Shape, leaf_paths, shape_of

POLICIES_DIR = Path(__file__).resolve().parents[2] / "policies"
_CACHE_LIMIT = 4096


@dataclass(frozen=True)
class CompiledPolicy:
    event_type: str
    version: str  # recorded on each delivery, e.g. "lead.created@3+o.1f2e3d4c"
    rules: dict[str, Op]
    data_type: type[Any]  # the Struct ``sanitize`` takes
    sanitize: Sanitize  # (data Struct, Pseudonymizer) -> sanitized dict
    masked_fields: int  # rules that transform a value
    dropped_fields: int  # fields of the data Struct that never leave
    source: str


def _revealed(path: str, rules: Mapping[str, Op]) -> bool:
    op = rules.get(path)
    if op is not None:
        return op.name != DROP
    return any(is_under(r, path) and o.name != DROP for r, o in rules.items())


def _compile(
    policy: Policy, data_type: type[Any], shape: Shape, rules: dict[str, Op], version: str
) -> CompiledPolicy:
    compiled = compile_rules(rules, shape, name=version)
    leaves = leaf_paths(shape)
    return CompiledPolicy(
        event_type=policy.event_type,
        version=version,
        rules=rules,
        data_type=data_type,
        sanitize=compiled.sanitize,
        masked_fields=sum(1 for op in rules.values() if op.name in MASKING),
        dropped_fields=sum(1 for leaf in leaves if not _revealed(leaf, rules)),
        source=compiled.source,
    )


def override_key(override: Mapping[str, Any]) -> str:
    return json.dumps(override, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


class PolicySet:
    def __init__(self, policies: dict[str, Policy], data_types: Mapping[str, type[Any]]) -> None:
        self._policies = policies
        self._types = dict(data_types)
        self._shapes = {name: shape_of(t) for name, t in self._types.items()}
        self._compiled: dict[tuple[str, str], CompiledPolicy] = {}

    @classmethod
    def load(
        cls, directory: Path = POLICIES_DIR, catalog: Mapping[str, EventType] = EVENT_TYPES
    ) -> PolicySet:
        """Every ``*.json`` in ``directory``; raises ``PolicyError`` on the first bad one."""
        types = {name: t.data_type for name, t in catalog.items()}
        policies: dict[str, Policy] = {}
        for path in sorted(directory.glob("*.json")):
            event_type = path.name.removesuffix(".json")
            if event_type not in types:
                raise PolicyError(path.name, [f"{event_type!r} is not in the event catalog"])
            policies[event_type] = load_policy_file(path, shape_of(types[event_type]))
        return cls(policies, types)

    def get(self, event_type: str) -> Policy | None:
        return self._policies.get(event_type)

    def shape(self, event_type: str) -> Shape:
        return self._shapes[event_type]

    def event_types(self) -> list[str]:
        return sorted(self._policies)

    def compiled(
        self, event_type: str, override: Mapping[str, Any] | None = None
    ) -> CompiledPolicy | None:
        """The policy to sanitize with, narrowed by ``override``; None fails closed.

        An override that is (no longer) valid, e.g. after a policy change removed
        a field it named, also fails closed: nothing is delivered until an admin
        fixes it, rather than delivering with the override silently ignored.
        """
        policy = self._policies.get(event_type)
        if policy is None:
            return None
        key = (event_type, override_key(override) if override else "")
        cached = self._compiled.get(key)
        if cached is not None:
            return cached
        shape = self._shapes[event_type]
        if override:
            rules, problems = narrowed_rules(policy, shape, override)
            if problems:
                return None
            digest = hashlib.sha256(key[1].encode()).hexdigest()[:8]
            version = f"{policy.label}+o.{digest}"
        else:
            rules, version = dict(policy.rules), policy.label
        compiled = _compile(policy, self._types[event_type], shape, rules, version)
        if len(self._compiled) >= _CACHE_LIMIT:
            self._compiled.clear()
        self._compiled[key] = compiled
        return compiled

    def for_integration(
        self, event_type: str, policy_overrides: Mapping[str, Any] | None
    ) -> CompiledPolicy | None:
        override = (policy_overrides or {}).get(event_type)
        if override is not None and not isinstance(override, Mapping):
            return None  # a corrupt override fails closed
        return self.compiled(event_type, override)


_default: PolicySet | None = None


def default_policies() -> PolicySet:
    """The policies of this build (``policies/`` against the catalog), loaded once.

    Shared by every hub in the process on purpose: the files are part of the build
    (reviewed like code), not configuration, so two hubs always hold the same ones; the
    set holds no per-hub state (its compile cache is a pure function of its keys).
    """
    global _default
    if _default is None:
        _default = PolicySet.load()
    return _default
