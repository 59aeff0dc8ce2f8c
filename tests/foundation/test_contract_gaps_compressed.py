"""Compressed request bodies are refused, not decompressed: 415
``UNSUPPORTED_MEDIA_TYPE`` on every route, before authentication or decoding, and
nothing changes."""

from __future__ import annotations

import gzip
import zlib

import httpx
import msgspec
import pytest

from hub.runtime import Runtime
from tests.conftest import Factory, bearer
from tests.foundation.conftest import problem
from tests.support.snapshots import unchanged

TENANT = msgspec.json.encode({"name": "Acme"})


def _compressed(coding: str) -> bytes:
    if "gzip" in coding:
        return gzip.compress(TENANT)
    if "deflate" in coding:
        return zlib.compress(TENANT)
    return TENANT  # "br", "zstd" and unknown codings: the name alone is refused


@pytest.mark.parametrize("coding", ["gzip", "GZip", "deflate", "br", "zstd", "identity, gzip"])
async def test_a_compressed_admin_body_is_refused(
    rt: Runtime, client: httpx.AsyncClient, admin_headers: dict[str, str], coding: str
) -> None:
    async with unchanged(rt.db):
        r = await client.post(
            "/admin/v1/tenants",
            content=_compressed(coding),
            headers={
                **admin_headers,
                "content-type": "application/json",
                "content-encoding": coding,
            },
        )
    body = problem(r, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert "compressed" in body["detail"]
    assert r.headers["accept-encoding"] == "identity"


async def test_integration_routes_refuse_it_too_before_authentication(
    rt: Runtime, client: httpx.AsyncClient, factory: Factory
) -> None:
    source = await factory.integration(kind="source", scopes=["events:publish"])
    event = {"id": "evt-1", "type": "lead.created", "data": {}}
    gz = {"content-type": "application/json", "content-encoding": "gzip"}
    async with unchanged(rt.db):
        for headers in (gz, {**gz, **bearer(source["api_key"])}):
            r = await client.post(
                "/v1/events", content=gzip.compress(msgspec.json.encode(event)), headers=headers
            )
            problem(r, 415, "UNSUPPORTED_MEDIA_TYPE")


async def test_two_content_encoding_headers_are_judged_together(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    r = await client.post(
        "/admin/v1/tenants",
        content=gzip.compress(TENANT),
        headers=[
            *admin_headers.items(),
            ("content-type", "application/json"),
            ("content-encoding", "identity"),
            ("content-encoding", "gzip"),
        ],
    )
    problem(r, 415, "UNSUPPORTED_MEDIA_TYPE")


@pytest.mark.parametrize("coding", ["identity", "IDENTITY", " identity ", ""])
async def test_identity_is_an_uncompressed_body(
    client: httpx.AsyncClient, admin_headers: dict[str, str], coding: str
) -> None:
    r = await client.post(
        "/admin/v1/tenants",
        content=TENANT,
        headers={**admin_headers, "content-type": "application/json", "content-encoding": coding},
    )
    assert r.status_code == 201, r.text


async def test_a_bodiless_request_has_nothing_to_refuse(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    r = await client.get("/admin/v1/tenants", headers={**admin_headers, "content-encoding": "gzip"})
    assert r.status_code == 200, r.text
