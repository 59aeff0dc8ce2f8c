"""The OpenAPI 3.1 document, generated from the code.

litestar lays out the paths and parameters; everything a partner relies on is then
restated here from the handlers themselves, so the document cannot drift from them:

- ``operationId``: the handler's name (``opt["operation_id"]`` where it must differ),
  verb + noun and stable; summary and description from its docstring.
- request bodies: the ``opt["body"]`` Struct (controllers read bodies themselves, to
  answer precise problems); success bodies: the return annotation's Struct, or
  ``opt["response"]`` for handlers that answer ready-made bytes. Every schema comes from
  msgspec, the encoder and decoder the hub runs.
- errors: only the problems the operation can answer (``openapi_errors``), as
  ``application/problem+json``; ``opt["errors"]`` adds the operation's own codes.
- ``opt["schemas"]``: types a hand-written schema refers to, made components.
- headers: ``opt["header_params"]`` (e.g. the action's ``Idempotency-Key``) and
  ``opt["response_headers"]`` on the success answer; ``X-Request-Id`` on every answer.
- ``webhooks``: what the hub POSTs to a subscriber, given by the caller
  (``hub.app.openapi_of``, from ``hub.events.webhooks_doc``) — the web
  layer knows no event types.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
from litestar import Litestar, Response
from litestar.handlers import HTTPRouteHandler

from hub import __version__
from hub.web.errors import Problem
from hub.web.openapi_errors import HEADERS, operation_codes, problem_responses

_REF = "#/components/schemas/{name}"
_NO_BODY_STATUSES = {204, 304}


class Documented:
    """A type for ``opt`` (``Annotated`` with a schema): litestar deep-copies ``opt``,
    and msgspec's ``Meta`` cannot be copied, so this holder is shared, not copied."""

    def __init__(self, type_: Any) -> None:
        self.type = type_

    def __deepcopy__(self, _memo: dict[int, Any]) -> Documented:
        return self


def _unwrap(value: Any) -> Any:
    return value.type if isinstance(value, Documented) else value


@dataclass
class _Operation:
    path: str
    method: str
    handler: HTTPRouteHandler
    body: Any = None
    response: Any = None
    # Indexes into the list of types handed to msgspec, filled in order.
    schemas: dict[str, int] = field(default_factory=dict)


def _security(path: str) -> str | None:
    if path.startswith("/admin/"):
        return "adminToken"
    if path.startswith("/v1/"):
        return "apiKey"
    return None


def _success_type(handler: HTTPRouteHandler) -> Any:
    """The Struct a success answer encodes, or None for no body."""
    if "response" in handler.opt:
        return _unwrap(handler.opt["response"])
    annotation = handler.parsed_fn_signature.return_type.annotation
    origin = typing.get_origin(annotation)
    if annotation is Response or origin is Response:
        args = typing.get_args(annotation)
        annotation = args[0] if args else None
    if annotation in (None, type(None), bytes, inspect.Signature.empty):
        return None
    return annotation


def _docstring(handler: HTTPRouteHandler) -> tuple[str, str]:
    doc = inspect.getdoc(handler.fn) or ""
    summary, _, rest = doc.partition("\n")
    return summary.strip(), " ".join(rest.split())


def _operations(app: Litestar) -> list[_Operation]:
    found: list[_Operation] = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            # Resolved through the owning routers: the console's Router hides all its pages.
            if not isinstance(handler, HTTPRouteHandler) or not handler.resolve_include_in_schema():
                continue
            for method in sorted(handler.http_methods):
                if method == "OPTIONS":
                    continue
                found.append(
                    _Operation(
                        route.path_format,
                        method.lower(),
                        handler,
                        body=_unwrap(handler.opt.get("body")),
                        response=_success_type(handler),
                    )
                )
    return found


def _type_list(operations: list[_Operation], extra: Sequence[Any]) -> list[Any]:
    kinds: list[Any] = [Problem, *extra]
    for op in operations:
        # Types a schema names by reference only (``opt["schemas"]``) become components.
        kinds += list(op.handler.opt.get("schemas", ()))
        for name, value in (("body", op.body), ("response", op.response)):
            if value is not None:
                op.schemas[name] = len(kinds)
                kinds.append(value)
    return kinds


def _success(op: _Operation, schema: dict[str, Any] | None) -> dict[str, Any]:
    handler = op.handler
    status = handler.status_code
    headers: dict[str, Any] = {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}}
    for name in handler.opt.get("response_headers", ()):
        headers[name] = {"$ref": f"#/components/headers/{name}"}
    description = handler.opt.get("success", "OK" if status != 201 else "Created")
    response: dict[str, Any] = {"description": description, "headers": headers}
    if schema is not None and status not in _NO_BODY_STATUSES:
        # Handlers answering ready-made bytes (opt["response"]) answer JSON too.
        media = str(getattr(handler.media_type, "value", handler.media_type))
        if "response" in handler.opt or not media:
            media = "application/json"
        response["content"] = {media: {"schema": schema}}
    answers = {str(status): response}
    for also, text in handler.opt.get("also", {}).items():
        answers[str(also)] = {**response, "description": text}
    return answers


def _rewrite(op: _Operation, operation: dict[str, Any], defs: tuple[Any, ...]) -> None:
    handler = op.handler
    summary, description = _docstring(handler)
    operation["operationId"] = handler.opt.get("operation_id", handler.handler_name)
    operation["summary"] = handler.summary or summary or operation.get("summary", "")
    operation["description"] = handler.description or description or operation["summary"]
    security = _security(op.path)
    operation["security"] = [{security: []}] if security else []
    parameters: list[dict[str, Any]] = [
        p for p in operation.get("parameters", []) if p.get("in") != "header"
    ]
    parameters += list(handler.opt.get("header_params", ()))
    if parameters:
        operation["parameters"] = parameters
    else:
        operation.pop("parameters", None)
    if op.body is not None:
        operation["requestBody"] = {
            "required": not handler.opt.get("body_optional", False),
            "content": {"application/json": {"schema": defs[op.schemas["body"]]}},
        }
    codes = operation_codes(
        security=security,
        has_body=op.body is not None,
        has_path_params=any(p.get("in") == "path" for p in parameters),
        has_query_params=any(p.get("in") == "query" for p in parameters),
        declared=handler.opt.get("errors", ()),
    )
    schema = defs[op.schemas["response"]] if "response" in op.schemas else None
    operation["responses"] = {**_success(op, schema), **problem_responses(codes)}


def build_openapi(
    app: Litestar,
    *,
    webhooks: dict[str, Any] | None = None,
    webhook_types: Sequence[Any] = (),
) -> dict[str, Any]:
    """The document; ``webhooks`` may refer to components made from ``webhook_types``."""
    doc: dict[str, Any] = app.openapi_schema.to_schema()
    doc["info"] = {
        "title": "hub",
        "version": __version__,
        "description": "Automation gateway: integration API under /v1 (API keys), admin "
        "API under /admin/v1 (admin tokens). Errors are RFC 9457 problems "
        "(`application/problem+json`) with a stable `code`; every answer carries "
        "`X-Request-Id`. Webhooks (REST-hook deliveries) are signed per Standard Webhooks.",
    }
    operations = _operations(app)
    defs, components_out = msgspec.json.schema_components(
        _type_list(operations, webhook_types), ref_template=_REF
    )
    for op in operations:
        operation = doc["paths"].get(op.path, {}).get(op.method)
        if isinstance(operation, dict):
            _rewrite(op, operation, defs)
    components: dict[str, Any] = {
        "schemas": dict(sorted(components_out.items())),
        "headers": HEADERS,
        "securitySchemes": {
            "apiKey": {
                "type": "http",
                "scheme": "bearer",
                "description": "An integration's API key `hk_<key id>_<secret>` "
                "(also accepted as `X-API-Key`).",
            },
            "adminToken": {
                "type": "http",
                "scheme": "bearer",
                "description": "A platform or tenant admin token `hadm_…`.",
            },
        },
    }
    doc["components"] = components
    if webhooks:
        doc["webhooks"] = webhooks
    return doc
