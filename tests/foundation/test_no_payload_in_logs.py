"""Logs never hold payload: not from hostile requests, not from a 500's traceback.

A request's data reaches a log line through exception messages (a driver error quoting
the refused row, SQLAlchemy's ``[parameters: ...]``, a library quoting the value it
could not parse), so these requests carry markers in body, query and path, some of them
all the way to a real 500, and the JSON lines production writes must not show them.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import httpx
import pytest
from litestar import get
from litestar.params import FromQuery
from sqlalchemy import text

from hub.app import Hub, create_app
from hub.logs import QUIETED_LIBRARIES, JsonFormatter, configure_logging
from hub.runtime import Runtime
from tests.conftest import Factory, bearer
from tests.foundation.conftest import problem

EMAIL = "leaky.person@example.com"
TOKEN = "tok_9f8e7d6c5b4a39281706f5e4d3c2b1a0"
MARKERS = (EMAIL, TOKEN, "leaky.person", "9f8e7d6c5b4a3928")


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """What a process configured as production's (at DEBUG, the chattiest) writes."""
    root = logging.getLogger()
    quieted = [logging.getLogger(name) for name in QUIETED_LIBRARIES]
    saved = (root.handlers[:], root.level, [logger.level for logger in quieted])
    stream = io.StringIO()
    configure_logging("DEBUG")
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    try:
        yield stream
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for logger, level in zip(quieted, saved[2], strict=True):
            logger.setLevel(level)


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def _assert_no_marker(stream: io.StringIO) -> None:
    logged = stream.getvalue()
    for marker in MARKERS:
        assert marker not in logged, [ln[:300] for ln in logged.splitlines() if marker in ln]


@pytest.fixture
async def unique_tenant_names(rt: Runtime) -> Iterator[None]:
    """A unique index the schema does not have, so a second tenant of one name is a
    real constraint violation inside the hub's own insert (a 500, as a bug would be)."""
    async with rt.db.engine.begin() as conn:
        await conn.execute(text("CREATE UNIQUE INDEX ix_test_tenant_name ON tenants (name)"))
    yield
    async with rt.db.engine.begin() as conn:
        await conn.execute(text("DROP INDEX ix_test_tenant_name"))


@pytest.mark.usefixtures("unique_tenant_names")
async def test_a_database_error_logs_its_statement_not_the_row(
    client: httpx.AsyncClient, admin_headers: dict[str, str], json_logs: io.StringIO
) -> None:
    name = f"{EMAIL} {TOKEN}"
    first = await client.post("/admin/v1/tenants", json={"name": name}, headers=admin_headers)
    assert first.status_code == 201, first.text
    r = await client.post("/admin/v1/tenants", json={"name": name}, headers=admin_headers)

    problem(r, 500, "INTERNAL")
    errors = [line for line in _lines(json_logs) if line["level"] == "error"]
    assert errors, "the 500 was not logged"
    trace = str(errors[0]["exc"])
    # What an operator needs is still there: the type, the driver's error, the frames.
    assert "IntegrityError" in trace
    assert "Traceback (most recent call last)" in trace
    assert "create_tenant" in trace
    assert "[SQL: INSERT INTO tenants" in trace
    _assert_no_marker(json_logs)


@get("/test-only/parse", include_in_schema=False)
async def parse_or_crash(q: FromQuery[str]) -> None:
    try:
        {"known": 1}[q]
    except KeyError as exc:
        raise ValueError(f"cannot understand {q!r}") from exc


async def test_a_crashing_handler_logs_types_and_frames_not_messages(
    hub: Hub, json_logs: io.StringIO
) -> None:
    app = create_app(hub.settings, hub=hub, extra_routes=[parse_or_crash])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as c:
        r = await c.get("/test-only/parse", params={"q": f"{EMAIL}/{TOKEN}"})

    problem(r, 500, "INTERNAL")
    (error,) = [line for line in _lines(json_logs) if line["level"] == "error"]
    trace = str(error["exc"])
    assert "KeyError" in trace
    assert "direct cause" in trace
    assert "ValueError" in trace
    assert "parse_or_crash" in trace
    _assert_no_marker(json_logs)


async def test_hostile_requests_leave_no_marker_in_the_logs(
    client: httpx.AsyncClient,
    factory: Factory,
    admin_headers: dict[str, str],
    json_logs: io.StringIO,
) -> None:
    integration = await factory.integration()
    key = bearer(integration["api_key"])
    json_ = {"content-type": "application/json"}
    answers = [
        await client.get(f"/admin/v1/tenants/{EMAIL}", headers=admin_headers),
        await client.get(f"/admin/v1/audit?action={TOKEN}&since={EMAIL}", headers=admin_headers),
        await client.get(f"/admin/v1/deliveries?until={TOKEN}", headers=admin_headers),
        await client.get(f"/v1/{TOKEN}/{EMAIL}", headers=key),
        await client.post(
            "/admin/v1/tenants",
            content=f'{{"name": "{EMAIL}", "colour": "{TOKEN}"}}',
            headers={**admin_headers, **json_},
        ),
        await client.post(
            "/admin/v1/tenants", content=f'{{"name": "{EMAIL}', headers={**admin_headers, **json_}
        ),
        await client.post(
            "/v1/actions/create_lead",
            json={"company_name": EMAIL, "contact": {"email": EMAIL, "phone": TOKEN}},
            headers={**key, "idempotency-key": TOKEN},
        ),
        await client.post(
            "/v1/events",
            json={"id": TOKEN, "type": "lead.created", "data": {"email": EMAIL}},
            headers=key,
        ),
        await client.post(
            "/v1/hooks",
            json={"event_type": "lead.created", "target_url": f"http://{TOKEN}.invalid/{EMAIL}"},
            headers=key,
        ),
        await client.get("/v1/me", headers={"authorization": f"Bearer {TOKEN}"}),
    ]
    assert all(r.status_code < 500 for r in answers), [r.text for r in answers]
    assert _lines(json_logs), "nothing was logged"
    _assert_no_marker(json_logs)


def _record(msg: str, args: tuple[object, ...], exc: BaseException | None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord("arq.worker", logging.ERROR, __file__, 1, msg, args, exc_info)


def test_a_failed_job_line_names_the_exception_type_only() -> None:
    """arq logs ``'%6.2fs ! %s failed, %s: %s', t, ref, name, exc`` with the traceback."""
    try:
        raise RuntimeError(f"upstream said no to {EMAIL}")
    except RuntimeError as exc:
        caught = exc
    record = _record("%6.2fs ! %s failed, %s: %s", (0.5, "job:1", "RuntimeError", caught), caught)
    record.extra = caught  # what a library attaches as an extra goes through the same filter

    line = json.loads(JsonFormatter().format(record))

    assert line["msg"].startswith("  0.50s ! job:1 failed, RuntimeError: RuntimeError")
    assert "RuntimeError" in line["exc"]
    assert "test_a_failed_job_line_names_the_exception_type_only" in line["exc"]
    assert EMAIL not in json.dumps(line)
    assert "leaky" not in json.dumps(line)
