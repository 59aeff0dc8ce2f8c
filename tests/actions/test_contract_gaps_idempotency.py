"""Two ``Idempotency-Key`` headers in one request: which one was meant is a guess, so
neither is taken. Refused before anything is claimed or run."""

from __future__ import annotations

import httpx
import pytest

from hub.actions.idempotency import parse_idempotency_key
from hub.runtime import Runtime
from hub.web.errors import ProblemError
from tests.actions.conftest import LEAD, Caller, Upstream, count_rows, new_key
from tests.foundation.conftest import problem


def _headers(caller: Caller, *keys: str) -> list[tuple[str, str]]:
    return [
        ("authorization", f"Bearer {caller.api_key}"),
        ("content-type", "application/json"),
        *(("Idempotency-Key", key) for key in keys),
    ]


@pytest.mark.parametrize(
    "keys",
    [
        ("first", "second"),
        ("same", "same"),  # even alike: the request is not well-formed
        ("one", "two", "three"),
        ("", "good"),  # an empty one beside a good one is not "one header"
    ],
)
async def test_several_idempotency_key_headers_are_refused(
    live: Caller, upstream: Upstream, rt: Runtime, keys: tuple[str, ...]
) -> None:
    r = await live.client.post("/v1/actions/create_lead", json=LEAD, headers=_headers(live, *keys))
    body = problem(r, 400, "IDEMPOTENCY_KEY_INVALID")
    assert f"not {len(keys)}" in body["detail"]
    assert upstream.calls == []
    assert await count_rows(rt) == (0, 0)


async def test_one_header_still_runs_and_replays(
    live: Caller, upstream: Upstream, rt: Runtime
) -> None:
    key = new_key()
    first = await live.client.post(
        "/v1/actions/create_lead", json=LEAD, headers=_headers(live, key)
    )
    assert first.status_code == 200, first.text
    again = await live.client.post(
        "/v1/actions/create_lead", json=LEAD, headers=_headers(live, key)
    )
    assert again.headers.get("idempotent-replayed") == "true"
    assert len(upstream.calls) == 1
    assert await count_rows(rt) == (1, 1)


async def test_the_refusal_does_not_claim_either_key(
    live: Caller, upstream: Upstream, client: httpx.AsyncClient
) -> None:
    a, b = new_key(), new_key()
    r = await client.post("/v1/actions/create_lead", json=LEAD, headers=_headers(live, a, b))
    problem(r, 400, "IDEMPOTENCY_KEY_INVALID")
    for key in (a, b):
        r = await client.post("/v1/actions/create_lead", json=LEAD, headers=_headers(live, key))
        assert r.status_code == 200, r.text
        assert r.headers.get("idempotent-replayed") is None


@pytest.mark.parametrize(
    ("values", "expected"),
    [([], "IDEMPOTENCY_KEY_MISSING"), (["a", "b"], "IDEMPOTENCY_KEY_INVALID")],
)
def test_the_parser_judges_every_value_it_is_given(values: list[str], expected: str) -> None:
    with pytest.raises(ProblemError) as caught:
        parse_idempotency_key(values)
    assert caught.value.code == expected


def test_one_value_is_the_key() -> None:
    assert parse_idempotency_key(['"abc"']) == "abc"
