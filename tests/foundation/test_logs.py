"""Logs are JSON lines with the request context and never a key, token or secret."""

from __future__ import annotations

import io
import json
import logging

import httpx

from hub.logs import JsonFormatter, configure_logging
from tests.conftest import Factory, bearer
from tests.foundation.conftest import Admin


async def test_requests_are_logged_with_context_and_without_secrets(
    client: httpx.AsyncClient, factory: Factory, admin: Admin
) -> None:
    integration = await factory.integration()
    key = integration["api_key"]
    bad_key = key[:-4] + "zzzz"
    token = await admin.token(integration["tenant_id"])
    secret = "an-upstream-secret-of-some-length"

    with _capture() as captured:
        await client.get("/v1/me", headers={**bearer(bad_key), "X-Request-Id": "bad-1"})
        await client.get("/v1/me", headers={**bearer(key), "X-Request-Id": "good-1"})
        await client.get("/v1/me", headers={"X-API-Key": key, "X-Request-Id": "good-2"})
        await client.patch(
            f"/admin/v1/tenants/{integration['tenant_id']}",
            json={"upstream_secret": secret},
            headers={**bearer(token), "X-Request-Id": "patch-1"},
        )
        await client.post(
            "/admin/v1/tenants", content=b'{"name": ' + key.encode(), headers=admin.headers
        )
    text = captured.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines, "nothing was logged"
    for needle in (key, key.rsplit("_", 1)[1], bad_key, bad_key.rsplit("_", 1)[1], token, secret):
        assert needle not in text

    by_request = {line.get("request_id"): line for line in lines if line["logger"] == "hub.access"}
    good = by_request["good-1"]
    assert good["status"] == 200
    assert good["route"] == "/v1/me"
    assert good["tenant_id"] == integration["tenant_id"]
    assert good["integration_id"] == integration["id"]
    assert by_request["bad-1"]["status"] == 401
    assert "integration_id" not in by_request["bad-1"]
    assert by_request["patch-1"]["status"] == 200
    for line in lines:
        assert {"ts", "level", "logger", "msg"} <= line.keys()


class _capture:
    """Capture the root logger's output as production's JSON lines."""

    def __enter__(self) -> io.StringIO:
        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setFormatter(JsonFormatter())
        self.root = logging.getLogger()
        self.level = self.root.level
        self.root.addHandler(self.handler)
        self.root.setLevel(logging.DEBUG)
        return self.stream

    def __exit__(self, *exc: object) -> None:
        self.root.removeHandler(self.handler)
        self.root.setLevel(self.level)


def test_configure_logging_installs_one_json_handler() -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure_logging("WARNING")
        assert len(root.handlers) == 1
        assert isinstance(root.handlers[0].formatter, JsonFormatter)
        assert root.level == logging.WARNING
        record = logging.LogRecord(
            "hub.x", logging.WARNING, __file__, 1, "hello %s", ("you",), None
        )
        record.tenant = "ten_1"
        line = json.loads(JsonFormatter().format(record))
        assert line["msg"] == "hello you"
        assert line["tenant"] == "ten_1"
        assert line["level"] == "warning"
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
