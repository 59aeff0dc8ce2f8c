"""The fingerprint and the Idempotency-Key header, for all inputs (hypothesis)."""

from __future__ import annotations

import json
import random
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.actions.idempotency import canonical_json, fingerprint, parse_idempotency_key

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
documents = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=25,
)
objects = st.dictionaries(st.text(max_size=8), documents, max_size=6)


def shuffled(value: Any, rnd: random.Random) -> Any:
    """The same JSON value with every object's keys in another order."""
    if isinstance(value, dict):
        items = list(value.items())
        rnd.shuffle(items)
        return {k: shuffled(v, rnd) for k, v in items}
    if isinstance(value, list):
        return [shuffled(v, rnd) for v in value]
    return value


def spelled(value: Any, rnd: random.Random) -> bytes:
    """Serialise with random insignificant whitespace and escaping choices."""
    text = json.dumps(
        value,
        ensure_ascii=rnd.choice([True, False]),
        indent=rnd.choice([None, 0, 2, "\t"]),
        separators=rnd.choice([(",", ":"), (", ", ": "), (" ,", " : ")]),
    )
    return ("\n " * rnd.randint(0, 2) + text + " \r\n" * rnd.randint(0, 2)).encode()


@settings(max_examples=300, deadline=None)
@given(objects, st.randoms(use_true_random=False))
def test_key_order_whitespace_and_escapes_do_not_matter(value: Any, rnd: random.Random) -> None:
    a = msgspec.json.decode(spelled(value, rnd))
    b = msgspec.json.decode(spelled(shuffled(value, rnd), rnd))
    assert fingerprint("create_lead", a) == fingerprint("create_lead", b)


@settings(max_examples=300, deadline=None)
@given(objects, objects)
def test_different_documents_have_different_fingerprints(a: Any, b: Any) -> None:
    if canonical_json(a) != canonical_json(b):
        assert fingerprint("create_lead", a) != fingerprint("create_lead", b)


@settings(max_examples=100, deadline=None)
@given(objects)
def test_the_action_is_part_of_the_fingerprint(value: Any) -> None:
    assert fingerprint("create_lead", value) != fingerprint("update_lead", value)


@given(st.integers(min_value=-(2**53), max_value=2**53))
def test_integral_numbers_are_one_number(n: int) -> None:
    as_float = msgspec.json.decode(f'{{"n": {n}.0}}'.encode())
    as_int = msgspec.json.decode(f'{{"n": {n}}}'.encode())
    assert fingerprint("a", as_float) == fingerprint("a", as_int)


def test_canonical_form_is_sorted_and_compact() -> None:
    assert canonical_json({"b": [1.0, {"d": 1, "c": 2}], "a": "é"}) == (
        b'{"a":"\xc3\xa9","b":[1,{"c":2,"d":1}]}'
    )


printable = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=255
)


@given(printable)
def test_every_printable_key_round_trips_through_the_quoted_form(key: str) -> None:
    quoted = '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'
    assert parse_idempotency_key(quoted) == key


@given(printable.filter(lambda k: k == k.strip() and '"' not in (k[0], k[-1])))
def test_bare_keys_are_themselves(key: str) -> None:
    assert parse_idempotency_key(key) == key
