"""Helpers of the foundation suite (shared fixtures live in ``tests/conftest.py``)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Factory


def problem(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Assert ``r`` is the documented problem and return its body."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body: dict[str, Any] = r.json()
    assert body["code"] == code, body
    assert body["status"] == status
    assert body["type"].endswith(code.lower().replace("_", "-"))
    assert body["title"]
    assert body["detail"]
    assert body["correlation_id"] == r.headers["x-request-id"]
    return body


class Admin:
    """The admin API as one token holder sees it."""

    def __init__(self, client: httpx.AsyncClient, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        return {**self.headers, **(extra or {})}

    async def get(
        self, path: str, *, headers: dict[str, str] | None = None, **kw: Any
    ) -> httpx.Response:
        return await self.client.get("/admin/v1" + path, headers=self._headers(headers), **kw)

    async def post(
        self, path: str, body: Any = None, *, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        """POST ``body`` as JSON; no body at all when ``body`` is None."""
        kw: dict[str, Any] = {} if body is None else {"json": body}
        return await self.client.post("/admin/v1" + path, headers=self._headers(headers), **kw)

    async def patch(
        self, path: str, body: Any, *, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        return await self.client.patch(
            "/admin/v1" + path, json=body, headers=self._headers(headers)
        )

    async def token(self, tenant_id: str | None, name: str = "t") -> str:
        r = await self.post("/tokens", {"name": name, "tenant_id": tenant_id})
        assert r.status_code == 201, r.text
        token: str = r.json()["token"]
        return token


@pytest.fixture
def admin(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> Admin:
    """The platform admin (the bootstrap token)."""
    return Admin(client, admin_headers["Authorization"].removeprefix("Bearer "))


__all__ = ["Admin", "Factory", "problem"]
