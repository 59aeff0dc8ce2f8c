"""One trace from ``POST /v1/events`` through fan-out to every delivery attempt.

The hub is built with an in-memory exporter (what OTLP would receive); the request's
context crosses to the attempts only through the delivery rows (``trace_parent``), as
it does between an API process and a worker. Nothing secret reaches a span.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from sqlalchemy import select

from hub.app import Hub, build_hub, create_app
from hub.clock import FrozenClock
from hub.config import ConfigError, Settings, load_settings
from hub.delivery.engine import DeliveryEngine
from hub.delivery.models import Delivery
from hub.events.catalog import EVENT_TYPES
from hub.runtime import Runtime
from hub.tracing import Tracing, scheme_and_host
from tests.conftest import Factory, bearer
from tests.delivery.support import scripted
from tests.support.databases import wipe


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
async def hub(
    settings: Settings, clock: FrozenClock, exporter: InMemorySpanExporter
) -> AsyncIterator[Hub]:
    """The suite's hub, traced into ``exporter`` (closing it unpatches the libraries)."""
    built = await build_hub(settings, clock=clock, tracing=Tracing.with_exporter(exporter))
    await wipe(built.rt.db)
    await built.start()
    yield built
    await built.close()


def finished(rt: Runtime, exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    assert rt.tracing.provider is not None
    rt.tracing.provider.force_flush()
    return list(exporter.get_finished_spans())


def every_attribute(spans: list[ReadableSpan]) -> str:
    return "\n".join(f"{s.name} {dict(s.attributes or {})}" for s in spans)


async def test_an_event_its_fan_out_and_every_attempt_share_one_trace(
    rt: Runtime,
    clock: FrozenClock,
    client: httpx.AsyncClient,
    factory: Factory,
    engine: DeliveryEngine,
    receivers,
    exporter: InMemorySpanExporter,
) -> None:
    flaky = await receivers(scripted([503, 200]), path="/hooks/catch/123/s3cr3t-path")
    steady = await receivers(scripted([200]))
    integration = await factory.integration(scopes=["events:publish", "triggers:*"], kind="partner")
    key = bearer(integration["api_key"])
    for target in (flaky.url, steady.url):
        r = await client.post(
            "/v1/hooks", json={"event": "lead.created", "target_url": target}, headers=key
        )
        assert r.status_code == 201, r.text
    exporter.clear()

    event = {"id": "lead-1", "type": "lead.created", "data": EVENT_TYPES["lead.created"].sample}
    r = await client.post("/v1/events", json=event, headers=key)
    assert r.status_code == 202, r.text
    assert await engine.run_until_idle() == 2  # steady: 200; flaky: 503, retried later
    clock.advance(10)
    assert await engine.run_until_idle() == 1  # flaky: 200
    assert len(flaky.received) == 2
    assert len(steady.received) == 1

    spans = finished(rt, exporter)
    [ingest] = [
        s for s in spans if s.kind == SpanKind.SERVER and "/v1/events" in s.name and s.context
    ]
    assert ingest.context is not None
    trace_id = ingest.context.trace_id
    [fan_out] = [s for s in spans if s.name == "hub.events.fan_out"]
    assert fan_out.parent is not None
    assert fan_out.context is not None
    assert fan_out.context.trace_id == trace_id
    assert (fan_out.attributes or {})["hub.deliveries"] == 2
    # fan-out runs inside the request: its parent is the request's span or one below it
    by_id = {s.context.span_id: s for s in spans if s.context is not None}
    parent = by_id.get(fan_out.parent.span_id)
    while parent is not None and parent is not ingest:
        parent = by_id.get(parent.parent.span_id) if parent.parent else None
    assert parent is ingest, "fan-out is not under the ingest request's span"

    attempts = [s for s in spans if s.name == "hub.delivery.attempt"]
    assert len(attempts) == 3
    for attempt in attempts:
        assert attempt.context is not None
        assert attempt.parent is not None
        assert attempt.context.trace_id == trace_id
        assert attempt.parent.span_id == fan_out.context.span_id  # through the row
    codes = sorted((a.attributes or {})["http.response.status_code"] for a in attempts)
    assert codes == [200, 200, 503]
    failed = [a for a in attempts if (a.attributes or {})["http.response.status_code"] == 503]
    assert failed[0].status.status_code == StatusCode.ERROR
    assert {(a.attributes or {})["hub.attempt"] for a in attempts} == {1, 2}

    # Each attempt's HTTP request is its child, naming the target's host, not its path.
    posts = [s for s in spans if s.kind == SpanKind.CLIENT and s.parent is not None]
    attempt_ids = {a.context.span_id for a in attempts if a.context is not None}
    sent = [p for p in posts if p.parent is not None and p.parent.span_id in attempt_ids]
    assert len(sent) == 3
    hosts = {scheme_and_host(flaky.url), scheme_and_host(steady.url)}
    assert {str((p.attributes or {}).get("http.url")) for p in sent} == hosts
    text = every_attribute(spans)
    assert "s3cr3t-path" not in text
    assert "/hooks/catch" not in text
    if rt.settings.database_url.startswith("postgresql"):
        # Postgres statements of the ingest are in the same trace, without parameters.
        queries = [
            s
            for s in spans
            if s.context is not None
            and s.context.trace_id == trace_id
            and "db.statement" in (s.attributes or {})
            and "INSERT INTO events" in str((s.attributes or {})["db.statement"])
        ]
        assert queries, "no Postgres span in the ingest's trace"
        assert "lead-1" not in every_attribute(queries)

    async with rt.db.session() as session:
        stored = (await session.execute(select(Delivery.trace_parent))).scalars().all()
    assert len(stored) == 2
    assert all(p is not None and p.split("-")[1] == format(trace_id, "032x") for p in stored)


async def test_no_secret_or_personal_value_reaches_a_span(
    rt: Runtime,
    client: httpx.AsyncClient,
    factory: Factory,
    admin_headers: dict[str, str],
    exporter: InMemorySpanExporter,
) -> None:
    integration = await factory.integration(scopes=["events:publish", "triggers:*"], kind="partner")
    exporter.clear()
    token = "pl_tok_do-not-trace-me"
    r = await client.get(f"/portal/enter?token={token}")
    assert r.status_code == 404
    r = await client.get("/v1/me", headers=bearer(integration["api_key"]))
    assert r.status_code == 200
    email = "maria.silva@example.com"
    event = {
        "id": "lead-2",
        "type": "lead.created",
        "data": {**EVENT_TYPES["lead.created"].sample, "email": email},
    }
    r = await client.post("/v1/events", json=event, headers=bearer(integration["api_key"]))
    assert r.status_code == 202, r.text

    spans = finished(rt, exporter)
    assert any(s.kind == SpanKind.SERVER for s in spans)
    text = every_attribute(spans)
    assert "/portal/enter" in text  # the path is there...
    assert token not in text  # ...its query is not
    assert integration["api_key"] not in text
    assert admin_headers["Authorization"].split()[-1] not in text
    assert email not in text


async def test_tracing_is_off_by_default_and_costs_no_middleware(hub: Hub) -> None:
    plain = load_settings({"HUB_DATABASE_URL": hub.settings.database_url})
    assert plain.traces_exporter == "none"
    off = Tracing.from_settings(plain)
    assert not off.enabled
    assert off.traceparent() is None
    with off.span("anything") as span:
        assert span is None
    assert off.asgi_config() is None
    app = create_app(plain)
    assert not app.app.plugins._plugins or all(  # type: ignore[attr-defined]
        "OpenTelemetry" not in type(p).__name__
        for p in app.app.plugins._plugins  # type: ignore[attr-defined]
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "none"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, "otlp"),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, "otlp"),
        ({"OTEL_TRACES_EXPORTER": "console"}, "console"),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c"}, "none"),
        ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}, "none"),
    ],
)
def test_the_standard_otel_variables_choose_the_exporter(
    env: dict[str, str], expected: str
) -> None:
    assert load_settings(env).traces_exporter == expected


def test_an_unknown_exporter_is_refused_by_name() -> None:
    with pytest.raises(ConfigError, match="OTEL_TRACES_EXPORTER must be one of"):
        load_settings({"OTEL_TRACES_EXPORTER": "zipkin"})
