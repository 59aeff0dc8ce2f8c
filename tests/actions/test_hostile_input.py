"""Actions with hostile input: refused before the key is claimed, or stored as a 422.

NUL and nesting too deep are decoding errors: nothing is claimed, so the same key
with a good body runs. A timestamp out of range or a reserved event type is the
input's own 422, stored and replayed like any validation failure (docs/actions.md).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.actions.idempotency import parse_idempotency_key
from hub.actions.routes import IDEMPOTENCY_KEY_PATTERN
from hub.events.catalog import EVENT_TYPES
from hub.runtime import Runtime
from hub.web.errors import ProblemError
from hub.web.input_rules import MAX_DEPTH
from tests.actions.conftest import LEAD, Caller, Upstream, count_rows, new_key
from tests.actions.test_bad_input import problem
from tests.events.helpers import all_events


def paths(body: dict[str, Any]) -> list[str]:
    return [e["path"] for e in body["errors"]]


@pytest.mark.parametrize(
    ("raw", "path", "message"),
    [
        (
            b'{"company_name": "Acme\\u0000", "contact_name": "Jo"}',
            "$.company_name",
            "text must not contain the NUL character (\\u0000)",
        ),
        (
            b'{"company_name": "Acme", "tags": [' + b"[" * MAX_DEPTH + b"]" * MAX_DEPTH + b"]}",
            "$",
            f"nested deeper than {MAX_DEPTH} levels",
        ),
        (
            b'{"company_name": "Acme", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}",
            "$",
            f"nested deeper than {MAX_DEPTH} levels",
        ),
    ],
)
async def test_decoding_errors_claim_nothing_and_the_key_stays_usable(
    live: Caller, upstream: Upstream, rt: Runtime, raw: bytes, path: str, message: str
) -> None:
    key = new_key()
    body = problem(await live.act("create_lead", None, key, raw=raw), 422, "VALIDATION_FAILED")
    assert body["errors"] == [{"path": path, "message": message}]
    assert upstream.calls == []
    assert await count_rows(rt) == (0, 0)
    retry = await live.act("create_lead", LEAD, key)
    assert retry.status_code == 200, retry.text
    assert len(upstream.calls) == 1


async def test_nul_in_event_data_of_publish_event(live: Caller, rt: Runtime) -> None:
    raw = b'{"type": "lead.created", "data": {"lead_id": "l\\u0000"}}'
    body = problem(
        await live.act("publish_event", None, new_key(), raw=raw), 422, "VALIDATION_FAILED"
    )
    assert paths(body) == ["$.data.lead_id"]
    assert await all_events(rt) == []


@pytest.mark.parametrize(
    ("inputs", "path"),
    [
        ({"occurred_at": "0001-01-01T00:00:00+01:00"}, "$.occurred_at"),
        ({"occurred_at": "9999-12-31T23:59:59-01:00"}, "$.occurred_at"),
        (
            {"data": {**EVENT_TYPES["lead.created"].sample, "created_at": "9999-12-31T00:00:00Z"}},
            "$.data.created_at",
        ),
    ],
)
async def test_publish_event_refuses_timestamps_outside_the_range(
    live: Caller, rt: Runtime, inputs: dict[str, Any], path: str
) -> None:
    body = {"type": "lead.created", "data": EVENT_TYPES["lead.created"].sample, **inputs}
    key = new_key()
    first = problem(await live.act("publish_event", body, key), 422, "VALIDATION_FAILED")
    assert paths(first) == [path]
    replay = await live.act("publish_event", body, key)
    assert replay.status_code == 422
    assert replay.headers["idempotent-replayed"] == "true"
    assert await all_events(rt) == []


async def test_publish_event_at_the_edge_of_the_range(live: Caller, rt: Runtime) -> None:
    body = {
        "type": "lead.created",
        "data": EVENT_TYPES["lead.created"].sample,
        "occurred_at": "9999-12-30T22:59:59-01:00",
    }
    r = await live.act("publish_event", body, new_key())
    assert r.status_code == 200, r.text
    (stored,) = await all_events(rt)
    assert stored.occurred_at.isoformat() == "9999-12-30T23:59:59+00:00"


async def test_schedule_appointment_refuses_a_time_outside_the_range(
    live: Caller, upstream: Upstream
) -> None:
    inputs = {"lead_id": "lead_1", "kind": "callback", "scheduled_for": "0001-01-01T00:00:00+01:00"}
    body = problem(
        await live.act("schedule_appointment", inputs, new_key()), 422, "VALIDATION_FAILED"
    )
    assert paths(body) == ["$.scheduled_for"]
    assert upstream.calls == []


async def test_publish_event_refuses_the_hubs_own_event_types(live: Caller, rt: Runtime) -> None:
    body = {"type": "subscription.disabled", "data": EVENT_TYPES["subscription.disabled"].sample}
    r = problem(await live.act("publish_event", body, new_key()), 422, "VALIDATION_FAILED")
    assert r["errors"][0]["path"] == "$.type"
    assert "reserved" in r["errors"][0]["message"]
    assert await all_events(rt) == []


# -- the document's Idempotency-Key pattern is exactly what the parser accepts --------

_KEY_ALPHABET = st.characters(min_codepoint=0x20, max_codepoint=0x7E)


@given(st.text(_KEY_ALPHABET, min_size=1, max_size=260) | st.from_regex(IDEMPOTENCY_KEY_PATTERN))
def test_the_documented_key_pattern_is_the_parser(raw: str) -> None:
    documented = re.fullmatch(IDEMPOTENCY_KEY_PATTERN, raw) is not None
    try:
        parse_idempotency_key(raw)
        accepted = True
    except ProblemError:
        accepted = False
    if raw != raw.strip():
        # HTTP strips a header value's surrounding whitespace before the hub sees it.
        return
    assert documented == accepted, raw
