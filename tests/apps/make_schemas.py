"""Make's JSON Schemas for custom-app files, used from ``../shared/make-schemas``.

``FILEMATCH.txt`` says which schema applies to which file name; the schemas refer to
each other by relative file name (``sources.json#/definitions/url``) and to the
draft-07 meta-schema, so they are registered together under one base URI.
"""

from __future__ import annotations

import ast
import fnmatch
import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator
from jsonschema_specifications import REGISTRY as META_SCHEMAS
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = ROOT / ".." / "shared" / "make-schemas"
BASE = "https://make-schemas.invalid/"


@cache
def file_matches() -> list[tuple[list[str], str]]:
    """``(patterns, schema file)`` pairs, in FILEMATCH.txt's order."""
    pairs = []
    for line in (SCHEMA_DIR / "FILEMATCH.txt").read_text().splitlines():
        if "->" not in line:
            continue
        patterns, schema = line.split("->")
        pairs.append((list(ast.literal_eval(patterns.strip())), schema.strip()))
    return pairs


def schema_for(relpath: str) -> str | None:
    """The schema file for a file at ``relpath`` (posix, relative to the app root)."""
    name = relpath.rsplit("/", 1)[-1]
    found = None
    for patterns, schema in file_matches():
        for pattern in patterns:
            if "/" in pattern:
                if fnmatch.fnmatch(relpath, pattern) or fnmatch.fnmatch(
                    relpath, pattern.removeprefix("**/")
                ):
                    return schema  # path-specific patterns win over name patterns
            elif fnmatch.fnmatch(name, pattern) and found is None:
                found = schema
    return found


@cache
def _registry() -> Registry[Any]:
    resources = [
        (BASE + path.name, Resource.from_contents(json.loads(path.read_text()), DRAFT7))
        for path in SCHEMA_DIR.glob("*.json")
    ]
    return META_SCHEMAS.with_resources(resources)


@cache
def validator(schema_file: str) -> Draft7Validator:
    return Draft7Validator({"$ref": BASE + schema_file}, registry=_registry())


def errors(schema_file: str, document: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in validator(schema_file).iter_errors(document)
    ]
