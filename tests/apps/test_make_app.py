"""The Make custom app and its scenario blueprints (make_templates/).

Every file validates against Make's own JSON Schemas (../shared/make-schemas), the app
is exactly what ``hub.export.make_app`` generates from ``hub export make``, every module
talks to a route the hub really serves, and the blueprints only use modules that exist.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from hub.export import make_app as make
from tests.apps.catalogs import MAKE_APP, exported
from tests.apps.make_schemas import SCHEMA_DIR, errors, schema_for

SCENARIOS = MAKE_APP / "scenarios"
APP_PREFIX = f"app#{make.APP_ID}:"

# Standard Make apps the templates use, by module id (as Make exports them).
STANDARD_MODULES = {
    "google-sheets:addRow",
    "google-calendar:createAnEvent",
    "slack:CreateMessage",
    "builtin:BasicRouter",
}

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
PHONE = re.compile(r"\+?\d[\d ()-]{7,}\d")
REFERENCE = re.compile(r"\b(\d+)\.([A-Za-z_][\w.\[\]]*)")


def app_files() -> list[Path]:
    return [p for p in make.generated_paths(MAKE_APP) if p.suffix != ".md"]


def blueprints() -> list[Path]:
    return sorted(SCENARIOS.glob("*.blueprint.json"))


def manifest() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((MAKE_APP / "makecomapp.json").read_text())
    return data


def test_the_schemas_are_used_from_shared() -> None:
    assert (SCHEMA_DIR / "FILEMATCH.txt").is_file(), SCHEMA_DIR
    assert not list(MAKE_APP.rglob("FILEMATCH.txt")), "schemas must not be copied"


@pytest.mark.parametrize("path", app_files(), ids=lambda p: p.relative_to(MAKE_APP).as_posix())
def test_every_app_file_validates_against_makes_schema(path: Path) -> None:
    rel = path.relative_to(MAKE_APP).as_posix()
    schema = schema_for(rel)
    assert schema is not None, f"FILEMATCH.txt names no schema for {rel}"
    assert errors(schema, json.loads(path.read_text())) == []


def test_the_schemas_do_refuse_bad_files() -> None:
    assert errors("api.json", {"url": "/v1/hooks", "method": "POST"})  # no body
    assert errors("parameters.json", [{"name": "x", "type": "no-such-type"}])
    assert errors("makecomapp.schema.json", {"fileVersion": 1})


def test_the_app_is_what_the_generator_makes_from_hub_export() -> None:
    files = make.render_app(exported("make"))
    stale = sorted(
        p.relative_to(MAKE_APP).as_posix()
        for p in make.generated_paths(MAKE_APP)
        if p.relative_to(MAKE_APP).as_posix() not in files
    )
    assert stale == [], "files the catalog no longer has"
    for rel, content in files.items():
        path = MAKE_APP / rel
        assert path.is_file(), f"missing {rel}: run python -m hub.export.make_app"
        assert path.read_text(encoding="utf-8") == make.dump(content), (
            f"{rel} differs from `hub export make`: regenerate with `python -m hub.export.make_app`"
        )


def test_the_manifest_names_every_file_and_every_file_exists() -> None:
    app = manifest()
    named = {v for v in app["generalCodeFiles"].values() if v}
    for components in app["components"].values():
        for meta in components.values():
            named |= {v for v in meta["codeFiles"].values() if v}
    on_disk = {p.relative_to(MAKE_APP).as_posix() for p in make.generated_paths(MAKE_APP)}
    assert named | {"makecomapp.json"} == on_disk


def test_one_trigger_per_event_type_and_one_action_per_catalog_action() -> None:
    catalog = exported("make")
    modules = manifest()["components"]["module"]
    webhooks = manifest()["components"]["webhook"]
    for event in catalog["events"]:
        module = modules[make.trigger_module_id(event["type"])]
        assert module["moduleType"] == "instant_trigger"
        assert module["webhook"] in webhooks
    for action in catalog["actions"]:
        module = modules[make.action_module_id(action["name"])]
        kind = "search" if action["kind"] == "search" else "action"
        assert module["moduleType"] == kind
        assert module["connection"] == make.CONNECTION
    universal = modules[make.API_CALL_MODULE]
    assert universal["label"] == "Make an API Call"
    assert universal["connection"] == make.CONNECTION
    assert len(modules) == len(catalog["events"]) + len(catalog["actions"]) + 1


def test_dropdowns_read_the_hubs_choices_through_rpcs() -> None:
    app = manifest()
    rpcs = app["components"]["rpc"]
    fields = exported("make")["api"]["choices"]["fields"]
    assert fields["create_lead"] == {"status": "lead_status"}
    for action, choices in fields.items():
        meta = app["components"]["module"][make.action_module_id(action)]
        params = {p["name"]: p for p in _read(meta["codeFiles"]["mappableParams"])}
        for field, choice in choices.items():
            assert params[field]["options"] == f"rpc://{make.rpc_id(choice)}"
            rpc = rpcs[make.rpc_id(choice)]
            communication = _read(rpc["codeFiles"]["communication"])
            assert communication["url"] == f"/v1/choices/{choice}"
            assert communication["response"]["iterate"] == "{{body.items}}"


def test_the_universal_module_calls_any_path_with_the_connection() -> None:
    meta = manifest()["components"]["module"][make.API_CALL_MODULE]
    communication = _read(meta["codeFiles"]["communication"])
    assert communication["url"] == "{{parameters.url}}"  # relative: base.imljson adds the host
    assert communication["method"] == "{{parameters.method}}"
    assert communication["headers"] == {
        "Idempotency-Key": "{{ifempty(parameters.idempotency_key, 'auto')}}"
    }
    params = {p["name"] for p in _read(meta["codeFiles"]["mappableParams"])}
    assert params == {"url", "method", "body", "idempotency_key"}
    base = _read("general/base.imljson")
    assert base["headers"]["Authorization"] == "Bearer {{connection.apiKey}}"


def _read(rel: str | None) -> Any:
    assert rel is not None
    return json.loads((MAKE_APP / rel).read_text())


def test_webhooks_attach_and_detach_our_subscription() -> None:
    for meta in manifest()["components"]["webhook"].values():
        attach = _read(meta["codeFiles"]["attach"])
        detach = _read(meta["codeFiles"]["detach"])
        assert (attach["method"], attach["url"]) == ("POST", "/v1/hooks")
        assert attach["body"]["target_url"] == "{{webhook.url}}"
        assert attach["response"]["data"] == {"externalHookId": "{{body.id}}"}
        assert (detach["method"], detach["url"]) == (
            "DELETE",
            "/v1/hooks/{{webhook.externalHookId}}",
        )


def test_actions_send_an_idempotency_key_and_map_every_input() -> None:
    catalog = {a["name"]: a for a in exported("make")["actions"]}
    for name, action in catalog.items():
        meta = manifest()["components"]["module"][make.action_module_id(name)]
        communication = _read(meta["codeFiles"]["communication"])
        key = communication["headers"]["Idempotency-Key"]
        # The mapped key, namespaced by the action; else "auto": the hub derives it
        # from the canonical body (tests/actions: different inputs never share one).
        assert key == (
            "{{if(parameters.idempotency_key, "
            f"'make:{name}:' + parameters.idempotency_key, 'auto')}}}}"
        )
        params = {p["name"]: p for p in _read(meta["codeFiles"]["mappableParams"])}
        schema = action["input_schema"]
        assert set(params) == {*schema["properties"], "idempotency_key"}
        for required in schema.get("required", []):
            assert params[required]["required"] is True
        assert "omit(parameters, 'idempotency_key')" in communication["body"]


def test_errors_map_the_hubs_problems_to_make_error_types() -> None:
    base = _read("general/base.imljson")
    error = base["response"]["error"]
    for make_type in (
        "InvalidAccessTokenError",
        "RateLimitError",
        "DataError",
        "DuplicateDataError",
        "ConnectionError",
    ):
        assert make_type in error["type"]
    assert "IDEMPOTENCY_KEY_REUSED" in error["type"]
    assert base["headers"]["Authorization"] == "Bearer {{connection.apiKey}}"
    connection = _read(
        manifest()["components"]["connection"][make.CONNECTION]["codeFiles"]["communication"]
    )
    assert connection["url"].endswith("/v1/me")
    assert connection["method"] == "GET"


def _openapi_routes() -> set[tuple[str, str]]:
    from hub.app import create_app
    from hub.config import load_settings

    app = create_app(load_settings({"HUB_ENV": "development"}))
    paths = app.openapi_schema.to_schema()["paths"]
    return {
        (method.upper(), re.sub(r"\{[^}]+\}", "{}", path))
        for path, ops in paths.items()
        for method in ops
    }


def test_every_module_calls_a_route_the_hub_serves() -> None:
    served = _openapi_routes()
    calls: list[tuple[str, str]] = []
    app = manifest()
    conn = app["components"]["connection"][make.CONNECTION]["codeFiles"]["communication"]
    calls.append(("GET", "/v1/me") if _read(conn)["url"].endswith("/v1/me") else ("?", "?"))
    for components in (
        app["components"]["module"],
        app["components"]["webhook"],
        app["components"]["rpc"],
    ):
        for ident, meta in components.items():
            if ident == make.API_CALL_MODULE:
                continue  # its path is the user's (test above)
            for code in ("communication", "attach", "detach"):
                rel = meta["codeFiles"].get(code)
                doc = _read(rel) if rel else {}
                if "url" in doc:
                    url = re.sub(r"\{\{[^}]+\}\}", "{}", doc["url"])
                    calls.append((doc.get("method", "GET"), url))
    # A served template ("/v1/choices/{}") also serves its concrete paths (an RPC's).
    patterns = [
        (method, re.compile("^" + re.escape(path).replace(r"\{\}", "[^/]+") + "$"))
        for method, path in served
    ]
    missing = [(m, u) for m, u in calls if not any(m == sm and p.match(u) for sm, p in patterns)]
    assert calls
    assert missing == []


# --- scenario blueprints -------------------------------------------------------------


def _flow_modules(flow: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for module in flow:
        out.append(module)
        for route in module.get("routes", []):
            out.extend(_flow_modules(route["flow"]))
    return out


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_there_are_the_four_product_templates() -> None:
    names = {p.name for p in blueprints()}
    assert {
        "whatsapp-message-to-crm-sheet.blueprint.json",
        "lead-created-welcome-whatsapp.blueprint.json",
        "appointment-to-google-calendar.blueprint.json",
        "subscription-disabled-slack-alert.blueprint.json",
    } <= names


@pytest.mark.parametrize("path", blueprints(), ids=lambda p: p.name)
def test_blueprint_parses_and_uses_only_existing_modules(path: Path) -> None:
    blueprint = json.loads(path.read_text())
    assert set(blueprint) == {"name", "flow", "metadata"}
    assert isinstance(blueprint["name"], str)
    assert blueprint["name"]
    assert blueprint["metadata"]["instant"] is True
    ours = manifest()["components"]["module"]
    modules = _flow_modules(blueprint["flow"])
    assert modules
    assert modules[0]["module"].startswith(APP_PREFIX)
    ids = [m["id"] for m in modules]
    assert len(ids) == len(set(ids))
    for module in modules:
        name = module["module"]
        if name.startswith(APP_PREFIX):
            assert name.removeprefix(APP_PREFIX) in ours, f"{name} is not in makecomapp.json"
        else:
            assert name in STANDARD_MODULES, f"{name} is neither ours nor a known Make app"


@pytest.mark.parametrize("path", blueprints(), ids=lambda p: p.name)
def test_blueprint_holds_no_connection_hook_or_personal_data(path: Path) -> None:
    blueprint = json.loads(path.read_text())
    for module in _flow_modules(blueprint["flow"]):
        for key in ("__IMTCONN__", "__IMTHOOK__"):
            assert module["parameters"].get(key) is None
    for text in _strings(blueprint):
        assert not EMAIL.search(text), text
        assert not PHONE.search(text), text
        assert "hk_" not in text
        assert "whsec_" not in text


def _schema_has_path(schema: dict[str, Any], path: list[str]) -> bool:
    doc = make._Schema(schema)
    node = doc.deref(schema)
    for part in path:
        node, _ = doc.unwrap(node)
        if node.get("type") == "array":
            node, _ = doc.unwrap(node.get("items") or {})
        props = node.get("properties") or {}
        if part not in props:
            return False
        node = props[part]
    return True


@pytest.mark.parametrize("path", blueprints(), ids=lambda p: p.name)
def test_blueprint_maps_fields_our_modules_really_have(path: Path) -> None:
    catalog = exported("make")
    events = {make.trigger_module_id(e["type"]): e for e in catalog["events"]}
    actions = {make.action_module_id(a["name"]): a for a in catalog["actions"]}
    blueprint = json.loads(path.read_text())
    modules = {m["id"]: m for m in _flow_modules(blueprint["flow"])}
    for module in modules.values():
        name = module["module"].removeprefix(APP_PREFIX)
        if name in actions:
            schema = actions[name]["input_schema"]
            assert set(module["mapper"]) <= {*schema["properties"], "idempotency_key"}
            assert set(schema.get("required", [])) <= set(module["mapper"])
        texts = _strings(module["mapper"]) + _strings(module.get("filter", {}))
        for text in texts:
            for source_id, ref in REFERENCE.findall(text):
                source = modules[int(source_id)]
                trigger = events.get(source["module"].removeprefix(APP_PREFIX))
                assert trigger is not None, f"{ref} maps from a module that is not our trigger"
                parts = [p for p in re.sub(r"\[\d+\]", "", ref).split(".") if p]
                if parts[0] == "data":
                    assert _schema_has_path(trigger["data_schema"], parts[1:]), ref
                else:
                    assert parts[0] in {"id", "type", "occurred_at", "sandbox"}, ref
