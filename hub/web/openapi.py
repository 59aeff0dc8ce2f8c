"""The OpenAPI 3.1 document, generated from the code.

Controllers read their bodies themselves (to answer precise problems), so the
request-body schemas come from each route's ``opt["body"]`` Struct, merged into
litestar's generated document here.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Litestar

from hub import __version__
from hub.web.errors import CODES, Problem

_REF = "#/components/schemas/{name}"


def _problem_responses() -> dict[str, Any]:
    statuses = sorted({status for status, _ in CODES.values()})
    return {
        str(status): {
            "description": ", ".join(c for c, (s, _) in CODES.items() if s == status),
            "content": {
                "application/problem+json": {"schema": {"$ref": _REF.format(name="Problem")}}
            },
        }
        for status in statuses
        if status >= 400
    }


def build_openapi(app: Litestar) -> dict[str, Any]:
    doc: dict[str, Any] = app.openapi_schema.to_schema()
    doc["info"] = {
        "title": "hub",
        "version": __version__,
        "description": "Automation gateway: integration API under /v1, admin API under "
        "/admin/v1. Errors are RFC 9457 problems with a stable `code`.",
    }
    components = doc.setdefault("components", {})
    schemas: dict[str, Any] = components.setdefault("schemas", {})
    components["securitySchemes"] = {
        "apiKey": {"type": "http", "scheme": "bearer", "description": "hk_<key id>_<secret>"},
        "adminToken": {"type": "http", "scheme": "bearer", "description": "admin token"},
    }
    body_types: list[tuple[str, str, Any]] = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            body = handler.opt.get("body")
            if body is None:
                continue
            for method in handler.http_methods:
                body_types.append((route.path_format, method.lower(), body))
    (defs, components_out) = msgspec.json.schema_components(
        [Problem, *[b for _, _, b in body_types]], ref_template=_REF
    )
    schemas.update(components_out)
    problem_responses = _problem_responses()
    for path, item in doc.get("paths", {}).items():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            operation.setdefault("responses", {}).update(
                {k: v for k, v in problem_responses.items() if k not in operation["responses"]}
            )
            operation["security"] = (
                [{"adminToken": []}]
                if path.startswith("/admin/")
                else [{"apiKey": []}]
                if path.startswith("/v1/")
                else []
            )
    for (path, method, _body), schema in zip(body_types, defs[1:], strict=True):
        operation = doc["paths"].get(path, {}).get(method)
        if operation is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": schema}},
            }
    return doc
