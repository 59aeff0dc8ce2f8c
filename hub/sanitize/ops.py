"""The field operations a policy may name, and which of them narrows which.

Every mask reveals a fixed, documented part of the value and nothing else:
``mask_email`` the first character of the mailbox and of the domain plus the
top-level domain (``j***@e***.com``); ``mask_phone`` the country code and the
last four digits (``+55***0101``); the ``***`` never encodes the length.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

KEEP = "keep"
DROP = "drop"
MASK_EMAIL = "mask_email"
MASK_PHONE = "mask_phone"
HASH = "hash"
TRUNCATE = "truncate"

# Ops that change a value (counted as "masked" in the metrics).
MASKING = frozenset({MASK_EMAIL, MASK_PHONE, HASH, TRUNCATE})
# Ops that only make sense on text.
TEXT_ONLY = frozenset({MASK_EMAIL, MASK_PHONE, TRUNCATE})

MAX_TRUNCATE = 10_000
_TRUNCATE_RE = re.compile(r"truncate:([1-9][0-9]{0,4})")


@dataclass(frozen=True, slots=True)
class Op:
    name: str
    arg: int = 0  # truncate's length

    def __str__(self) -> str:
        return f"{self.name}:{self.arg}" if self.name == TRUNCATE else self.name


def parse_op(spec: str) -> Op:
    """``keep`` | ``drop`` | ``mask_email`` | ``mask_phone`` | ``hash`` | ``truncate:<n>``."""
    if spec in (KEEP, DROP, MASK_EMAIL, MASK_PHONE, HASH):
        return Op(spec)
    match = _TRUNCATE_RE.fullmatch(spec)
    if match and int(match.group(1)) <= MAX_TRUNCATE:
        return Op(TRUNCATE, int(match.group(1)))
    raise ValueError(
        f"unknown operation {spec!r}: use keep, drop, mask_email, mask_phone, hash "
        f"or truncate:<1..{MAX_TRUNCATE}>"
    )


def narrows(new: Op, base: Op) -> bool:
    """Whether ``new`` reveals no more than ``base`` (the rule for overrides).

    Deliberately conservative: a mask is not replaced by a hash (a hash links
    equal values, which the mask did not promise), nor a truncation by a mask.
    """
    if new == base or new.name == DROP or base.name == KEEP:
        return True
    if new.name == TRUNCATE and base.name == TRUNCATE:
        return new.arg <= base.arg
    return False


# -- the operations themselves (also used by the reference in bench/sanitize) ---------


def mask_email(value: str) -> str:
    at = value.rfind("@")
    if at < 1 or at == len(value) - 1:
        return "***"
    dot = value.rfind(".", at + 2)
    if dot < 0 or dot == len(value) - 1:
        return f"{value[0]}***@{value[at + 1]}***"
    return f"{value[0]}***@{value[at + 1]}***{value[dot:]}"


# ITU-T E.164 country codes of one or two digits; every other code has three.
_CC_TWO = frozenset(
    str(cc)
    for cc in (
        *(20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49),
        *(51, 52, 53, 54, 55, 56, 57, 58, 60, 61, 62, 63, 64, 65, 66),
        *(81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98),
    )
)
# The country code's length by the number's first three digits, so masking an
# E.164 number costs one dict lookup.
_CC_LENGTH = {
    f"{n:03d}": 1 if f"{n:03d}"[0] in "17" else 2 if f"{n:03d}"[:2] in _CC_TWO else 3
    for n in range(1000)
}
_MIN_HIDDEN = 2  # digits that stay hidden between the country code and the last four


def mask_phone(value: str) -> str:
    if value[:1] == "+":
        digits = value[1:]
        if digits.isdigit() and digits.isascii():  # E.164, the common case
            return _mask_international(digits)
    stripped = value.lstrip()
    digits = "".join(ch for ch in value if "0" <= ch <= "9")
    if stripped[:2] == "00":
        return _mask_international(digits[2:])
    if stripped[:1] == "+":
        return _mask_international(digits)
    # A national number: no country code to show.
    return f"***{digits[-4:]}" if len(digits) >= 4 + _MIN_HIDDEN + 2 else "***"


def _mask_international(digits: str) -> str:
    cc = _CC_LENGTH.get(digits[:3], 3)
    if len(digits) < cc + _MIN_HIDDEN + 4:
        return "***"
    return f"+{digits[:cc]}***{digits[-4:]}"


class Pseudonymizer:
    """Keyed BLAKE2b (a PRF): a stable pseudonym per value within one tenant.

    The key is derived per tenant from the installation's pepper and never
    stored, so equal values of two tenants hash apart and no table reverses them.
    The keyed state is computed once; each value costs one copy and one update.
    """

    __slots__ = ("_base",)

    def __init__(self, key: bytes) -> None:
        self._base = hashlib.blake2b(key=key, digest_size=16, person=b"hub.sanitize.v1")

    def __call__(self, value: object) -> str | None:
        if value is None:
            return None
        text = value if isinstance(value, str) else str(value)
        h = self._base.copy()
        h.update(text.encode())
        return h.hexdigest()
