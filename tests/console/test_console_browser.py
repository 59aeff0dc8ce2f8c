"""The console and the portal in a real browser (Debian's Chromium via Playwright),
against a live hub with a worker and a receiver that fails until it is fixed.

``HUB_UPDATE_SCREENSHOTS=1`` also writes each page's screenshot to docs/console/.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.async_api import BrowserContext, Page, expect

from hub.events.catalog import EVENT_TYPES
from tests.conftest import BOOTSTRAP_TOKEN, bearer
from tests.console.conftest import (
    ADMIN,
    SCREENSHOTS,
    LiveHub,
    Switch,
    eventually,
    screenshots_wanted,
)
from tests.delivery.support import Receiver


async def _tenant(api: httpx.AsyncClient, name: str) -> dict[str, Any]:
    r = await api.post("/admin/v1/tenants", json={"name": name}, headers=ADMIN)
    assert r.status_code == 201, r.text
    tenant: dict[str, Any] = r.json()
    r = await api.patch(
        f"/admin/v1/tenants/{tenant['id']}", json={"retry_schedule": [1]}, headers=ADMIN
    )
    assert r.status_code == 200, r.text
    return tenant


async def _integration(api: httpx.AsyncClient, tenant_id: str, name: str) -> dict[str, Any]:
    r = await api.post(
        f"/admin/v1/tenants/{tenant_id}/integrations",
        json={"name": name, "kind": "partner", "scopes": ["events:publish", "triggers:*"]},
        headers=ADMIN,
    )
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


async def _dead_delivery(
    live: LiveHub,
    receiver: Receiver,
    key: str,
    n: int = 1,
    total: int | None = None,
    event_type: str = "lead.created",
) -> None:
    """``n`` events to a hook whose receiver fails: dead after the 1-second retry (then
    ``total`` dead deliveries in all)."""
    r = await live.api.post(
        "/v1/hooks", json={"event": event_type, "target_url": receiver.url}, headers=bearer(key)
    )
    assert r.status_code == 201, r.text
    sample = EVENT_TYPES[event_type].sample
    events = [{"id": f"{event_type}-{i}", "type": event_type, "data": sample} for i in range(n)]
    r = await live.api.post("/v1/events", json={"events": events}, headers=bearer(key))
    assert r.status_code == 202, r.text

    async def dead() -> bool:
        r = await live.api.get("/admin/v1/deliveries?status=dead", headers=ADMIN)
        return len(r.json()["items"]) == (total or n)

    await eventually(dead, f"{total or n} dead deliveries")


async def _sign_in(page: Page, live: LiveHub, token: str = BOOTSTRAP_TOKEN) -> None:
    await page.goto(f"{live.url}/console/overview")
    await expect(page).to_have_url(re.compile(r"/console/sign-in$"))
    await page.get_by_label("Admin token").fill(token)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(re.compile(r"/console/overview$"))


async def _shot(page: Page, name: str) -> None:
    if screenshots_wanted():
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def test_sign_in_find_a_dead_delivery_replay_it_and_it_arrives(
    live: LiveHub, context: BrowserContext, failing_receiver: tuple[Receiver, Switch]
) -> None:
    receiver, switch = failing_receiver
    tenant = await _tenant(live.api, "Padaria Pão Dourado")
    integration = await _integration(live.api, tenant["id"], "Zap de leads")
    await _dead_delivery(live, receiver, integration["api_key"], n=2)

    page = await context.new_page()
    await _sign_in(page, live)
    row = page.get_by_role("row").filter(has_text="Padaria Pão Dourado")
    await expect(row.get_by_role("link", name="2 → replay")).to_be_visible()
    await _shot(page, "overview")

    await page.get_by_role("link", name="Dead letters · replay").click()
    await expect(page.get_by_role("cell", name="dead")).to_have_count(2)
    await _shot(page, "dlq")
    first = page.get_by_role("row").nth(1).get_by_role("link").first
    await first.click()
    await expect(page.get_by_role("cell", name="503", exact=True)).to_have_count(2)  # both attempts
    await expect(page.get_by_text("receiver down for maintenance").first).to_be_visible()
    await _shot(page, "delivery")
    await page.go_back()

    switch.ok = True  # the receiver is fixed: now the replay
    await page.get_by_label("event type").fill("lead.created")
    await page.get_by_role("button", name="Search", exact=True).click()
    await page.get_by_role("button", name=re.compile("Replay all dead deliveries")).click()
    await expect(page.get_by_role("heading", name="Replay 2 dead deliveries?")).to_be_visible()
    await _shot(page, "dlq-confirm")
    await page.get_by_role("button", name="Yes, replay 2").click()
    await expect(page.locator("#replay-result")).to_contain_text("Replay queued: 2")

    for _ in range(2):
        await eventually(lambda: _got(switch), "a replayed delivery at the receiver")
    r = await live.api.get("/admin/v1/deliveries?status=delivered", headers=ADMIN)
    assert len(r.json()["items"]) == 2
    # Their progress: the same search on the deliveries page, now delivered.
    await page.locator("#replay-progress").click()
    await expect(page.get_by_label("event type")).to_have_value("lead.created")
    await expect(page.locator("tbody .s-delivered")).to_have_count(2)
    r = await live.api.get("/admin/v1/audit?action=deliveries.replay", headers=ADMIN)
    assert [e["actor"] for e in r.json()["items"]] == [f"admin:{await _bootstrap_id(live)}"]


async def _next(switch: Switch) -> Any:
    return None if switch.delivered.empty() else switch.delivered.get_nowait()


async def _got(switch: Switch) -> bool:
    if switch.delivered.empty():
        return False
    switch.delivered.get_nowait()
    return True


async def _bootstrap_id(live: LiveHub) -> str:
    r = await live.api.get("/admin/v1/tokens", headers=ADMIN)
    return str(r.json()["items"][0]["id"])


async def test_rotate_a_key_and_copy_it(live: LiveHub, context: BrowserContext) -> None:
    tenant = await _tenant(live.api, "Alquimista")
    integration = await _integration(live.api, tenant["id"], "Make scenario")
    page = await context.new_page()
    await _sign_in(page, live)
    await page.goto(f"{live.url}/console/tenants/{tenant['id']}")
    await _shot(page, "tenant")
    card = page.locator(f"[data-integration='{integration['id']}']")
    await card.get_by_label("Previous key valid for").select_option("0")
    await card.get_by_role("button", name="Rotate key").click()
    await expect(page.get_by_role("heading", name="New API key for Make scenario")).to_be_visible()
    await _shot(page, "key-shown")
    await page.get_by_role("button", name="Copy").click()
    await expect(page.get_by_role("button", name="Copied")).to_be_visible()
    copied = await page.evaluate("navigator.clipboard.readText()")
    assert copied == await page.locator("#secret").input_value()

    # The copied key works; the old one stopped (grace 0).
    r = await live.api.get("/v1/me", headers=bearer(copied))
    assert r.status_code == 200, r.text
    r = await live.api.get("/v1/me", headers=bearer(integration["api_key"]))
    assert r.status_code == 401
    # Shown once: the tenant page lists the key by id only.
    await page.goto(f"{live.url}/console/tenants/{tenant['id']}")
    assert copied not in await page.content()


async def test_a_tenant_token_sees_only_its_tenant(live: LiveHub, context: BrowserContext) -> None:
    mine = await _tenant(live.api, "Minha Loja")
    other = await _tenant(live.api, "Concorrente")
    r = await live.api.post(
        "/admin/v1/tokens", json={"name": "ops", "tenant_id": mine["id"]}, headers=ADMIN
    )
    assert r.status_code == 201, r.text
    page = await context.new_page()
    await _sign_in(page, live, token=r.json()["token"])
    await expect(page.get_by_role("link", name="Minha Loja")).to_be_visible()
    await expect(page.get_by_text("Concorrente")).to_have_count(0)
    answer = await page.goto(f"{live.url}/console/tenants/{other['id']}")
    assert answer is not None
    assert answer.status == 404
    await expect(page.get_by_text("NOT_FOUND")).to_be_visible()
    await page.goto(f"{live.url}/console/tenants")
    await expect(page.get_by_role("button", name="Create tenant")).to_have_count(0)


async def test_a_form_without_the_sessions_csrf_token_is_refused(
    live: LiveHub, context: BrowserContext
) -> None:
    tenant = await _tenant(live.api, "Alvo")
    integration = await _integration(live.api, tenant["id"], "Zap")
    page = await context.new_page()
    await _sign_in(page, live)
    await page.goto(f"{live.url}/console/tenants/{tenant['id']}")
    card = page.locator(f"[data-integration='{integration['id']}']")
    await card.locator("form[action$='/rotate'] input[name=csrf]").evaluate(
        "e => e.value = 'forged'"
    )
    await card.get_by_role("button", name="Rotate key").click()
    await expect(page.get_by_text("CSRF check")).to_be_visible()
    r = await live.api.get("/v1/me", headers=bearer(integration["api_key"]))
    assert r.status_code == 200  # nothing changed
    r = await live.api.get("/admin/v1/audit?action=key.rotated", headers=ADMIN)
    assert r.json()["items"] == []


async def test_a_portal_link_opens_one_integration_until_revoked(
    live: LiveHub, context: BrowserContext, failing_receiver: tuple[Receiver, Switch]
) -> None:
    receiver, switch = failing_receiver
    tenant = await _tenant(live.api, "Loja")
    mine = await _integration(live.api, tenant["id"], "Meu zap")
    other = await _integration(live.api, tenant["id"], "Outro zap")
    await _dead_delivery(live, receiver, mine["api_key"])
    await _dead_delivery(live, receiver, other["api_key"], total=2, event_type="lead.updated")
    r = await live.api.get(f"/admin/v1/deliveries?integration_id={other['id']}", headers=ADMIN)
    [others] = [d["id"] for d in r.json()["items"]]
    r = await live.api.post(f"/admin/v1/integrations/{mine['id']}/portal-links", headers=ADMIN)
    assert r.status_code == 201, r.text
    link = r.json()
    url = link["url"].replace("http://127.0.0.1:8000", live.url)

    page = await context.new_page()
    await page.goto(url)
    await expect(page).to_have_url(re.compile(r"/portal/$"))  # the token left the address
    await expect(page.get_by_role("heading", name=re.compile("Meu zap"))).to_be_visible()
    await _shot(page, "portal")
    assert others not in await page.content()
    answer = await page.goto(f"{live.url}/portal/deliveries/{others}")
    assert answer is not None
    assert answer.status == 404
    await page.goto(f"{live.url}/portal/")
    await page.get_by_role("link", name=re.compile(r"^dlv_")).first.click()
    body = await page.locator("pre.body").inner_text()
    assert '"type": "lead.created"' in body
    sample = EVENT_TYPES["lead.created"].sample
    assert sample["contact"]["emails"][0]["address"] not in body  # masked by the policy
    assert sample["notes"] not in body  # dropped: never the raw event

    # Nothing of the other integration, nor the console, is reachable with it.
    answer = await page.goto(f"{live.url}/console/overview")
    assert answer is not None
    await expect(page).to_have_url(re.compile(r"/console/sign-in$"))

    switch.ok = True
    await page.goto(f"{live.url}/portal/")
    page.once("dialog", lambda dialog: dialog.accept())
    await page.get_by_role("button", name="Replay 1 failed deliveries").click()
    await expect(page.get_by_text("1 deliveries go out again")).to_be_visible()
    got = await eventually(lambda: _next(switch), "the portal's replay at the receiver")
    r = await live.api.get(f"/admin/v1/deliveries/{got.webhook_id}", headers=ADMIN)
    assert r.json()["integration_id"] == mine["id"]  # only its own were replayed
    r = await live.api.get(f"/admin/v1/deliveries/{others}", headers=ADMIN)
    assert r.json()["status"] == "dead"

    r = await live.api.delete(f"/admin/v1/portal-links/{link['link_id']}", headers=ADMIN)
    assert r.status_code == 204
    await page.goto(f"{live.url}/portal/")
    await expect(
        page.get_by_role("heading", name="This portal link is no longer valid")
    ).to_be_visible()
    answer = await page.goto(url)  # the link itself is dead too
    assert answer is not None
    assert answer.status == 404
