"""What a policy may name: the shape of an event type's data Struct.

Reduced from ``msgspec.inspect`` to the four things a path can land on: text
(``str``), another scalar (numbers, booleans, timestamps...), an object (a nested
Struct) or a list of one of those. Anything else (free-form maps, unions of
containers) may only be dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec.inspect as mi

from hub.sanitize.ops import DROP, TEXT_ONLY, Op
from hub.sanitize.paths import Segment

TEXT = "text"
SCALAR = "scalar"
OBJECT = "object"
LIST = "list"
OPAQUE = "opaque"


@dataclass(frozen=True)
class Shape:
    kind: str
    nullable: bool = False
    attr: str = ""  # the Struct attribute holding it (its key may be renamed)
    fields: dict[str, Shape] = field(default_factory=dict)  # OBJECT, by JSON key
    item: Shape | None = None  # LIST


_SCALAR_TYPES = (
    mi.IntType,
    mi.FloatType,
    mi.BoolType,
    mi.DecimalType,
    mi.DateTimeType,
    mi.DateType,
    mi.TimeType,
    mi.UUIDType,
    mi.EnumType,
)


def _convert(t: mi.Type, attr: str = "") -> Shape:
    if isinstance(t, mi.UnionType):
        present = [x for x in t.types if not isinstance(x, mi.NoneType)]
        nullable = len(present) < len(t.types)
        if len(present) == 1:
            inner = _convert(present[0], attr)
            return Shape(inner.kind, nullable, attr, inner.fields, inner.item)
        kinds = {_convert(x).kind for x in present}
        if kinds <= {TEXT}:
            return Shape(TEXT, nullable, attr)
        if kinds <= {TEXT, SCALAR}:
            return Shape(SCALAR, nullable, attr)
        return Shape(OPAQUE, nullable, attr)
    if isinstance(t, mi.StrType) or (
        isinstance(t, mi.LiteralType) and all(isinstance(v, str) for v in t.values)
    ):
        return Shape(TEXT, attr=attr)
    if isinstance(t, (mi.LiteralType, *_SCALAR_TYPES)):
        return Shape(SCALAR, attr=attr)
    if isinstance(t, mi.NoneType):
        return Shape(SCALAR, nullable=True, attr=attr)
    if isinstance(t, mi.StructType):
        if t.array_like or any(not f.name.isidentifier() for f in t.fields):
            return Shape(OPAQUE, attr=attr)
        fields = {f.encode_name: _convert(f.type, f.name) for f in t.fields}
        return Shape(OBJECT, attr=attr, fields=fields)
    if isinstance(t, (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)):
        item = _convert(t.item_type)
        return Shape(LIST, attr=attr, item=item) if item.kind != LIST else Shape(OPAQUE, attr=attr)
    return Shape(OPAQUE, attr=attr)


def shape_of(struct_type: type[Any]) -> Shape:
    shape = _convert(mi.type_info(struct_type))
    if shape.kind != OBJECT:
        raise TypeError(f"{struct_type!r} is not a msgspec Struct")
    return shape


def check_path(shape: Shape, path: str, segments: tuple[Segment, ...], op: Op) -> str | None:
    """Why ``path: op`` does not fit ``shape``, or None when it does."""
    node = shape
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        where = ".".join(s.name + ("[]" if s.each else "") for s in segments[: i + 1])
        if node.kind != OBJECT or seg.name not in node.fields:
            return f"{where!r} is not a field of the event's data"
        node = node.fields[seg.name]
        if seg.each:
            if node.kind != LIST or node.item is None:
                return f"{where!r}: {seg.name!r} is not a list"
            node = node.item
        elif node.kind == LIST and not (last and op.name == DROP):
            return f"{where!r} is a list: write {where + '[]'!r}"
        if not last:
            continue
        if op.name == DROP:
            return None
        if node.kind in (OBJECT, LIST):
            return f"{path!r} holds an object: name each of its fields to reveal"
        if node.kind == OPAQUE:
            return f"{path!r} has no fixed shape; it can only be dropped"
        if op.name in TEXT_ONLY and node.kind != TEXT:
            return f"{op} applies to text and {path!r} is not text"
    return None


def leaf_paths(shape: Shape, prefix: str = "") -> list[str]:
    """Every path a policy could reveal (for the "fields dropped" count)."""
    out: list[str] = []
    for name, sub in shape.fields.items():
        path = prefix + name
        node = sub
        if node.kind == LIST and node.item is not None:
            path += "[]"
            node = node.item
        if node.kind == OBJECT:
            out.extend(leaf_paths(node, path + "."))
        else:
            out.append(path)
    return out
