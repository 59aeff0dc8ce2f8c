"""The Make app's requests against a live hub, as Make would send them.

Make's IML runtime is not available here, so the requests are built from the app's
files by substituting plain ``{{path}}`` references (the webhook URL Make assigns, the
subscription id kept at attach, the mapped parameters); anything else in a template
fails the test rather than being guessed. The Idempotency-Key's IML is checked by
test_make_app.py; here a fixed key stands in for it.
"""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from typing import Any

import httpx

from hub.config import Settings
from hub.events.catalog import RESERVED_EVENT_TYPES
from hub.export import make_app as make
from tests.apps.catalogs import MAKE_APP, exported
from tests.apps.live import live_hub, provision
from tests.apps.outside import World, outside_world

PLAIN = re.compile(r"\{\{([A-Za-z_][\w.]*)\}\}")


def render(template: Any, context: dict[str, Any]) -> Any:
    """Substitute ``{{a.b}}`` paths; a whole-string reference keeps the value's type."""
    if isinstance(template, dict):
        return {k: render(v, context) for k, v in template.items()}
    if isinstance(template, list):
        return [render(v, context) for v in template]
    if not isinstance(template, str):
        return template

    def lookup(path: str) -> Any:
        node: Any = context
        for part in path.split("."):
            node = node[part]
        return node

    whole = PLAIN.fullmatch(template)
    if whole:
        return lookup(whole.group(1))
    text = PLAIN.sub(lambda m: str(lookup(m.group(1))), template)
    assert "{{" not in text, f"not a plain reference: {template}"
    return text


def code(meta: dict[str, Any], name: str) -> Any:
    return json.loads((MAKE_APP / meta["codeFiles"][name]).read_text())


async def wait_delivery(world: World, path: str) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=90) as client:
        r = await client.get(f"{world.url}/_next{path}", params={"after": 0, "timeout": 60})
    assert r.status_code == 200, f"no delivery reached {path}"
    body: dict[str, Any] = json.loads(r.json()["content"])
    return body


async def test_the_make_app_works_against_a_live_hub(settings: Settings, tmp_path: Path) -> None:
    catalog = exported("make")
    outputs = {a["name"]: a["sample"] for a in catalog["actions"]}
    app = json.loads((MAKE_APP / "makecomapp.json").read_text())
    assert settings.bootstrap_admin_token
    async with outside_world(outputs) as world, live_hub(settings, tmp_path) as base:
        env = await provision(base, settings.bootstrap_admin_token, world, kind="make")
        connection = {"apiKey": env["HUB_API_KEY"], "baseUrl": base}
        base_doc = json.loads((MAKE_APP / "general" / "base.imljson").read_text())
        headers = render(base_doc["headers"], {"connection": connection})
        async with httpx.AsyncClient(base_url=base, timeout=30) as hub:
            # The connection test: GET /v1/me with the key, labelled from the answer.
            conn = app["components"]["connection"][make.CONNECTION]
            test = code(conn, "communication")
            assert test["url"] == make.base_url("parameters.baseUrl") + "/v1/me"
            r = await hub.get("/v1/me", headers=render(test["headers"], {"parameters": connection}))
            assert r.status_code == 200, r.text
            label = render(test["response"]["metadata"]["value"], {"body": r.json()})
            assert label == f"{env['HUB_TENANT_NAME']} – {env['HUB_INTEGRATION_NAME']}"
            bad = await hub.get("/v1/me", headers={"Authorization": "Bearer hk_nope"})
            assert bad.status_code == 401  # → InvalidAccessTokenError by the base's mapping

            # Every webhook: attach, a published event reaches Make's URL, detach (twice).
            for event in catalog["events"]:
                ident = make.kebab(make.camel(event["type"]))
                meta = app["components"]["webhook"][ident]
                path = f"/hooks/{ident}-{secrets.token_hex(4)}"
                webhook = {"url": f"{world.url}{path}"}
                attach = code(meta, "attach")
                r = await hub.request(
                    attach["method"],
                    attach["url"],
                    json=render(attach["body"], {"webhook": webhook}),
                    headers=headers,
                )
                assert r.status_code in (200, 201), r.text
                webhook |= render(attach["response"]["data"], {"body": r.json()})
                published = await hub.post(
                    "/v1/events",
                    json={
                        "id": secrets.token_hex(8),
                        "type": event["type"],
                        "data": event["sample"],
                    },
                    headers={"Authorization": f"Bearer {env['HUB_SOURCE_KEY']}"},
                )
                assert published.status_code == 202, published.text
                if event["type"] in RESERVED_EVENT_TYPES:
                    # Only the hub publishes it: a source's copy is refused and nothing
                    # is delivered (the hub's own deliveries are tested in tests/delivery).
                    assert published.json()["accepted"] == 0, published.text
                    assert "reserved" in published.json()["rejected"][0]["detail"]
                else:
                    delivered = await wait_delivery(world, path)
                    interface = {
                        p["name"]
                        for p in code(
                            app["components"]["module"][make.trigger_module_id(event["type"])],
                            "interface",
                        )
                    }
                    assert set(delivered) <= interface
                    assert delivered["type"] == event["type"]
                detach = code(meta, "detach")
                for _ in range(2):
                    r = await hub.request(
                        detach["method"],
                        render(detach["url"], {"webhook": webhook}),
                        headers=headers,
                    )
                    assert r.status_code == 204, r.text

            # Every dropdown: its RPC's call lists options in the shape it maps.
            for ident, rpc in app["components"]["rpc"].items():
                request = code(rpc, "communication")
                r = await hub.request(request["method"], request["url"], headers=headers)
                assert r.status_code == 200, (ident, r.text)
                items = render(request["response"]["iterate"], {"body": r.json()})
                assert items, ident
                assert all({"label", "value"} <= item.keys() for item in items), ident

            # Every action: the sample inputs as mapped parameters, answered in the
            # interface's shape; the same key again is a replay.
            failures: dict[str, str] = {}
            for action in catalog["actions"]:
                meta = app["components"]["module"][make.action_module_id(action["name"])]
                request = code(meta, "communication")
                key = {"Idempotency-Key": f"make:{action['name']}:{secrets.token_hex(8)}"}
                for attempt in range(2):
                    r = await hub.request(
                        request["method"],
                        request["url"],
                        json=action["sample_input"],
                        headers={**headers, **key},
                    )
                    if r.status_code != 200:
                        break
                    assert (r.headers.get("idempotent-replayed") == "true") == (attempt == 1)
                if r.status_code != 200:
                    failures[action["name"]] = r.text
                    continue
                interface = code(meta, "interface")
                if meta["moduleType"] == "search":  # each item of outputs.<list> a bundle
                    iterate = request["response"]["iterate"]
                    items = render(iterate, {"body": r.json()})
                    assert isinstance(items, list), r.text
                    assert items, r.text
                    assert set(items[0]) <= {p["name"] for p in interface}
                    continue
                assert set(r.json()) == {p["name"] for p in interface}
                outputs_spec = next(p for p in interface if p["name"] == "outputs")["spec"]
                assert set(r.json()["outputs"]) <= {p["name"] for p in outputs_spec}
            assert failures == {}


BLUEPRINTS = MAKE_APP / "scenarios"
REF = re.compile(r"^\{\{1\.([\w.]+)\}\}$")


def _mapped(value: Any, trigger: dict[str, Any]) -> Any:
    """A blueprint mapper value: literal, or ``{{1.path}}`` into the trigger's bundle."""
    if isinstance(value, dict):
        return {k: _mapped(v, trigger) for k, v in value.items()}
    ref = REF.match(value) if isinstance(value, str) else None
    if ref is None:
        assert not (isinstance(value, str) and "{{" in value), f"not a plain reference: {value}"
        return value
    node: Any = trigger
    for part in ref.group(1).split("."):
        node = node[part]
    return node


async def test_the_welcome_whatsapp_blueprint_runs_on_the_default_policy(
    settings: Settings, tmp_path: Path
) -> None:
    """The blueprint's flow against a live hub: a lead.created delivery (phones masked, as
    the default policy delivers them) passes its filter, and its Send a WhatsApp
    Message module, mapped as the blueprint maps it, is accepted (by lead id: 200, not
    the 422 a masked number would get)."""
    catalog = exported("make")
    blueprint = json.loads(
        (BLUEPRINTS / "lead-created-welcome-whatsapp.blueprint.json").read_text()
    )
    trigger_step, send_step = blueprint["flow"]
    app = json.loads((MAKE_APP / "makecomapp.json").read_text())
    modules = app["components"]["module"]
    send_meta = modules[send_step["module"].split(":")[-1]]
    trigger_meta = modules[trigger_step["module"].split(":")[-1]]
    outputs = {a["name"]: a["sample"] for a in catalog["actions"]}
    lead = next(e for e in catalog["events"] if e["type"] == "lead.created")
    async with outside_world(outputs) as world, live_hub(settings, tmp_path) as base:
        env = await provision(base, settings.bootstrap_admin_token or "", world, kind="make")
        headers = {"Authorization": f"Bearer {env['HUB_API_KEY']}"}
        async with httpx.AsyncClient(base_url=base, timeout=30) as hub:
            attach = code(app["components"]["webhook"][trigger_meta["webhook"]], "attach")
            path = f"/hooks/welcome-{secrets.token_hex(4)}"
            r = await hub.request(
                attach["method"],
                attach["url"],
                json=render(attach["body"], {"webhook": {"url": f"{world.url}{path}"}}),
                headers=headers,
            )
            assert r.status_code in (200, 201), r.text
            published = await hub.post(
                "/v1/events",
                json={"id": secrets.token_hex(8), "type": "lead.created", "data": lead["sample"]},
                headers={"Authorization": f"Bearer {env['HUB_SOURCE_KEY']}"},
            )
            assert published.status_code == 202, published.text
            delivered = await wait_delivery(world, path)
            assert delivered["data"]["contact"]["phones"][0]["number"].count("*") > 0  # masked

            (condition,) = send_step["filter"]["conditions"][0:1][0]
            assert condition == {
                "a": "{{length(1.data.contact.phones)}}",
                "b": "0",
                "o": "number:greater",
            }
            assert len(delivered["data"]["contact"]["phones"]) > 0  # the filter lets it through

            mapped = _mapped(send_step["mapper"], delivered)
            assert "to" not in mapped  # by lead id: the number never reached Make
            request = code(send_meta, "communication")
            body = {k: v for k, v in mapped.items() if k != "idempotency_key"}
            key = f"make:send_whatsapp_message:{mapped['idempotency_key']}"
            r = await hub.request(
                request["method"],
                request["url"],
                json=body,
                headers={**headers, "Idempotency-Key": key},
            )
            assert r.status_code == 200, r.text
            assert world.upstream_calls[("send_whatsapp_message", key)] == 1
