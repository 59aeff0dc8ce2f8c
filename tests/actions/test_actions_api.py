"""``POST /v1/actions/{action}``: answers, replays, the catalog, executions."""

from __future__ import annotations

import httpx

from hub.app import Hub
from hub.runtime import Runtime
from tests.actions.conftest import LEAD, Caller, Upstream, count_rows, new_key
from tests.conftest import Factory, bearer


async def test_live_create_lead_runs_upstream_and_answers_outputs(
    live: Caller, upstream: Upstream
) -> None:
    key = new_key()
    r = await live.act("create_lead", LEAD, key)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"execution_id", "action", "status", "outputs"}
    assert body["action"] == "create_lead"
    assert body["status"] == "succeeded"
    assert body["outputs"]["lead_id"].startswith("lead_")
    assert body["outputs"]["status"] == "new"
    assert "idempotent-replayed" not in r.headers
    assert r.headers["ratelimit-policy"]
    assert len(upstream.calls) == 1
    call = upstream.calls[0]
    assert call.path == "/hub/actions/create_lead"
    assert call.headers["idempotency-key"] == key
    sent = call.json
    assert sent["action"] == "create_lead"
    assert sent["integration_id"] == live.id
    assert sent["execution_id"] == body["execution_id"]
    assert sent["inputs"]["company_name"] == LEAD["company_name"]
    assert sent["inputs"]["status"] == "new"  # defaults are sent explicitly


async def test_replay_is_byte_identical_and_marked(live: Caller, upstream: Upstream) -> None:
    key = new_key()
    first = await live.act("create_lead", LEAD, key)
    # Same body with other key order and whitespace: the same request.
    reordered = (
        b'{ "source":"website-form",'
        + httpx.Request("POST", "http://x", json=dict(reversed(list(LEAD.items())))).content[1:]
    )
    again = await live.act("create_lead", None, key, raw=reordered)
    assert again.status_code == 200
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["content-type"] == "application/json"
    assert len(upstream.calls) == 1


async def test_an_auto_key_is_derived_from_the_canonical_body(
    live: Caller, upstream: Upstream
) -> None:
    first = await live.act("create_lead", LEAD, "auto")
    assert first.status_code == 200, first.text
    reordered = dict(reversed(list(LEAD.items())))
    again = await live.act("create_lead", reordered, '"auto"')  # the sf-string form too
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    other = await live.act("create_lead", {**LEAD, "company_name": "Other Ltda"}, "auto")
    assert other.status_code == 200, other.text
    assert "idempotent-replayed" not in other.headers  # never 422 IDEMPOTENCY_KEY_REUSED
    assert other.json()["execution_id"] != first.json()["execution_id"]
    assert len(upstream.calls) == 2
    # What the upstream sees is the derived key, the same on a retry of the same inputs.
    keys = [call.headers.get("idempotency-key") for call in upstream.calls]
    assert all(k and k.startswith("auto:") and len(k) == 69 for k in keys), keys
    assert keys[0] != keys[1]


async def test_sandbox_outputs_are_deterministic_per_key(sandbox: Caller) -> None:
    key = new_key()
    r = await sandbox.act("create_lead", LEAD, key)
    assert r.status_code == 200, r.text
    lead_id = r.json()["outputs"]["lead_id"]
    assert lead_id.startswith("lead_sbx_")
    other = await sandbox.act("create_lead", LEAD, new_key())
    assert other.json()["outputs"]["lead_id"] != lead_id


async def test_every_default_action_runs_in_sandbox(sandbox: Caller) -> None:
    from hub.actions.catalog import ACTIONS

    for name, spec in ACTIONS.items():
        if name == "publish_event":
            continue
        r = await sandbox.act(name, spec.sample_input, new_key())
        assert r.status_code == 200, (name, r.text)
        assert r.json()["status"] == "succeeded"


async def test_unknown_action_is_404_after_auth(live: Caller, client: httpx.AsyncClient) -> None:
    r = await live.act("launch_rocket", {}, new_key())
    assert r.status_code == 404
    assert r.json()["code"] == "NOT_FOUND"
    anonymous = await client.post("/v1/actions/launch_rocket", json={})
    assert anonymous.status_code == 401


async def test_catalog_lists_what_the_scopes_allow(
    factory: Factory, client: httpx.AsyncClient
) -> None:
    everything = await factory.integration(scopes=["actions:*", "triggers:*"])
    r = await client.get("/v1/catalog", headers=bearer(everything["api_key"]))
    assert r.status_code == 200
    names = [a["name"] for a in r.json()["actions"]]
    assert names == sorted(names)
    assert {"create_lead", "update_lead", "schedule_appointment", "send_email"} <= set(names)
    lead = next(a for a in r.json()["actions"] if a["name"] == "create_lead")
    assert lead["scope"] == "actions:create_lead"
    assert lead["input_schema"]["properties"]["company_name"]["type"] == "string"
    assert lead["input_schema"]["additionalProperties"] is False
    assert lead["sample"]["lead_id"]

    narrow = await factory.integration(scopes=["actions:create_lead"])
    r = await client.get("/v1/catalog", headers=bearer(narrow["api_key"]))
    assert [a["name"] for a in r.json()["actions"]] == ["create_lead"]
    assert r.json()["events"] == []


async def test_missing_scope_is_403_and_nothing_stored(
    factory: Factory, client: httpx.AsyncClient, rt: Runtime
) -> None:
    integration = await factory.integration(scopes=["actions:update_lead"])
    caller = Caller(client, integration, integration["tenant_id"])
    r = await caller.act("create_lead", LEAD, new_key())
    assert r.status_code == 403
    assert r.json()["code"] == "FORBIDDEN_SCOPE"
    assert await count_rows(rt) == (0, 0)


async def test_execution_is_visible_to_its_integration_only(
    live: Caller, factory: Factory, client: httpx.AsyncClient, rt: Runtime
) -> None:
    r = await live.act("create_lead", LEAD, new_key())
    execution_id = r.json()["execution_id"]
    seen = await client.get(f"/v1/executions/{execution_id}", headers=bearer(live.api_key))
    assert seen.status_code == 200, seen.text
    view = seen.json()
    assert view["status"] == "succeeded"
    assert view["action"] == "create_lead"
    assert view["mode"] == "live"
    assert view["handler"] == "upstream"
    assert view["http_status"] == 200
    assert view["outputs"] == r.json()["outputs"]
    assert view["correlation_id"] == r.headers["x-request-id"]

    other = await factory.integration(live.tenant_id, name="Other")
    hidden = await client.get(f"/v1/executions/{execution_id}", headers=bearer(other["api_key"]))
    assert hidden.status_code == 404
    assert hidden.json()["code"] == "NOT_FOUND"


async def test_replays_are_counted_on_the_execution(
    live: Caller, client: httpx.AsyncClient, hub: Hub
) -> None:
    key = new_key()
    first = await live.act("create_lead", LEAD, key)
    for _ in range(3):
        await live.act("create_lead", LEAD, key)
    await hub.actions.replays.flush()
    view = await client.get(
        f"/v1/executions/{first.json()['execution_id']}", headers=bearer(live.api_key)
    )
    assert view.json()["replay_count"] == 3


async def test_admin_sees_executions_scoped_to_its_tenant(
    live: Caller, sandbox: Caller, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    mine = (await live.act("create_lead", LEAD, new_key())).json()["execution_id"]
    theirs = (await sandbox.act("create_lead", LEAD, new_key())).json()["execution_id"]

    everything = await client.get("/admin/v1/executions", headers=admin_headers)
    assert {e["id"] for e in everything.json()["items"]} == {mine, theirs}

    r = await client.post(
        "/admin/v1/tokens",
        json={"name": "acme", "tenant_id": live.tenant_id},
        headers=admin_headers,
    )
    tenant_admin = bearer(r.json()["token"])
    listed = await client.get("/admin/v1/executions", headers=tenant_admin)
    assert [e["id"] for e in listed.json()["items"]] == [mine]
    by_integration = await client.get(
        "/admin/v1/executions", params={"integration_id": live.id}, headers=tenant_admin
    )
    assert [e["id"] for e in by_integration.json()["items"]] == [mine]
    assert (
        await client.get(f"/admin/v1/executions/{mine}", headers=tenant_admin)
    ).status_code == 200
    hidden = await client.get(f"/admin/v1/executions/{theirs}", headers=tenant_admin)
    assert hidden.status_code == 404
    other_tenant = await client.get(
        "/admin/v1/executions", params={"tenant_id": sandbox.tenant_id}, headers=tenant_admin
    )
    assert other_tenant.status_code == 404


async def test_openapi_documents_each_action_body(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/openapi.json")).json()
    operation = doc["paths"]["/v1/actions/create_lead"]["post"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert "company_name" in schema["properties"]
    assert "/v1/actions/{action}" not in doc["paths"]
    assert "/v1/catalog" in doc["paths"]
    assert "/admin/v1/executions" in doc["paths"]
