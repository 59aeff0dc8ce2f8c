"""JSON's integers include ``1.0``: JSON Schema calls an integral number an integer
whatever its spelling, and so does the hub's OpenAPI document. msgspec refuses a float
where the Struct says ``int``; this walk, guided by the type, turns the integral floats
it finds in integer places into ints before conversion. Nothing else changes: ``1.5``
stays a float (and is refused), a string stays a string, and values under ``Any``
(event data, action inputs passed through) are left as the client wrote them.
"""

from __future__ import annotations

import functools
from typing import Any

import msgspec.inspect as mi

# Integral floats beyond 2**53 are not exact; JSON parsers disagree about them.
_EXACT = 2**53


@functools.lru_cache(maxsize=512)
def _info(type_: Any) -> mi.Type:
    return mi.type_info(type_)


def integral_floats_to_ints(value: Any, type_: Any) -> Any:
    """``value`` (decoded JSON) with ``1.0`` as ``1`` wherever ``type_`` wants an int."""
    return _walk(value, _info(type_), 0)


def _plain(info: mi.Type) -> mi.Type:
    """Without the ``Metadata`` wrapper ``Annotated[..., Meta(...)]`` puts around a type."""
    while isinstance(info, mi.Metadata):
        info = info.type
    return info


def _walk(value: Any, info: mi.Type, depth: int) -> Any:
    info = _plain(info)
    # Bodies are depth-checked before decoding (MAX_DEPTH); the bound here only keeps
    # a self-referencing type from looping.
    if depth > 128:
        return value
    if isinstance(value, float):
        integral = value.is_integer() and abs(value) <= _EXACT
        return int(value) if integral and _wants_int(info) else value
    if isinstance(value, dict):
        return _walk_object(value, info, depth)
    if isinstance(value, list):
        item = _item_type(info)
        return value if item is None else [_walk(v, item, depth + 1) for v in value]
    return value


def _wants_int(info: mi.Type) -> bool:
    if isinstance(info, mi.IntType):
        return True
    if isinstance(info, mi.UnionType):
        # int | None takes an integral float; int | float keeps what was sent.
        kinds = [_plain(t) for t in info.types if not isinstance(_plain(t), mi.NoneType)]
        return any(isinstance(t, mi.IntType) for t in kinds) and not any(
            isinstance(t, mi.FloatType) for t in kinds
        )
    return False


def _item_type(info: mi.Type) -> mi.Type | None:
    info = _plain(info)
    if isinstance(info, (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)):
        return info.item_type
    if isinstance(info, mi.UnionType):
        for t in info.types:
            found = _item_type(t)
            if found is not None:
                return found
    return None


def _walk_object(value: dict[str, Any], info: mi.Type, depth: int) -> dict[str, Any]:
    info = _plain(info)
    if isinstance(info, mi.UnionType):
        for t in info.types:
            if isinstance(_plain(t), (mi.StructType, mi.DictType, mi.TypedDictType)):
                return _walk_object(value, t, depth)
        return value
    if isinstance(info, mi.StructType):
        fields = {f.encode_name: f.type for f in info.fields}
        return {k: _walk(v, fields[k], depth + 1) if k in fields else v for k, v in value.items()}
    if isinstance(info, mi.DictType):
        return {k: _walk(v, info.value_type, depth + 1) for k, v in value.items()}
    return value
