"""Bad requests get their documented problem, run nothing and store nothing.

The one thing stored is by design: a body that is JSON but fails the schema is a
request the key now stands for, so its 422 is kept and replayed (docs/actions.md).
"""

from __future__ import annotations

import httpx
import pytest

from hub.runtime import Runtime
from tests.actions.conftest import LEAD, Caller, Upstream, count_rows, new_key
from tests.conftest import Factory, bearer


def problem(r: httpx.Response, status: int, code: str) -> dict:  # type: ignore[type-arg]
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == code
    assert body["correlation_id"] == r.headers["x-request-id"]
    return body  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("raw", "content_type", "status", "code"),
    [
        (b'{"company_name": "Acme",', "application/json", 400, "MALFORMED_JSON"),
        (b"", "application/json", 400, "MALFORMED_JSON"),
        (b"company_name=Acme", "application/x-www-form-urlencoded", 415, "UNSUPPORTED_MEDIA_TYPE"),
        (
            b'{"company_name": "' + b"x" * (1024 * 1024) + b'"}',
            "application/json",
            413,
            "PAYLOAD_TOO_LARGE",
        ),
    ],
)
async def test_unreadable_bodies(
    live: Caller,
    upstream: Upstream,
    rt: Runtime,
    raw: bytes,
    content_type: str,
    status: int,
    code: str,
) -> None:
    r = await live.act(
        "create_lead", None, new_key(), raw=raw, headers={"content-type": content_type}
    )
    problem(r, status, code)
    assert upstream.calls == []
    assert await count_rows(rt) == (0, 0)


async def test_missing_idempotency_key(live: Caller, upstream: Upstream, rt: Runtime) -> None:
    body = problem(await live.act("create_lead", LEAD), 400, "IDEMPOTENCY_KEY_MISSING")
    assert "Idempotency-Key" in body["detail"]
    problem(await live.act("create_lead", LEAD, "   "), 400, "IDEMPOTENCY_KEY_MISSING")
    assert upstream.calls == []
    assert await count_rows(rt) == (0, 0)


@pytest.mark.parametrize(
    "key",
    [
        "k" * 256,
        '""',
        '"unterminated',
        'trailing"',
        '"bad \\x escape"',
        '"inner " quote"',
        "tab\there",
    ],
)
async def test_invalid_idempotency_keys(
    live: Caller, upstream: Upstream, rt: Runtime, key: str
) -> None:
    problem(await live.act("create_lead", LEAD, key), 400, "IDEMPOTENCY_KEY_INVALID")
    assert upstream.calls == []
    assert await count_rows(rt) == (0, 0)


async def test_non_ascii_key_is_invalid(live: Caller, upstream: Upstream, rt: Runtime) -> None:
    r = await live.client.post(
        "/v1/actions/create_lead",
        json=LEAD,
        headers=[
            ("authorization", f"Bearer {live.api_key}"),
            ("idempotency-key", "chave-ção".encode()),  # type: ignore[list-item]
        ],
    )
    problem(r, 400, "IDEMPOTENCY_KEY_INVALID")
    assert await count_rows(rt) == (0, 0)


async def test_longest_and_quoted_keys_are_accepted(live: Caller, upstream: Upstream) -> None:
    assert (await live.act("create_lead", LEAD, "k" * 255)).status_code == 200
    assert (await live.act("create_lead", LEAD, '"with \\"escaped\\" quotes"')).status_code == 200
    assert (await live.act("create_lead", LEAD, "with inner spaces")).status_code == 200


@pytest.mark.parametrize(
    ("body", "paths"),
    [
        ({**LEAD, "company_name": 42}, {"$.company_name"}),
        ({**LEAD, "favourite_colour": "blue"}, {"$.favourite_colour"}),
        ({"contact_name": "João"}, {"$.company_name"}),
        (
            {**LEAD, "document": "123", "status": "maybe", "tags": "vip"},
            {"$.document", "$.status", "$.tags"},
        ),
        ([1, 2, 3], {"$"}),
    ],
)
async def test_schema_failures_run_nothing_and_list_every_error(
    live: Caller, upstream: Upstream, rt: Runtime, body: object, paths: set[str]
) -> None:
    r = await live.act("create_lead", body, new_key())
    problem_body = problem(r, 422, "VALIDATION_FAILED")
    assert {e["path"] for e in problem_body["errors"]} == paths
    assert upstream.calls == []
    assert await count_rows(rt) == (1, 0)  # the stored 422 only; no execution


async def test_credentials(
    live: Caller,
    upstream: Upstream,
    rt: Runtime,
    client: httpx.AsyncClient,
    factory: Factory,
) -> None:
    url = "/v1/actions/create_lead"
    key = {"Idempotency-Key": new_key()}
    problem(await client.post(url, json=LEAD, headers=key), 401, "UNAUTHENTICATED")
    problem(
        await client.post(url, json=LEAD, headers={**key, **bearer("hk_nope")}),
        401,
        "UNAUTHENTICATED",
    )
    wrong_secret = live.api_key[:-4] + "aaaa"
    problem(
        await client.post(url, json=LEAD, headers={**key, **bearer(wrong_secret)}),
        401,
        "UNAUTHENTICATED",
    )
    r = await client.post(
        f"/admin/v1/integrations/{live.id}/keys/revoke", json={}, headers=factory.admin_headers
    )
    assert r.status_code == 200, r.text
    problem(await live.act("create_lead", LEAD, new_key()), 401, "KEY_REVOKED")
    assert upstream.calls == []
    assert await count_rows(rt) == (0, 0)


async def test_disabled_integration(
    live: Caller, upstream: Upstream, rt: Runtime, client: httpx.AsyncClient, factory: Factory
) -> None:
    r = await client.patch(
        f"/admin/v1/integrations/{live.id}",
        json={"status": "disabled"},
        headers=factory.admin_headers,
    )
    assert r.status_code == 200, r.text
    problem(await live.act("create_lead", LEAD, new_key()), 403, "INTEGRATION_DISABLED")
    assert upstream.calls == []
    assert await count_rows(rt) == (0, 0)
