"""A policy's rules compiled, once, into one Python function over the typed data.

The function takes the event's data as its msgspec Struct (what ingest decoded
and validated) and returns a new dict built from the revealed fields only:

    def sanitize(d, pz):
        return {'lead_id': d.lead_id, 'document': pz(d.document),
                'contact': None if (t1 := d.contact) is None else {
                    'emails': [{'address': _me(x2.address)} for x2 in t1.emails]}}

Nothing else of the data is ever read, so default deny costs nothing, and the
Struct's declared types (checked against the policy when it loads) guarantee a
``keep`` only ever copies a scalar: a nested object cannot slip through a field
the policy believes is text. Keys of the output are always present (None when
the data had none), which keeps the shape Zapier and Make map fields against.

Why generated source rather than nested closures: closures pay a Python call per
field, about twice the time on the ``lead.created`` sample (bench/sanitize). The
source is built only from identifiers the paths module and msgspec validated
(``repr``-quoted keys, ``isidentifier`` attributes), integers, and a fixed
vocabulary; it runs without builtins.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

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
)
from hub.sanitize.paths import parse_path
from hub.sanitize.shapes import LIST, OBJECT, SCALAR, TEXT, Shape

Sanitize = Callable[[Any, Pseudonymizer], dict[str, Any]]


@dataclass
class _Object:
    fields: dict[str, _Node] = field(default_factory=dict)


@dataclass
class _List:
    item: _Node


@dataclass
class _Leaf:
    op: Op


_Node = _Object | _List | _Leaf


def build_tree(rules: Mapping[str, Op]) -> _Object:
    """Nest the revealing rules (``drop`` needs no code); raises on overlaps."""
    root = _Object()
    for path, op in rules.items():
        if op.name == DROP:
            continue
        node: _Object = root
        segments = parse_path(path)
        for i, seg in enumerate(segments):
            existing = node.fields.get(seg.name)
            if i == len(segments) - 1:
                if existing is not None:
                    raise ValueError(f"path {path!r} overlaps another rule")
                leaf: _Node = _Leaf(op)
                node.fields[seg.name] = _List(leaf) if seg.each else leaf
                break
            if existing is None:
                child = _Object()
                node.fields[seg.name] = _List(child) if seg.each else child
                node = child
            elif seg.each and isinstance(existing, _List) and isinstance(existing.item, _Object):
                node = existing.item
            elif not seg.each and isinstance(existing, _Object):
                node = existing
            else:
                raise ValueError(f"path {path!r} overlaps another rule")
    return root


class _Writer:
    """Builds the one expression; ``fresh`` names the walrus and loop variables."""

    def __init__(self) -> None:
        self._counter = 0

    def fresh(self, stem: str) -> str:
        self._counter += 1
        return f"{stem}{self._counter}"

    def obj(self, node: _Object, shape: Shape, var: str) -> str:
        items = []
        for key, child in node.fields.items():
            sub = shape.fields.get(key)
            if sub is None or not sub.attr.isidentifier():
                raise ValueError(f"field {key!r} is not in the data")
            items.append(f"{key!r}: {self.value(child, sub, f'{var}.{sub.attr}')}")
        return "{" + ", ".join(items) + "}"

    def _nullable(
        self, shape: Shape, access: str, build: Callable[[str], str], bind: bool = False
    ) -> str:
        """``build(value)``, or None when the value is None; ``bind`` reads it once."""
        if not shape.nullable and not bind:
            return build(access)
        t = self.fresh("t")
        return f"(None if ({t} := {access}) is None else {build(t)})"

    def value(self, node: _Node, shape: Shape, access: str) -> str:
        if isinstance(node, _Object):
            if shape.kind != OBJECT:
                raise ValueError("the policy names fields inside a value that has none")
            return self._nullable(shape, access, lambda v: self.obj(node, shape, v), bind=True)
        if isinstance(node, _List):
            item_shape = shape.item
            if shape.kind != LIST or item_shape is None:
                raise ValueError("the policy goes into a value that is not a list")
            x = self.fresh("x")
            item_node = node.item

            def each(v: str) -> str:
                if isinstance(item_node, _Leaf) and item_node.op.name == KEEP:
                    return f"list({v})"
                return f"[{self.value(item_node, item_shape, x)} for {x} in {v}]"

            return self._nullable(shape, access, each)
        return self.leaf(node.op, shape, access)

    def leaf(self, op: Op, shape: Shape, access: str) -> str:
        if shape.kind not in (TEXT, SCALAR):
            raise ValueError(f"{op} applies to a single value")
        if op.name == KEEP:
            return access
        if op.name == HASH:
            return f"pz({access})"  # the pseudonymizer passes None through
        if shape.kind != TEXT:
            raise ValueError(f"{op} applies to text")
        if op.name == MASK_EMAIL:
            return self._nullable(shape, access, lambda v: f"_me({v})")
        if op.name == MASK_PHONE:
            return self._nullable(shape, access, lambda v: f"_mp({v})")
        if op.name == TRUNCATE:
            return self._nullable(shape, access, lambda v: f"{v}[:{int(op.arg)}]")
        raise ValueError(f"cannot compile {op}")


@dataclass(frozen=True)
class Compiled:
    sanitize: Sanitize
    source: str


def compile_rules(rules: Mapping[str, Op], shape: Shape, name: str = "policy") -> Compiled:
    """Compile rules that passed ``check_rules`` into ``sanitize(data, pseudonymizer)``."""
    body = _Writer().obj(build_tree(rules), shape, "d")
    text = f"def sanitize(d, pz):\n    return {body}\n"
    namespace: dict[str, Any] = {
        "__builtins__": {},
        "list": list,
        "_me": mask_email,
        "_mp": mask_phone,
    }
    # The source holds only validated identifiers and integers (see module doc).
    exec(compile(text, f"<policy {name}>", "exec"), namespace)  # noqa: S102
    fn: Sanitize = namespace["sanitize"]
    return Compiled(sanitize=fn, source=text)
