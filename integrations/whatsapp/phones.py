"""Recipients in E.164, as the providers want them.

Brazilian mobile numbers are written with and without the ninth digit (``+55 84
9 9999-0101`` and the older ``+55 84 9999-0101``); both name the same phone, and both
providers take the number with it. A number that is not a possible phone is the
caller's error (422, ``$.to``).
"""

from __future__ import annotations

import phonenumbers


def normalized(raw: str, default_region: str = "BR") -> str | None:
    """``+<digits>`` for a possible number, or None."""
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException:
        return None
    if number.country_code == 55:
        national = str(number.national_number)
        # Area code (2 digits) + 8-digit mobile starting 6-9: the ninth digit is missing.
        if len(national) == 10 and national[2] in "6789":
            number = phonenumbers.parse(f"+55{national[:2]}9{national[2:]}")
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def digits(e164: str) -> str:
    """The number without ``+`` (what Meta's and Evolution's APIs take)."""
    return e164.removeprefix("+")
