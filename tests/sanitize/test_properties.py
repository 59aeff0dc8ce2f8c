"""Properties of the sanitizer for random schemas, payloads, policies and overrides.

- the output never holds a key path the policy does not reveal (default deny),
  whatever unknown keys the payload carries at any depth;
- each revealed value is exactly its operation applied to the input, so a mask
  reveals no more than the mask does (the masks' own bounds are in test_ops);
- an accepted override never widens: everything the narrowed policy delivers
  can be computed from what the base policy delivers, path by path;
- a payload that does not fit the schema is refused before any sanitizing.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.sanitize.compiler import compile_rules
from hub.sanitize.ops import (
    DROP,
    HASH,
    KEEP,
    MASK_EMAIL,
    MASK_PHONE,
    TRUNCATE,
    Op,
    Pseudonymizer,
    mask_email,
    mask_phone,
    parse_op,
)
from hub.sanitize.overrides import narrowed_rules
from hub.sanitize.paths import is_under
from hub.sanitize.policy import Policy, check_rules
from hub.sanitize.shapes import shape_of

PZ = Pseudonymizer(bytes(range(32)))
NAMES = ["a", "b", "c", "d"]  # schema fields; unknown payload keys never use these
UNKNOWN = ["x", "secret", "zz"]
SCALAR_KINDS = ["str", "opt_str", "int", "bool", "float", "list_str", "list_int"]
NESTED_KINDS = ["obj", "opt_obj", "list_obj"]
TEXT_KINDS = {"str", "opt_str", "list_str"}
_names = itertools.count()

Spec = dict[str, tuple[str, Any]]  # field -> (kind, nested spec or None)


@st.composite
def specs(draw: st.DrawFn, depth: int = 0) -> Spec:
    fields = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True))
    kinds = SCALAR_KINDS + (NESTED_KINDS if depth < 2 else [])
    spec: Spec = {}
    for name in fields:
        kind = draw(st.sampled_from(kinds))
        spec[name] = (kind, draw(specs(depth + 1)) if kind in NESTED_KINDS else None)
    return spec


def struct_of(spec: Spec) -> type[Any]:
    fields: list[tuple[str, Any, Any]] = []
    for name, (kind, sub) in spec.items():
        scalar = {"str": str, "int": int, "bool": bool, "float": float}
        if kind in scalar:
            fields.append((name, scalar[kind] | None, None))
        elif kind == "opt_str":
            fields.append((name, str | None, None))
        elif kind == "list_str":
            fields.append((name, list[str], msgspec.field(default_factory=list)))
        elif kind == "list_int":
            fields.append((name, list[int], msgspec.field(default_factory=list)))
        else:
            inner = struct_of(sub)
            if kind == "obj":
                fields.append((name, inner, msgspec.field(default_factory=inner)))
            elif kind == "opt_obj":
                fields.append((name, inner | None, None))
            else:
                fields.append((name, list[inner], msgspec.field(default_factory=list)))  # type: ignore[valid-type]
    return msgspec.defstruct(f"S{next(_names)}", fields, kw_only=True)


TEXTS = st.one_of(
    st.text(max_size=12),
    st.emails(),
    st.from_regex(r"\+[1-9][0-9]{7,13}", fullmatch=True),
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def payloads(draw: st.DrawFn, spec: Spec) -> dict[str, Any]:
    """A payload fitting ``spec``, with unknown keys (any JSON) sprinkled at each level."""
    out: dict[str, Any] = {}
    for name, (kind, sub) in spec.items():
        if draw(st.booleans()) and draw(st.booleans()):
            continue  # absent: the default applies
        if kind == "str":
            out[name] = draw(TEXTS)
        elif kind == "opt_str":
            out[name] = draw(st.none() | TEXTS)
        elif kind == "int":
            out[name] = draw(st.integers())
        elif kind == "bool":
            out[name] = draw(st.booleans())
        elif kind == "float":
            out[name] = draw(st.floats(allow_nan=False, allow_infinity=False))
        elif kind == "list_str":
            out[name] = draw(st.lists(TEXTS, max_size=3))
        elif kind == "list_int":
            out[name] = draw(st.lists(st.integers(), max_size=3))
        elif kind == "obj":
            out[name] = draw(payloads(sub))
        elif kind == "opt_obj":
            out[name] = draw(st.none() | payloads(sub))
        else:
            out[name] = draw(st.lists(payloads(sub), max_size=3))
    out.update(draw(st.dictionaries(st.sampled_from(UNKNOWN), JSON, max_size=2)))
    return out


def leaf_paths(spec: Spec, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(path, kind) of every value a policy could name."""
    for name, (kind, sub) in spec.items():
        path = prefix + name
        if kind in ("obj", "opt_obj"):
            yield from leaf_paths(sub, path + ".")
        elif kind == "list_obj":
            yield from leaf_paths(sub, path + "[].")
        elif kind.startswith("list_"):
            yield path + "[]", kind
        else:
            yield path, kind


def container_paths(spec: Spec, prefix: str = "") -> Iterator[str]:
    for name, (kind, sub) in spec.items():
        if kind in NESTED_KINDS:
            yield prefix + name
            inner = prefix + name + ("[]." if kind == "list_obj" else ".")
            yield from container_paths(sub, inner)


def ops_for(kind: str) -> st.SearchStrategy[str]:
    basic = [KEEP, HASH, DROP]
    if kind in TEXT_KINDS:
        return st.sampled_from([*basic, MASK_EMAIL, MASK_PHONE]) | st.integers(1, 8).map(
            lambda n: f"truncate:{n}"
        )
    return st.sampled_from(basic)


@st.composite
def policies(draw: st.DrawFn, spec: Spec) -> dict[str, Op]:
    rules: dict[str, Op] = {}
    for path, kind in leaf_paths(spec):
        if draw(st.booleans()):
            rules[path] = parse_op(draw(ops_for(kind)))
    return rules


@st.composite
def cases(draw: st.DrawFn) -> tuple[Spec, type[Any], dict[str, Op], dict[str, Any]]:
    spec = draw(specs())
    return spec, struct_of(spec), draw(policies(spec)), draw(payloads(spec))


def walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(path, value) of each leaf; None where a whole object or list is null."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from walk(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item, path + "[]")
    else:
        yield path, value


def sanitize(struct: type[Any], rules: dict[str, Op], payload: dict[str, Any]) -> Any:
    shape = shape_of(struct)
    assert check_rules(rules, shape) == []
    fn = compile_rules(rules, shape).sanitize
    return msgspec.to_builtins(fn(msgspec.convert(payload, struct), PZ))


def expected(op: Op, value: Any) -> Any:
    if value is None or op.name == KEEP:
        return value
    if op.name == HASH:
        return PZ(value)
    if op.name == MASK_EMAIL:
        return mask_email(value)
    if op.name == MASK_PHONE:
        return mask_phone(value)
    assert op.name == TRUNCATE
    return value[: op.arg]


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(cases())
def test_output_holds_only_revealed_paths(case: tuple[Spec, Any, dict[str, Op], Any]) -> None:
    _, struct, rules, payload = case
    out = sanitize(struct, rules, payload)
    revealed = {p for p, op in rules.items() if op.name != DROP}
    for path, value in walk(out):
        assert not set(path.replace("[]", "").split(".")) & set(UNKNOWN), path
        if path in revealed:
            continue
        # Only a null (or empty) container on the way to a revealed path.
        assert value is None, path
        assert any(is_under(r, path) for r in revealed), path


@SETTINGS
@given(cases())
def test_each_revealed_value_is_its_operation_applied(
    case: tuple[Spec, Any, dict[str, Op], Any],
) -> None:
    _, struct, rules, payload = case
    out = sanitize(struct, rules, payload)
    source = msgspec.to_builtins(msgspec.convert(payload, struct))
    inputs: dict[str, list[Any]] = {}
    outputs: dict[str, list[Any]] = {}
    for path, value in walk(source):
        inputs.setdefault(path, []).append(value)
    for path, value in walk(out):
        outputs.setdefault(path, []).append(value)
    for path, op in rules.items():
        if op.name == DROP:
            assert path not in outputs
            continue
        got = outputs.get(path, [])
        assert got == [expected(op, v) for v in inputs.get(path, [])], path


@st.composite
def overrides(draw: st.DrawFn, spec: Spec) -> dict[str, str]:
    """Any entries at all: valid narrowings, widenings, containers, junk."""
    paths = [p for p, _ in leaf_paths(spec)] + list(container_paths(spec)) + ["nope", "a.zz"]
    chosen = draw(st.lists(st.sampled_from(paths), max_size=4, unique=True))
    kinds = dict(leaf_paths(spec))
    return {p: draw(ops_for(kinds.get(p, "str"))) for p in chosen}


@SETTINGS
@given(st.data())
def test_accepted_overrides_never_widen(data: st.DataObject) -> None:
    spec, struct, rules, payload = data.draw(cases())
    override = data.draw(overrides(spec))
    shape = shape_of(struct)
    policy = Policy("t", 1, rules)
    narrowed, problems = narrowed_rules(policy, shape, override)
    if problems:
        return  # refused: validate_overrides answers 422 for these
    base_out = dict(_grouped(sanitize(struct, rules, payload)))
    narrow_out = dict(_grouped(sanitize(struct, narrowed, payload)))
    for path, values in narrow_out.items():
        if all(v is None for v in values):
            continue
        assert path in base_out, f"{path} appears only with the override"
        for mine, theirs in zip(values, base_out[path], strict=True):
            assert _derivable(mine, theirs), (path, mine, theirs)


def _grouped(out: Any) -> Iterator[tuple[str, list[Any]]]:
    groups: dict[str, list[Any]] = {}
    for path, value in walk(out):
        groups.setdefault(path, []).append(value)
    return iter(groups.items())


def _derivable(narrowed: Any, base: Any) -> bool:
    """Whether ``narrowed`` is a function of ``base`` (it tells nothing more)."""
    if narrowed is None or narrowed == base:
        return True
    if not isinstance(base, str):
        return narrowed == PZ(base)
    return narrowed in (PZ(base), mask_email(base), mask_phone(base)) or (
        isinstance(narrowed, str) and base.startswith(narrowed)
    )


@SETTINGS
@given(st.data())
def test_a_payload_that_does_not_fit_is_refused_before_sanitizing(data: st.DataObject) -> None:
    spec = data.draw(specs())
    struct = struct_of(spec)
    junk = data.draw(st.dictionaries(st.sampled_from(NAMES + UNKNOWN), JSON, max_size=4))
    try:
        typed = msgspec.convert(junk, struct)
    except msgspec.ValidationError:
        return  # ingest answers VALIDATION_FAILED for this item
    rules = data.draw(policies(spec))
    out = compile_rules(rules, shape_of(struct)).sanitize(typed, PZ)
    revealed = {p for p, op in rules.items() if op.name != DROP}
    for path, value in walk(msgspec.to_builtins(out)):
        assert path in revealed or value is None


@pytest.mark.parametrize("override", [{"a": "keep"}, {"a": "mask_email"}])
def test_widening_overrides_are_refused(override: dict[str, str]) -> None:
    spec: Spec = {"a": ("str", None)}
    struct = struct_of(spec)
    policy = Policy("t", 1, {"a": Op(HASH)})
    _, problems = narrowed_rules(policy, shape_of(struct), override)
    assert problems
