"""Field paths of a policy: ``contact.name``, ``tags[]``, ``contact.emails[].address``.

A segment is a field name; ``[]`` after it means "each element of this list".
Names are plain identifiers, which also keeps the compiled code free of
anything a policy author could smuggle in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SEGMENT_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]{0,63})(\[\])?")
MAX_DEPTH = 8


@dataclass(frozen=True, slots=True)
class Segment:
    name: str
    each: bool  # the field is a list and the path goes into each element


def parse_path(path: str) -> tuple[Segment, ...]:
    parts = path.split(".")
    if not path or len(parts) > MAX_DEPTH:
        raise ValueError(f"path {path!r} must have 1 to {MAX_DEPTH} segments")
    segments = []
    for part in parts:
        match = _SEGMENT_RE.fullmatch(part)
        if match is None:
            raise ValueError(
                f"path {path!r}: segment {part!r} must be a field name, optionally "
                "followed by [] for each element of a list"
            )
        segments.append(Segment(match.group(1), match.group(2) is not None))
    return tuple(segments)


def is_under(path: str, container: str) -> bool:
    """Whether ``path`` lies strictly inside ``container`` (``contact`` holds ``contact.name``)."""
    return path.startswith((container + ".", container + "[]")) and path != container
