"""Limits of accepted input that no schema states: nesting depth, NUL, timestamp range.

Every check is cheap on the common body: a byte count or substring test on the raw
JSON decides whether the exact (slower) check runs at all. Nothing here recurses, so
a hostile body cannot exhaust the stack of the process checking it.
"""

from __future__ import annotations

import functools
from array import array
from collections.abc import Callable
from datetime import UTC, datetime
from itertools import accumulate
from typing import Any

import msgspec

from hub.web.errors import FieldError

# Deep enough for any real document, shallow enough that msgspec, the sanitizer and
# the fingerprint (all recursive) stay far from the interpreter's recursion limit.
MAX_DEPTH = 64

# In UTC. One day inside what ``datetime`` can hold, so converting any offset to UTC
# (or to another offset) never overflows; every year 0002-9998 is inside whatever
# the offset.
EARLIEST_INSTANT = datetime(1, 1, 2, tzinfo=UTC)
LATEST_INSTANT = datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=UTC)

# Reported paths per body are capped: a body of a million bad strings gets a bounded answer.
MAX_REPORTED = 20

NUL_MESSAGE = "text must not contain the NUL character (\\u0000)"
DEPTH_MESSAGE = f"nested deeper than {MAX_DEPTH} levels"
TIMESTAMP_MESSAGE = "timestamp outside 0001-01-02T00:00:00Z .. 9999-12-30T23:59:59Z"

_NOT_OPENERS = bytes(b for b in range(256) if b not in b"[{")
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{}"')
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # as signed bytes: +1 / -1


def is_utf8(raw: bytes) -> bool:
    """JSON text is UTF-8 (RFC 8259); msgspec checks only the strings it decodes."""
    if raw.isascii():
        return True
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def nesting_depth(raw: bytes, *, exact_above: int = MAX_DEPTH) -> int:
    """How deep JSON ``raw`` nests arrays/objects, strings ignored.

    Up to ``exact_above`` the answer may be an upper bound only (the number of
    openers: one C pass, all most bodies cost). Unclosed brackets count as open: a
    truncated body would make a decoder descend as deep before it notices.
    """
    openers = len(raw.translate(None, _NOT_OPENERS))
    if openers <= exact_above:
        return openers
    if b"\\" in raw:
        # Drop escaped backslashes, then escaped quotes: every quote left delimits a string.
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    skeleton = raw.translate(None, _NOT_STRUCTURE)
    # Between quotes (odd pieces) is string content; an unclosed string runs to the end.
    outside = b"".join(skeleton.split(b'"')[::2])
    if len(outside) <= exact_above:
        return len(outside)
    # The deepest running sum of +1 per opener, -1 per closer is the nesting depth.
    return max(accumulate(array("b", outside.translate(_STEPS))), default=0)


def depth_exceeds(raw: bytes, limit: int = MAX_DEPTH) -> bool:
    return nesting_depth(raw, exact_above=limit) > limit


def may_hold_nul(raw: bytes) -> bool:
    """JSON text can carry NUL only escaped (a raw control byte is malformed JSON)."""
    return b"\\" in raw and b"\\u0000" in raw


def _key_path(path: str, key: str) -> str:
    # The path is echoed to the client: show the NUL as its escape, never the byte.
    return path + "." + key.replace("\x00", "\\u0000")


def nul_errors(value: Any, root: str = "$") -> list[FieldError]:
    """A field error for every string or object key of decoded JSON holding NUL."""
    errors: list[FieldError] = []
    # (path, value, whether the key naming it holds NUL), in document order.
    stack: list[tuple[str, Any, bool]] = [(root, value, False)]
    while stack and len(errors) < MAX_REPORTED:
        path, item, bad_key = stack.pop()
        if bad_key or (isinstance(item, str) and "\x00" in item):
            errors.append(FieldError(path=path, message=NUL_MESSAGE))
        if isinstance(item, dict):
            stack.extend(reversed([(_key_path(path, k), v, "\x00" in k) for k, v in item.items()]))
        elif isinstance(item, list):
            stack.extend(reversed([(f"{path}[{i}]", v, False) for i, v in enumerate(item)]))
    return errors


def in_range(moment: datetime) -> bool:
    """Whether ``moment`` lies in the accepted range, in UTC (never raises).

    Comparing aware datetimes works on their offsets without building the UTC value,
    so it cannot overflow the way ``astimezone`` does at the edges of the range.
    """
    if moment.tzinfo is None:
        return True  # naive values are refused by their own rule (tz=True)
    return EARLIEST_INSTANT <= moment <= LATEST_INSTANT


# -- timestamps: a plan per wire type names the only places a datetime can be --------

# A plan is ("dt",), ("struct", cls, ((attr, name, plan), ...)), ("items", plan),
# ("values", plan), ("each", (plan, ...)) for a union or ("lazy", cls) for a Struct
# met again inside itself; None means "no datetime can be here".
Plan = tuple[Any, ...]
_DATETIME: Plan = ("dt",)


def _plan_of(info: Any, building: dict[int, Plan | None]) -> Plan | None:
    # Recursion over the *type* (finite, written by us), never over input values.
    if isinstance(info, msgspec.inspect.DateTimeType):
        return _DATETIME
    if isinstance(info, msgspec.inspect.Metadata):
        return _plan_of(info.type, building)
    if isinstance(info, msgspec.inspect.UnionType):
        plans = tuple(p for t in info.types if (p := _plan_of(t, building)) is not None)
        return None if not plans else plans[0] if len(plans) == 1 else ("each", plans)
    if isinstance(info, msgspec.inspect.ListType | msgspec.inspect.VarTupleType):
        item = _plan_of(info.item_type, building)
        return None if item is None else ("items", item)
    if isinstance(info, msgspec.inspect.DictType):
        value = _plan_of(info.value_type, building)
        return None if value is None else ("values", value)
    if isinstance(info, msgspec.inspect.StructType):
        if id(info) in building:  # a self-referencing Struct: resolved when walked
            return ("lazy", info.cls)
        building[id(info)] = None
        fields = tuple(
            (f.name, f.encode_name, plan)
            for f in info.fields
            if (plan := _plan_of(f.type, building)) is not None
        )
        return ("struct", info.cls, fields) if fields else None
    return None


@functools.cache
def _plan(type_: Any) -> Plan | None:
    return _plan_of(msgspec.inspect.type_info(type_), {})


Checker = Callable[[Any, str], list[FieldError]]


@functools.cache
def _checker(type_: Any) -> Checker | None:
    """The check for ``type_``: None without datetimes, a direct one for a Struct whose
    datetimes are its own fields (every wire type so far), the plan walk otherwise."""
    plan = _plan(type_)
    if plan is None:
        return None
    if plan[0] == "struct" and all(sub is _DATETIME for _, _, sub in plan[2]):
        cls, fields = plan[1], tuple((attr, name) for attr, name, _ in plan[2])

        def own_fields(value: Any, root: str) -> list[FieldError]:
            if not isinstance(value, cls):
                return []
            errors: list[FieldError] = []
            for attr, name in fields:
                moment = getattr(value, attr)
                # The inlined ``in_range``: this runs for every event published.
                if (
                    isinstance(moment, datetime)
                    and moment.tzinfo is not None
                    and not EARLIEST_INSTANT <= moment <= LATEST_INSTANT
                ):
                    errors.append(FieldError(path=f"{root}.{name}", message=TIMESTAMP_MESSAGE))
            return errors

        return own_fields
    return functools.partial(_walk, plan=plan)


def timestamp_errors(value: Any, type_: Any, root: str = "$") -> list[FieldError]:
    """A field error for every ``datetime`` of ``value`` (decoded as ``type_``) outside
    the accepted range. Free for a type without datetimes; visits only where they can be."""
    check = _checker(type_)
    return [] if check is None else check(value, root)


def _walk(value: Any, root: str, *, plan: Plan) -> list[FieldError]:
    errors: list[FieldError] = []
    stack: list[tuple[str, Any, Plan]] = [(root, value, plan)]
    while stack and len(errors) < MAX_REPORTED:
        path, item, node = stack.pop()
        kind = node[0]
        if kind == "dt":
            if isinstance(item, datetime) and not in_range(item):
                errors.append(FieldError(path=path, message=TIMESTAMP_MESSAGE))
        elif kind == "struct":
            if isinstance(item, node[1]):
                for attr, name, sub in reversed(node[2]):
                    stack.append((f"{path}.{name}", getattr(item, attr), sub))
        elif kind == "items":
            if isinstance(item, list | tuple):
                stack.extend(reversed([(f"{path}[{i}]", v, node[1]) for i, v in enumerate(item)]))
        elif kind == "values":
            if isinstance(item, dict):
                children = [(_key_path(path, str(k)), v, node[1]) for k, v in item.items()]
                stack.extend(reversed(children))
        elif kind == "lazy":
            if (sub := _plan(node[1])) is not None:
                stack.append((path, item, sub))
        else:
            stack.extend((path, item, sub) for sub in reversed(node[1]))
    return errors
