"""Make (make.com): the hub's custom app, generated from the catalog (``hub export make``).

The app is written in Make's local-development layout (``makecomapp.json`` plus
``*.iml.json`` code files, as the Make Apps Editor clones and deploys it):

- base: base URL, the API key header and the hub's problems mapped to Make error types;
- connection ``hub``: API key (+ optional self-hosted URL), tested with ``GET /v1/me``;
- per event type a dedicated webhook (attach ``POST /v1/hooks`` with Make's URL, keeping
  our subscription id; detach ``DELETE /v1/hooks/{id}``) and an instant trigger;
- per action a module ``POST /v1/actions/{name}`` with mappable parameters from the
  input schema and an ``Idempotency-Key`` (mapped, else derived from the inputs).

    python -m hub.export.make_app                       # export from this checkout
    python -m hub.export.make_app --catalog catalog.json --out make_templates
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hub.actions.idempotency import DERIVED_KEY

APP_ID = "hub-gateway"
CONNECTION = "hub"
HOSTED_BASE_URL = "https://hub.example.com"
SAMPLE_TIME = "2025-01-01T12:00:00Z"
KEY_PARAM = "idempotency_key"
LONG_TEXT = 1000
MAX_LABEL = 256

Json = Any
Files = dict[str, Json]

# The hub's problems as Make error types. The code decides before the status: the
# contract answers IDEMPOTENCY_KEY_REUSED with 422, and it is a duplicate, not bad data;
# IDEMPOTENCY_IN_PROGRESS (409) is worth retrying like a rate limit.
ERROR_TYPE = (
    "{{if(body.code == 'IDEMPOTENCY_KEY_REUSED', 'DuplicateDataError', "
    "if(statusCode == 401, 'InvalidAccessTokenError', "
    "if(statusCode == 429 || body.code == 'IDEMPOTENCY_IN_PROGRESS', 'RateLimitError', "
    "if(statusCode >= 500, 'ConnectionError', "
    "if(statusCode == 422 || statusCode == 400, 'DataError', 'RuntimeError')))))}}"
)
ERROR_MESSAGE = (
    "[{{statusCode}}] {{ifempty(body.detail, body.title)}} ({{body.code}})"
    "{{if(length(body.errors) > 0, ': ' + join(map(body.errors, 'path'), ', '), '')}}"
    " correlation id {{body.correlation_id}}"
)
ERROR = {"message": ERROR_MESSAGE, "type": ERROR_TYPE}
SANITIZE = {"sanitize": ["request.headers.authorization"]}


def base_url(source: str) -> str:
    """IML for the hub's address without a trailing slash."""
    return f"{{{{replace(ifempty({source}, '{HOSTED_BASE_URL}'), '/\\/+$/', '')}}}}"


def camel(*words: str) -> str:
    parts = [p for w in words for p in re.split(r"[^a-zA-Z0-9]+", w) if p]
    return parts[0].lower() + "".join(p[:1].upper() + p[1:] for p in parts[1:])


def kebab(name: str) -> str:
    return re.sub(r"([a-z0-9])([A-Z])", r"\1-\2", name).lower()


def humanize(name: str) -> str:
    words = re.sub(r"[_.\-]+", " ", name).strip().split()
    text = " ".join(w[:1].upper() + w[1:] for w in words)
    return re.sub(r"\bId\b", "ID", text)


_SMALL_WORDS = {"a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the", "to"}


def title_case(text: str) -> str:
    """``E-mail marked as spam`` -> ``E-mail Marked as Spam`` (Make's and Zapier's labels)."""
    words = text.split()
    return " ".join(
        w if (i and w.lower() in _SMALL_WORDS) or w[:1].isupper() else w[:1].upper() + w[1:]
        for i, w in enumerate(words)
    )


def with_article(title: str) -> str:
    """``Create Lead`` -> ``Create a Lead``; ``Send Email`` -> ``Send an Email``."""
    verb, _, rest = title.partition(" ")
    if not rest or rest.split()[0].lower() in {"a", "an", "the"}:
        return title
    article = "an" if rest[:1].lower() in "aeiou" else "a"
    return f"{verb} {article} {rest}"


def triggers_when(description: str) -> str:
    """``A lead was created.`` -> ``Triggers when a lead was created.``"""
    text = description.strip()
    if text.lower().startswith("triggers when"):
        return text
    return f"Triggers when {text[:1].lower()}{text[1:]}"


class _Schema:
    """A JSON Schema document whose ``$ref``s resolve against its own root."""

    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root

    def deref(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        current = dict(schema)
        seen: set[str] = set()
        while "$ref" in current:
            ref = current.pop("$ref")
            if ref in seen or not ref.startswith("#/"):
                raise ValueError(f"cannot resolve {ref}")
            seen.add(ref)
            target: Any = self.root
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            current = {**target, **current}
        return current

    def unwrap(self, schema: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        """``X | None`` (msgspec's ``anyOf`` with null) as X, and whether null was allowed."""
        resolved = self.deref(schema)
        variants = resolved.get("anyOf") or resolved.get("oneOf")
        if not variants:
            return resolved, False
        non_null = [v for v in variants if self.deref(v).get("type") != "null"]
        if len(non_null) == 1 and len(non_null) < len(variants):
            rest = {k: v for k, v in resolved.items() if k not in ("anyOf", "oneOf")}
            return {**self.deref(non_null[0]), **rest}, True
        return resolved, False

    def enum(self, schema: Mapping[str, Any]) -> list[Any] | None:
        if isinstance(schema.get("enum"), list):
            return [v for v in schema["enum"] if v is not None]
        variants = schema.get("anyOf") or schema.get("oneOf")
        if variants and all("const" in self.deref(v) for v in variants):
            return [self.deref(v)["const"] for v in variants]
        return None


def _is_object(schema: Mapping[str, Any]) -> bool:
    return schema.get("type") == "object" or ("type" not in schema and "properties" in schema)


def _help(schema: Mapping[str, Any]) -> str | None:
    parts = [str(schema["description"]).strip()] if schema.get("description") else []
    examples = schema.get("examples") or []
    if examples and not isinstance(examples[0], dict | list):
        parts.append(f"Example: {examples[0]}")
    text = " ".join(p for p in parts if p)
    return text or None


def _scalar(schema: Mapping[str, Any], doc: _Schema) -> dict[str, Any]:
    choices = doc.enum(schema)
    if choices:
        return {
            "type": "select",
            "options": [{"label": humanize(str(v)), "value": v} for v in choices],
        }
    kind = schema.get("type")
    if kind == "integer":
        return {"type": "integer"}
    if kind == "number":
        return {"type": "number"}
    if kind == "boolean":
        return {"type": "boolean"}
    if schema.get("format") == "date-time":
        return {"type": "date"}
    if schema.get("format") == "email":
        return {"type": "email"}
    if int(schema.get("maxLength") or 0) > LONG_TEXT:
        return {"type": "text", "multiline": True}
    return {"type": "text"}


def parameters(
    schema: Mapping[str, Any], doc: _Schema | None = None, *, with_required: bool = True
) -> list[dict[str, Any]]:
    """Make parameters for the properties of an object schema (mappable or interface)."""
    doc = doc or _Schema(schema)
    obj = doc.deref(schema)
    required = set(obj.get("required") or [])
    out: list[dict[str, Any]] = []
    for name, prop_schema in (obj.get("properties") or {}).items():
        prop, nullable = doc.unwrap(prop_schema)
        title = prop_schema.get("title") or (None if _is_object(prop) else prop.get("title"))
        param: dict[str, Any] = {"name": name, "label": (title or humanize(name))[:MAX_LABEL]}
        if _is_object(prop) and prop.get("properties"):
            param |= {"type": "collection", "spec": parameters(prop, doc, with_required=True)}
        elif _is_object(prop):
            param["type"] = "any"
        elif prop.get("type") == "array":
            items, _ = doc.unwrap(prop.get("items") or {})
            if _is_object(items) and items.get("properties"):
                param |= {"type": "array", "spec": parameters(items, doc, with_required=True)}
            else:
                param |= {"type": "array", "spec": {"label": "Item", **_scalar(items, doc)}}
        else:
            param |= _scalar(prop, doc)
        if with_required:
            param["required"] = name in required and not nullable
            help_text = _help(prop_schema if prop_schema.get("description") else prop)
            if help_text:
                param["help"] = help_text
            default = prop.get("default")
            if isinstance(default, str | int | float | bool) and default != "":
                param["default"] = default
        out.append(param)
    return out


def idempotency_key_iml(action: str, schema: Mapping[str, Any]) -> str:
    """The Idempotency-Key header: the mapped value (namespaced by the action), else
    ``auto``, which has the hub derive the key from the action and the canonical JSON
    of the body it receives (docs/actions.md).

    Make re-runs a failed module with the same mapped inputs (incomplete executions,
    Break handler retries), so the derived key lets the hub answer the retry from its
    stored result instead of acting twice; IML cannot hash canonical JSON itself (a
    key joined from values as text would let different inputs collide).
    """
    del schema  # every input is in the body the hub hashes
    return (
        f"{{{{if(parameters.{KEY_PARAM}, 'make:{action}:' + parameters.{KEY_PARAM}, "
        f"'{DERIVED_KEY}')}}}}"
    )


def delivered_sample(event: Mapping[str, Any]) -> dict[str, Any]:
    """What a delivery of the event carries under the default policy (the catalog's
    ``delivered_sample``; an older catalog's raw sample wrapped as a delivery)."""
    if event.get("delivered_sample"):
        return dict(event["delivered_sample"])
    sample = dict(event.get("sample") or {})
    if {"id", "type", "data"} <= sample.keys():
        return sample
    type_ = str(event["type"])
    return {
        "id": f"evt_sample_{type_.replace('.', '_')}",
        "type": type_,
        "occurred_at": SAMPLE_TIME,
        "data": sample,
    }


def _events(catalog: Mapping[str, Any]) -> list[dict[str, Any]]:
    return list(catalog.get("event_types") or catalog.get("events") or [])


def _actions(catalog: Mapping[str, Any]) -> list[dict[str, Any]]:
    return list(catalog.get("actions") or [])


def trigger_module_id(event_type: str) -> str:
    return camel("watch", event_type)


def action_module_id(action: str) -> str:
    return camel(action)


def _code_files(kind: str, ident: str, codes: Mapping[str, str | None]) -> dict[str, str | None]:
    folder = f"{kind}/{kebab(ident)}"
    return {
        code: (f"{folder}/{kebab(ident)}.{suffix}.iml.json" if suffix else None)
        for code, suffix in codes.items()
    }


def _connection(files: Files) -> dict[str, Any]:
    codes = _code_files(
        "connections", CONNECTION, {"communication": "communication", "params": "params"}
    )
    files[str(codes["communication"])] = {
        "url": base_url("parameters.baseUrl") + "/v1/me",
        "method": "GET",
        "headers": {
            "Authorization": "Bearer {{parameters.apiKey}}",
            "Accept": "application/json",
        },
        "response": {
            "metadata": {"type": "text", "value": "{{body.tenant_name}} – {{body.name}}"},
            "error": ERROR,
        },
        "log": SANITIZE,
    }
    files[str(codes["params"])] = [
        {
            "name": "apiKey",
            "type": "password",
            "label": "API Key",
            "required": True,
            "help": "The integration key your hub admin created for Make (starts with hk_). "
            "After a key rotation, paste the new key here.",
        },
        {
            "name": "baseUrl",
            "type": "url",
            "label": "Hub URL",
            "required": False,
            "advanced": True,
            "help": f"Only for self-hosted installs. Leave empty for {HOSTED_BASE_URL}.",
        },
    ]
    return {
        "label": "Hub API key",
        "connectionType": "basic",
        "codeFiles": {**codes, "common": None},
    }


def _webhook(event: Mapping[str, Any], files: Files) -> tuple[str, dict[str, Any]]:
    ident = kebab(camel(str(event["type"])))
    codes = _code_files(
        "webhooks",
        ident,
        {
            "communication": "communication",
            "params": "params",
            "attach": "attach",
            "detach": "detach",
        },
    )
    files[str(codes["communication"])] = {
        "respond": {"status": 200, "type": "json", "body": {"received": True}},
    }
    files[str(codes["params"])] = []
    files[str(codes["attach"])] = {
        "url": "/v1/hooks",
        "method": "POST",
        "body": {"event": event["type"], "target_url": "{{webhook.url}}"},
        # Kept as webhook data: detach deletes exactly our subscription.
        "response": {"data": {"externalHookId": "{{body.id}}"}},
    }
    files[str(codes["detach"])] = {
        "url": "/v1/hooks/{{webhook.externalHookId}}",
        "method": "DELETE",
    }
    meta = {
        "label": title_case(str(event.get("title") or humanize(str(event["type"]))))[:MAX_LABEL],
        "webhookType": "web",
        "connection": CONNECTION,
        "altConnection": None,
        "codeFiles": {**codes, "update": None, "requiredScope": None},
    }
    return ident, meta


def _trigger(event: Mapping[str, Any], webhook: str, files: Files) -> tuple[str, dict[str, Any]]:
    ident = trigger_module_id(str(event["type"]))
    codes = _code_files(
        "modules",
        ident,
        {
            "communication": "communication",
            "staticParams": None,
            "mappableParams": None,
            "interface": "interface",
            "samples": "samples",
        },
    )
    files[str(codes["communication"])] = {"output": "{{body}}"}
    # The fields deliveries carry (the default policy's), not what a publisher sends.
    data_schema = (
        event.get("delivered_schema")
        or event.get("data_schema")
        or {"type": "object", "properties": {}}
    )
    files[str(codes["interface"])] = [
        {"name": "id", "type": "text", "label": "Event ID"},
        {"name": "type", "type": "text", "label": "Event type"},
        {"name": "occurred_at", "type": "date", "label": "Occurred at"},
        {
            "name": "data",
            "type": "collection",
            "label": "Data",
            "spec": parameters(data_schema, with_required=False),
        },
        {"name": "sandbox", "type": "boolean", "label": "Sandbox event"},
    ]
    files[str(codes["samples"])] = delivered_sample(event)
    title = title_case(str(event.get("title") or humanize(str(event["type"]))))
    meta = {
        "label": f"Watch {title}"[:MAX_LABEL],
        "description": triggers_when(str(event.get("description") or f"a {event['type']} event.")),
        "moduleType": "instant_trigger",
        "connection": None,
        "altConnection": None,
        "webhook": webhook,
        "codeFiles": codes,
    }
    return ident, meta


def _action(action: Mapping[str, Any], files: Files) -> tuple[str, dict[str, Any]]:
    name = str(action["name"])
    ident = action_module_id(name)
    codes = _code_files(
        "modules",
        ident,
        {
            "communication": "communication",
            "staticParams": None,
            "mappableParams": "mappable-params",
            "interface": "interface",
            "samples": "samples",
        },
    )
    input_schema = action.get("input_schema") or {"type": "object", "properties": {}}
    output_schema = action.get("output_schema") or {"type": "object", "properties": {}}
    files[str(codes["communication"])] = {
        "url": f"/v1/actions/{name}",
        "method": "POST",
        "headers": {"Idempotency-Key": idempotency_key_iml(name, input_schema)},
        "body": f"{{{{omit(parameters, '{KEY_PARAM}')}}}}",
        "response": {"output": "{{body}}"},
    }
    files[str(codes["mappableParams"])] = [
        *parameters(input_schema),
        {
            "name": KEY_PARAM,
            "type": "text",
            "label": "Idempotency key",
            "required": False,
            "advanced": True,
            "help": "Map something unique to what caused this run, usually the trigger's "
            "Event ID: the hub then runs this action once per value, however often Make "
            "retries. Left empty, the key is derived from the action and its inputs, so "
            "identical inputs within 24 hours run once.",
        },
    ]
    files[str(codes["interface"])] = [
        {"name": "execution_id", "type": "text", "label": "Execution ID"},
        {"name": "action", "type": "text", "label": "Action"},
        {"name": "status", "type": "text", "label": "Status"},
        {
            "name": "outputs",
            "type": "collection",
            "label": "Outputs",
            "spec": parameters(output_schema, with_required=False),
        },
    ]
    files[str(codes["samples"])] = {
        "execution_id": "exe_sample",
        "action": name,
        "status": "succeeded",
        "outputs": action.get("sample_output") or action.get("sample") or {},
    }
    if action.get("kind") == "search":
        _as_search(action, codes, files)
        meta = {
            "label": _search_label(action),
            "description": str(action.get("description") or f"Runs the {name} search."),
            "moduleType": "search",
            "connection": CONNECTION,
            "altConnection": None,
            "codeFiles": codes,
        }
        return ident, meta
    meta = {
        "label": with_article(title_case(str(action.get("title") or humanize(name))))[:MAX_LABEL],
        "description": str(action.get("description") or f"Runs the {name} action."),
        "moduleType": "action",
        "actionCrud": "update" if name.startswith("update_") else "create",
        "connection": CONNECTION,
        "altConnection": None,
        "codeFiles": codes,
    }
    return ident, meta


def _search_label(action: Mapping[str, Any]) -> str:
    """``Search Leads`` (Make's convention for a search module)."""
    noun = str(action.get("noun") or humanize(str(action["name"]).split("_", 1)[-1]))
    return f"Search {noun}s"[:MAX_LABEL]


def _as_search(action: Mapping[str, Any], codes: dict[str, str | None], files: Files) -> None:
    """A search module: the same call, each found item a bundle (``iterate``)."""
    output_schema = action.get("output_schema") or {"type": "object", "properties": {}}
    doc = _Schema(output_schema)
    props = doc.deref(output_schema).get("properties") or {}
    key = next((k for k, s in props.items() if doc.deref(s).get("type") == "array"), None)
    if key is None:
        raise ValueError(f"search {action['name']} has no list of matches in its outputs")
    item_schema = {**doc.deref(doc.deref(props[key]).get("items") or {})}
    item_schema["$defs"] = output_schema.get("$defs", {})
    communication = files[str(codes["communication"])]
    communication["response"] = {"iterate": f"{{{{body.outputs.{key}}}}}", "output": "{{item}}"}
    files[str(codes["interface"])] = parameters(item_schema, with_required=False)
    sample = action.get("sample_output") or action.get("sample") or {}
    items = sample.get(key) or [{}]
    files[str(codes["samples"])] = items[0]


API_CALL_MODULE = "makeApiCall"


def rpc_id(choice: str) -> str:
    return "list" + "".join(part.title() for part in choice.split("_"))


def _choices(catalog: Mapping[str, Any]) -> Mapping[str, Any]:
    return dict((catalog.get("api") or {}).get("choices") or {})


def _rpc(choice: str, path: str, files: Files) -> tuple[str, dict[str, Any]]:
    """A dynamic dropdown: GET /v1/choices/{name}, each item an option."""
    ident = rpc_id(choice)
    codes = _code_files("rpcs", ident, {"communication": "communication", "params": "params"})
    files[str(codes["communication"])] = {
        "url": path.replace("{name}", choice),
        "method": "GET",
        "response": {
            "iterate": "{{body.items}}",
            "output": {"label": "{{item.label}}", "value": "{{item.value}}"},
        },
    }
    files[str(codes["params"])] = []
    meta = {
        "label": f"List {humanize(choice)} Choices",
        "connection": CONNECTION,
        "altConnection": None,
        "codeFiles": codes,
    }
    return ident, meta


def _with_dropdowns(params: list[dict[str, Any]], fields: Mapping[str, str]) -> None:
    """The inputs the hub lists choices for read them from its RPC, not a frozen list."""
    for param in params:
        choice = fields.get(str(param.get("name")))
        if choice is not None and param.get("type") == "select":
            param["options"] = f"rpc://{rpc_id(choice)}"


def _api_call(files: Files) -> tuple[str, dict[str, Any]]:
    """The universal module Make's review expects: any hub endpoint the connection's key
    may call, with the connection's base URL and ``Authorization`` (from base.imljson)."""
    codes = _code_files(
        "modules",
        API_CALL_MODULE,
        {
            "communication": "communication",
            "staticParams": None,
            "mappableParams": "mappable-params",
            "interface": "interface",
            "samples": "samples",
        },
    )
    files[str(codes["communication"])] = {
        "url": "{{parameters.url}}",
        "method": "{{parameters.method}}",
        # Make's schema wants headers as an object: the one header the hub's API asks
        # of a caller besides the key (an action's), ignored by every other route.
        "headers": {"Idempotency-Key": f"{{{{ifempty(parameters.{KEY_PARAM}, '{DERIVED_KEY}')}}}}"},
        "body": "{{parameters.body}}",
        "response": {
            "output": {"body": "{{body}}", "headers": "{{headers}}", "statusCode": "{{statusCode}}"}
        },
    }
    files[str(codes["mappableParams"])] = [
        {
            "name": "url",
            "type": "text",
            "label": "URL",
            "required": True,
            "help": "A path of the hub's API with its query string, e.g. `/v1/me` or "
            "`/v1/events/lead.created/samples?limit=3` (the connection's Hub URL and API "
            "key are added).",
        },
        {
            "name": "method",
            "type": "select",
            "label": "Method",
            "required": True,
            "default": "GET",
            "options": [{"label": m, "value": m} for m in ("GET", "POST", "PATCH", "DELETE")],
        },
        {
            "name": "body",
            "type": "any",
            "label": "Body",
            "help": "A JSON body, for POST and PATCH.",
        },
        {
            "name": KEY_PARAM,
            "type": "text",
            "label": "Idempotency key",
            "advanced": True,
            "help": "For `POST /v1/actions/…`: map the trigger's Event ID. Left empty, "
            "the hub derives the key from the body (`auto`). Other routes ignore it.",
        },
    ]
    files[str(codes["interface"])] = [
        {"name": "body", "type": "any", "label": "Body"},
        {"name": "headers", "type": "collection", "label": "Headers"},
        {"name": "statusCode", "type": "number", "label": "Status code"},
    ]
    files[str(codes["samples"])] = {
        "body": {"integration_id": "int_sample", "tenant_id": "ten_sample", "mode": "sandbox"},
        "headers": {"content-type": "application/json"},
        "statusCode": 200,
    }
    meta = {
        "label": "Make an API Call",
        "description": "Performs an arbitrary authorized call to the hub's API.",
        "moduleType": "action",
        "actionCrud": None,
        "connection": CONNECTION,
        "altConnection": None,
        "codeFiles": codes,
    }
    return API_CALL_MODULE, meta


README = """# Hub for Make

Instant triggers for the hub's events (new lead, message received, appointment
scheduled, ...) and idempotent actions (create lead, send WhatsApp message, ...).

Connect with the API key your hub admin created for Make. Every action sends an
Idempotency-Key, so Make's retries never act twice.
"""


def render_app(catalog: Mapping[str, Any]) -> Files:
    """Every file of the custom app, by path relative to ``make_templates/``."""
    files: Files = {}
    modules: dict[str, Any] = {}
    webhooks: dict[str, Any] = {}
    triggers: list[str] = []
    actions: list[str] = []
    for event in sorted(_events(catalog), key=lambda e: str(e["type"])):
        webhook_id, webhook_meta = _webhook(event, files)
        webhooks[webhook_id] = webhook_meta
        module_id, module_meta = _trigger(event, webhook_id, files)
        modules[module_id] = module_meta
        triggers.append(module_id)
    choices = _choices(catalog)
    rpcs: dict[str, Any] = {}
    for choice in sorted({c for f in (choices.get("fields") or {}).values() for c in f.values()}):
        ident, rpc_meta = _rpc(choice, str(choices.get("path", "/v1/choices/{name}")), files)
        rpcs[ident] = rpc_meta
    for action in sorted(_actions(catalog), key=lambda a: str(a["name"])):
        module_id, module_meta = _action(action, files)
        fields = (choices.get("fields") or {}).get(str(action["name"])) or {}
        mappable = module_meta["codeFiles"].get("mappableParams")
        if fields and mappable:
            _with_dropdowns(files[str(mappable)], fields)
        modules[module_id] = module_meta
        actions.append(module_id)
    module_id, module_meta = _api_call(files)
    modules[module_id] = module_meta
    universal = [module_id]
    files["general/base.imljson"] = {
        "baseUrl": base_url("connection.baseUrl"),
        "headers": {"Authorization": "Bearer {{connection.apiKey}}", "Accept": "application/json"},
        "response": {"error": ERROR},
        "log": SANITIZE,
    }
    files["general/common.json"] = {}
    files["modules/groups.json"] = [
        {"label": "Triggers", "modules": triggers},
        {"label": "Actions", "modules": actions},
        {"label": "Other", "modules": universal},
    ]
    files["README.md"] = README
    files["makecomapp.json"] = {
        "fileVersion": 1,
        "generalCodeFiles": {
            "base": "general/base.imljson",
            "common": "general/common.json",
            "groups": "modules/groups.json",
            "readme": "README.md",
        },
        "components": {
            "connection": {CONNECTION: _connection(files)},
            "webhook": webhooks,
            "module": modules,
            "rpc": rpcs,
            "function": {},
            "endpoint": {},
        },
        "origins": [
            {
                "label": "Make EU1 (set appId to your custom app's id)",
                "baseUrl": "https://eu1.make.com/api",
                "appId": APP_ID,
                "appVersion": 1,
                "apikeyFile": ".secrets/make-apikey",
            }
        ],
    }
    return files


def dump(value: Json) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def generated_paths(root: Path) -> list[Path]:
    """The files under ``root`` that the generator owns (scenarios are hand-written)."""
    owned = [root / "makecomapp.json", root / "README.md"]
    for folder in ("general", "connections", "webhooks", "modules", "rpcs"):
        owned.extend(p for p in (root / folder).rglob("*") if p.is_file())
    return sorted(p for p in owned if p.exists())


def write_app(catalog: Mapping[str, Any], root: Path) -> list[Path]:
    """Write the app under ``root``, removing generated files the catalog no longer has."""
    files = render_app(catalog)
    wanted = {root / rel for rel in files}
    for stale in set(generated_paths(root)) - wanted:
        stale.unlink()
    for rel, content in sorted(files.items()):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump(content), encoding="utf-8")
    return sorted(wanted)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m hub.export.make_app",
        description="Generate the Make custom app (make_templates/) from `hub export make`.",
    )
    parser.add_argument(
        "--catalog",
        type=Path,
        help="a file written by `hub export make` (default: export it from this checkout)",
    )
    parser.add_argument("--out", type=Path, default=Path("make_templates"))
    args = parser.parse_args(argv)
    if args.catalog is None:
        from hub.cli.export import render

        catalog = json.loads(render("make"))
    else:
        catalog = json.loads(args.catalog.read_text(encoding="utf-8"))
    written = write_app(catalog, args.out)
    print(f"wrote {len(written)} files under {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
