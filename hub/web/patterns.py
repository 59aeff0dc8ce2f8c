"""Regex pieces that read alike in Python (msgspec, the hub) and ECMA-262 (JSON Schema,
the OpenAPI document, every client validating against it).

``\\s``, ``\\S`` and ``\\d`` do not: Python's ``\\s`` also matches ``\\x1c``-``\\x1f`` and
``\\x85``, ECMA's also ``\\ufeff``; Python's ``\\d`` matches every Unicode digit. A field
pattern written with them would refuse what the document allows, or the reverse.
"""

from __future__ import annotations

# Whitespace in either engine, and the control characters (no visible text is there).
_BLANK = r"\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"

VISIBLE = rf"[^{_BLANK}]"  # one character that is neither blank nor control
NOT_BLANK_NOR_AT = rf"[^@{_BLANK}]"
DIGIT = "[0-9]"
# One character of a URL's host[:port] with no userinfo (no ``@``): the authority ends at
# the first ``/``, ``?`` or ``#``.
URL_AUTHORITY = rf"[^@/?#{_BLANK}]"
# A host name or IPv4 address as a filter names it (no port, no brackets): letters,
# digits, dots and hyphens only, so it is also safe inside a SQL LIKE pattern.
HOST_NAME = r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$"
