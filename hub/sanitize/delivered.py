"""The JSON Schema of what a policy lets through: the data schema of an event type,
pruned to the fields the policy reveals, a masked field typed as the text it becomes.

The Zapier and Make apps build their output fields and interfaces from it, so a zap
builder is offered exactly the fields deliveries carry (default deny: a field no rule
reveals is not offered, as it never arrives).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hub.sanitize.ops import DROP, HASH, MASK_EMAIL, MASK_PHONE, TRUNCATE, Op
from hub.sanitize.paths import is_under

_MASKED_AS = {
    MASK_EMAIL: "masked e-mail address (first letter and domain kept)",
    MASK_PHONE: "masked phone number (country code and last digits kept)",
    HASH: "pseudonym: a keyed hash, stable per tenant, that matches equal values",
    TRUNCATE: "truncated text",
}


def _op_at(path: str, rules: Mapping[str, Op]) -> Op | None:
    """The rule that decides ``path`` itself: its own, else its nearest ancestor's."""
    while True:
        op = rules.get(path)
        if op is not None:
            return op
        cut = max(path.rfind("."), path.rfind("[]"))
        if cut <= 0:
            return None
        path = path[:cut]


def _partly_revealed(path: str, rules: Mapping[str, Op]) -> bool:
    return any(is_under(r, path) and op.name != DROP for r, op in rules.items())


class _Pruner:
    def __init__(self, root: Mapping[str, Any], rules: Mapping[str, Op]) -> None:
        self.root = root
        self.rules = rules

    def deref(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        current = dict(schema)
        while "$ref" in current:
            ref = str(current.pop("$ref"))
            target: Any = self.root
            for part in ref.removeprefix("#/").split("/"):
                target = target[part]
            current = {**target, **current}
        return current

    def prune(self, schema: Mapping[str, Any], path: str) -> dict[str, Any] | None:
        """``schema`` at ``path`` as delivered, or None if nothing of it is."""
        schema = self.deref(schema)
        op = _op_at(path, self.rules) if path else None
        if op is not None and op.name != DROP:
            if op.name in _MASKED_AS:
                return _nullable_like(
                    schema, {"type": "string", "description": _MASKED_AS[op.name]}
                )
            return self.inline(schema)
        if path and not _partly_revealed(path, self.rules):
            return None
        variants = schema.get("anyOf")
        if variants:
            kept = [v for v in (self.prune(v, path) for v in variants) if v is not None]
            if not any(v.get("type") != "null" for v in kept):
                return None
            return {**_without(schema, "anyOf"), "anyOf": kept}
        if schema.get("type") == "null":
            return dict(schema)  # a nullable field stays nullable
        if schema.get("type") == "object":
            props = {}
            for key, sub in (schema.get("properties") or {}).items():
                pruned = self.prune(sub, f"{path}.{key}" if path else key)
                if pruned is not None:
                    props[key] = pruned
            required = [k for k in schema.get("required", []) if k in props]
            return {
                **_without(schema, "properties", "required"),
                "properties": props,
                "required": required,
            }
        if schema.get("type") == "array" and "items" in schema:
            item = self.prune(schema["items"], f"{path}[]")
            return {**schema, "items": item} if item is not None else None
        return None

    def inline(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        """``schema`` with every ``$ref`` resolved (kept whole)."""
        out = self.deref(schema)
        for key in ("anyOf", "oneOf", "allOf"):
            if key in out:
                out[key] = [self.inline(v) for v in out[key]]
        if "properties" in out:
            out["properties"] = {k: self.inline(v) for k, v in out["properties"].items()}
        if isinstance(out.get("items"), Mapping):
            out["items"] = self.inline(out["items"])
        return out


def _without(schema: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k not in keys}


def _nullable_like(original: Mapping[str, Any], text: dict[str, Any]) -> dict[str, Any]:
    """A masked value stays null where the original could be null."""
    nullable = any(v.get("type") == "null" for v in original.get("anyOf", []))
    return {"anyOf": [text, {"type": "null"}]} if nullable else text


def delivered_schema(data_schema: Mapping[str, Any], rules: Mapping[str, Op]) -> dict[str, Any]:
    """``data_schema`` (msgspec's, with ``$defs``) as ``rules`` deliver it: no ``$ref``."""
    pruned = _Pruner(data_schema, rules).prune(data_schema, "")
    out = pruned or {"type": "object", "properties": {}, "required": []}
    out.pop("$defs", None)
    return out


def revealed_paths(schema: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Every leaf path of a delivered schema (``contact.emails[].address``), sorted."""
    found: list[str] = []
    variants = schema.get("anyOf")
    if variants:
        for v in variants:
            found += revealed_paths(v, prefix)
        return sorted(set(found))
    if schema.get("type") == "object" and "properties" in schema:
        for key, sub in schema["properties"].items():
            found += revealed_paths(sub, f"{prefix}.{key}" if prefix else key)
        return sorted(set(found))
    if schema.get("type") == "array" and isinstance(schema.get("items"), Mapping):
        return revealed_paths(schema["items"], f"{prefix}[]")
    return [prefix] if prefix and schema.get("type") != "null" else []
