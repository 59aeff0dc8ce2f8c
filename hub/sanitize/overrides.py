"""An integration's policy overrides: they may only narrow, never widen.

``policy_overrides`` maps an event type to ``{path: operation}``. A path must be
one the type's policy names, with an operation that reveals no more than the
policy's (see ``ops.narrows``); or a container of such paths (``contact``,
``contact.phones[]``) with ``drop``, which drops everything under it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hub.sanitize.ops import DROP, Op, narrows, parse_op
from hub.sanitize.paths import is_under, parse_path
from hub.sanitize.policy import Policy, check_rules
from hub.sanitize.shapes import Shape
from hub.web.errors import FieldError, ProblemError

if TYPE_CHECKING:
    from hub.sanitize.registry import PolicySet

MAX_OVERRIDE_RULES = 200


def narrowed_rules(
    policy: Policy, shape: Shape, override: Mapping[str, Any]
) -> tuple[dict[str, Op], list[tuple[str, str]]]:
    """The effective rules and the (path, reason) of every override entry refused."""
    effective = dict(policy.rules)
    problems: list[tuple[str, str]] = []
    container_drops: list[str] = []
    if len(override) > MAX_OVERRIDE_RULES:
        return effective, [("", f"at most {MAX_OVERRIDE_RULES} entries per event type")]
    for path, spec in override.items():
        if not isinstance(spec, str):
            problems.append((path, "the operation must be a string"))
            continue
        try:
            parse_path(path)
            op = parse_op(spec)
        except ValueError as exc:
            problems.append((path, str(exc)))
            continue
        base = policy.rules.get(path)
        if base is not None:
            if narrows(op, base):
                effective[path] = op
            else:
                problems.append((path, f"{op} would reveal more than the policy's {base}"))
        elif op.name == DROP and any(is_under(p, path) for p in policy.rules):
            container_drops.append(path)
        else:
            problems.append(
                (path, "not named by the policy: an override can only narrow what it names")
            )
    # Container drops last, so they win over any finer entry under them.
    for container in container_drops:
        for path in policy.rules:
            if is_under(path, container):
                effective[path] = Op(DROP)
    if not problems:
        problems = [("", why) for why in check_rules(effective, shape)]
    return effective, problems


def _json_path(*keys: str) -> str:
    return "$.policy_overrides" + "".join(f"[{k!r}]" for k in keys if k)


def validate_overrides(overrides: Mapping[str, Any], policies: PolicySet | None = None) -> None:
    """Raise 422 ``VALIDATION_FAILED`` naming every entry that would not only narrow."""
    from hub.sanitize.registry import default_policies

    policies = policies or default_policies()
    errors: list[FieldError] = []
    for event_type, override in overrides.items():
        policy = policies.get(event_type)
        if policy is None:
            errors.append(
                FieldError(path=_json_path(event_type), message="no policy for this event type")
            )
            continue
        if not isinstance(override, Mapping):
            errors.append(FieldError(path=_json_path(event_type), message="must be an object"))
            continue
        _, problems = narrowed_rules(policy, policies.shape(event_type), override)
        errors.extend(
            FieldError(path=_json_path(event_type, path), message=why) for path, why in problems
        )
    if errors:
        raise ProblemError(
            "VALIDATION_FAILED", "policy overrides may only narrow the policies", errors=errors
        )
