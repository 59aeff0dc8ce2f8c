"""``find_lead``: a search action — the product answers it live, the sandbox simulates it,
and a query with nothing to search by is refused before anything runs."""

from __future__ import annotations

from tests.actions.conftest import Caller, Upstream, new_key


async def test_the_sandbox_finds_one_lead_per_query_and_none_for_missing(sandbox: Caller) -> None:
    r = await sandbox.act("find_lead", {"external_id": "CRM-1"}, new_key())
    assert r.status_code == 200, r.text
    outputs = r.json()["outputs"]
    assert outputs["found"] is True
    (lead,) = outputs["leads"]
    assert lead["external_id"] == "CRM-1"
    assert lead["lead_id"].startswith("lead_sbx_")
    again = await sandbox.act("find_lead", {"external_id": "CRM-1"}, new_key())
    assert again.json()["outputs"]["leads"][0]["lead_id"] == lead["lead_id"]  # same query
    other = await sandbox.act("find_lead", {"email": "ana@paodourado.example"}, new_key())
    assert other.json()["outputs"]["leads"][0]["lead_id"] != lead["lead_id"]
    by_id = await sandbox.act("find_lead", {"lead_id": "lead_abc"}, new_key())
    assert by_id.json()["outputs"]["leads"][0]["lead_id"] == "lead_abc"
    missing = await sandbox.act("find_lead", {"external_id": "missing-42"}, new_key())
    assert missing.status_code == 200
    assert missing.json()["outputs"] == {"found": False, "leads": []}


async def test_a_live_search_reaches_the_product(live: Caller, upstream: Upstream) -> None:
    found = {"found": True, "leads": [{"lead_id": "lead_1", "company_name": "A", "status": "new"}]}
    upstream.reply(200, {"outputs": found})
    r = await live.act("find_lead", {"phone": "+5584999990101"}, "auto")
    assert r.status_code == 200, r.text
    assert r.json()["outputs"]["leads"][0]["lead_id"] == "lead_1"
    (call,) = upstream.calls
    assert call.json["action"] == "find_lead"
    assert call.json["inputs"] == {"phone": "+5584999990101"}
    upstream.reply(200, {"outputs": {"found": False, "leads": []}})
    none = await live.act("find_lead", {"phone": "+5584999990199"}, "auto")
    assert none.json()["outputs"] == {"found": False, "leads": []}


async def test_a_search_needs_something_to_search_by(live: Caller, upstream: Upstream) -> None:
    for body in ({}, {"email": None}, {"lead_id": ""}, {"name": "x"}):
        r = await live.act("find_lead", body, new_key())
        assert r.status_code == 422, (body, r.text)
        assert r.json()["code"] == "VALIDATION_FAILED"
    assert upstream.calls == []


async def test_find_appointment_in_the_sandbox_and_its_refusals(sandbox: Caller) -> None:
    r = await sandbox.act("find_appointment", {"lead_id": "lead_1", "status": "done"}, new_key())
    assert r.status_code == 200, r.text
    (found,) = r.json()["outputs"]["appointments"]
    assert (found["lead_id"], found["status"]) == ("lead_1", "done")
    assert found["appointment_id"].startswith("apt_sbx_")
    none = await sandbox.act("find_appointment", {"lead_id": "missing-1"}, new_key())
    assert none.json()["outputs"] == {"found": False, "appointments": []}
    for body in ({}, {"status": "scheduled"}, {"appointment_id": "a b"}):
        refused = await sandbox.act("find_appointment", body, new_key())
        assert refused.status_code == 422, (body, refused.text)
