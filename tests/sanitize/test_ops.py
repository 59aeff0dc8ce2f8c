"""The masks and the keyed hash: exact outputs, and what they may reveal for any input."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.sanitize.ops import (
    DROP,
    HASH,
    KEEP,
    MASK_EMAIL,
    Op,
    Pseudonymizer,
    mask_email,
    mask_phone,
    narrows,
    parse_op,
)


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("joao.silva@empresa.com", "j***@e***.com"),
        ("joao@empresa.com.br", "j***@e***.br"),
        ("a@b.c", "a***@b***.c"),
        ("x@localhost", "x***@l***"),
        ("no-at-sign", "***"),
        ("@empresa.com", "***"),
        ("joao@", "***"),
        ("", "***"),
        ("we@ird@host.org", "w***@h***.org"),
    ],
)
def test_mask_email(value: str, masked: str) -> None:
    assert mask_email(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("+5584999990101", "+55***0101"),  # Brazil, two-digit code
        ("+14155550123", "+1***0123"),  # NANP, one digit
        ("+79161234567", "+7***4567"),
        ("+351912345678", "+351***5678"),  # Portugal, three digits
        ("+55 (84) 99999-0101", "+55***0101"),
        ("0055 84 99999 0101", "+55***0101"),
        ("(84) 99999-0101", "***0101"),  # national: no country code to show
        ("+5512345", "***"),  # too short to hide anything
        ("1234", "***"),
        ("", "***"),
        ("+٥٥٨٤٩٩٩٩٩٠١٠١", "***"),  # non-ASCII digits are not digits here
    ],
)
def test_mask_phone(value: str, masked: str) -> None:
    assert mask_phone(value) == masked


_EMAIL_MASK = re.compile(r"\*\*\*|(.)\*\*\*@(.)\*\*\*(\.[^.]*)?", re.S)
_PHONE_MASK = re.compile(r"(\+[0-9]{1,3})?\*\*\*([0-9]{4})?")


@given(st.one_of(st.emails(), st.text()))
def test_mask_email_reveals_at_most_two_characters_and_the_tld(value: str) -> None:
    out = mask_email(value)
    match = _EMAIL_MASK.fullmatch(out)
    assert match is not None
    if out == "***":
        return
    local, _, domain = value.rpartition("@")
    assert match.group(1) == local[0]
    assert match.group(2) == domain[0]
    if match.group(3):
        assert value.endswith(match.group(3))
        assert "." not in match.group(3)[1:]


@given(
    st.one_of(
        st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True),
        st.from_regex(r"[0-9 ()+-]{0,20}", fullmatch=True),
        st.text(),
    )
)
def test_mask_phone_reveals_at_most_the_country_code_and_last_four(value: str) -> None:
    out = mask_phone(value)
    match = _PHONE_MASK.fullmatch(out)
    assert match is not None
    digits = "".join(ch for ch in value if "0" <= ch <= "9")
    country = (match.group(1) or "+")[1:]
    hidden = len(digits) - len(country) - len(match.group(2) or "")
    if match.group(2):
        assert digits.endswith(match.group(2))
        assert hidden >= 2  # something always stays hidden between the two
    if country:
        assert country in digits[:5]


def test_pseudonyms_are_keyed_stable_and_pass_none() -> None:
    a, b = Pseudonymizer(b"a" * 32), Pseudonymizer(b"b" * 32)
    assert a("12345678000190") == a("12345678000190")
    assert a("12345678000190") != b("12345678000190")
    assert re.fullmatch(r"[0-9a-f]{32}", a("x") or "")
    assert a(None) is None
    assert a(42) == a("42")


def test_parse_op() -> None:
    assert parse_op("truncate:80") == Op("truncate", 80)
    assert str(parse_op("truncate:80")) == "truncate:80"
    for bad in ("truncate:0", "truncate:-1", "truncate:100001", "truncate:x", "KEEP", "mask"):
        with pytest.raises(ValueError, match="unknown operation"):
            parse_op(bad)


def test_narrowing_order() -> None:
    keep, drop, hash_, email = Op(KEEP), Op(DROP), Op(HASH), Op(MASK_EMAIL)
    assert narrows(drop, keep)
    assert narrows(hash_, keep)
    assert narrows(email, keep)
    assert narrows(drop, email)
    assert narrows(Op("truncate", 5), Op("truncate", 10))
    assert not narrows(Op("truncate", 10), Op("truncate", 5))
    assert not narrows(keep, email)
    assert not narrows(keep, drop)
    assert not narrows(hash_, email)  # a hash links values the mask kept apart
    assert not narrows(email, hash_)
