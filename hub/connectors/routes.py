"""Connectors' controllers: the admin API of tenants' connectors, and the inbound
URL providers call. Thin by design: the rules are in ``service`` and ``inbound``."""

from __future__ import annotations

from typing import Any

from litestar import Response, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from hub.admin.requests import admin_of
from hub.admin.schemas import Page
from hub.connectors import inbound, service, suppressions
from hub.connectors.protocol import ConnectorRegistry, InboundRequest
from hub.connectors.schemas import ConnectorPut, ConnectorType, ConnectorView
from hub.connectors.suppressions import SuppressionView
from hub.web.query import PageLimit
from hub.web.requests import AnyRequest, body_of, runtime_of

TAGS = ["admin"]


@get("/connectors", tags=TAGS)
async def list_connector_types(
    request: AnyRequest, connectors: NamedDependency[ConnectorRegistry]
) -> Page[ConnectorType]:
    """List the connectors this hub runs.

    Each with its kind, the actions it can carry out, whether it receives provider
    webhooks, and its configuration's JSON Schema (secret fields named).
    """
    await admin_of(request)
    return Page(items=[service.connector_type(c) for c in connectors])


@get("/tenants/{tenant_id:str}/connectors", tags=TAGS)
async def list_tenant_connectors(
    request: AnyRequest, connectors: NamedDependency[ConnectorRegistry], tenant_id: FromPath[str]
) -> Page[ConnectorView]:
    """List a tenant's connectors.

    Secret fields are never shown: `secrets_set` names the ones stored.
    """
    admin = await admin_of(request)
    items = await service.list_connectors(runtime_of(request), connectors, admin, tenant_id)
    return Page(items=items)


@get("/tenants/{tenant_id:str}/connectors/{name:str}", tags=TAGS)
async def get_tenant_connector(
    request: AnyRequest,
    connectors: NamedDependency[ConnectorRegistry],
    tenant_id: FromPath[str],
    name: FromPath[str],
) -> ConnectorView:
    """Get a tenant's connector.

    404 when the tenant has not configured it (or the hub does not run it).
    """
    admin = await admin_of(request)
    return await service.get_connector(runtime_of(request), connectors, admin, tenant_id, name)


@put(
    "/tenants/{tenant_id:str}/connectors/{name:str}",
    tags=TAGS,
    opt={
        "body": ConnectorPut,
        "errors": ("TARGET_NOT_ALLOWED", "CONFLICT"),
        "also": {201: "Created: the tenant had not configured this connector"},
    },
)
async def put_tenant_connector(
    request: AnyRequest,
    connectors: NamedDependency[ConnectorRegistry],
    tenant_id: FromPath[str],
    name: FromPath[str],
) -> Response[ConnectorView]:
    """Configure a tenant's connector.

    Replaces the configuration (200), or creates it (201). Secret fields are stored
    encrypted and never shown; a secret field left out keeps its stored value. The
    connector's own rules apply (an outbound URL passes the SSRF guard: 422
    `TARGET_NOT_ALLOWED`). Audited, without values.
    """
    admin = await admin_of(request)
    body = await body_of(request, ConnectorPut)
    view, created = await service.put_connector(
        runtime_of(request), connectors, admin, tenant_id, name, body
    )
    return Response(view, status_code=201 if created else 200)


@delete("/tenants/{tenant_id:str}/connectors/{name:str}", status_code=204, tags=TAGS)
async def delete_tenant_connector(
    request: AnyRequest,
    connectors: NamedDependency[ConnectorRegistry],
    tenant_id: FromPath[str],
    name: FromPath[str],
) -> None:
    """Remove a tenant's connector.

    Its configuration and secrets are deleted, its inbound URL answers 404 from now
    on, and its actions fall back to the upstream product. Audited.
    """
    admin = await admin_of(request)
    await service.delete_connector(runtime_of(request), connectors, admin, tenant_id, name)


@get("/tenants/{tenant_id:str}/suppressions", tags=TAGS)
async def list_tenant_suppressions(
    request: AnyRequest,
    tenant_id: FromPath[str],
    cursor: FromQuery[str | None] = None,
    limit: PageLimit = 100,
) -> Page[SuppressionView]:
    """List a tenant's suppressed e-mail addresses.

    Addresses that hard-bounced or complained (added by the e-mail connector from its
    provider's webhooks) or that an admin added; sends to them answer 422
    `RECIPIENT_SUPPRESSED`. Paged by `next_cursor` (the last address).
    """
    admin = await admin_of(request)
    items = await suppressions.list_suppressions(
        runtime_of(request), admin, tenant_id, after=cursor, limit=limit
    )
    return Page(items=items, next_cursor=items[-1].address if len(items) == limit else None)


@delete("/tenants/{tenant_id:str}/suppressions/{address:str}", status_code=204, tags=TAGS)
async def clear_tenant_suppression(
    request: AnyRequest, tenant_id: FromPath[str], address: FromPath[str]
) -> None:
    """Clear a suppressed address.

    The tenant's e-mail may reach it again (repeatable; audited, without the address).
    """
    admin = await admin_of(request)
    await suppressions.clear(runtime_of(request), admin, tenant_id, address)


async def _inbound(
    request: AnyRequest, connectors: ConnectorRegistry, connector: str, connector_id: str
) -> Response[bytes]:
    rt = runtime_of(request)
    call = InboundRequest(
        method=request.method,
        headers={k.lower(): v for k, v in request.headers.items()},
        query={k: v for k, v in request.query_params.items()},
        body=await request.body(),
        received_at=rt.clock.now(),
    )
    reply = await inbound.receive(rt, connectors, connector, connector_id, call)
    return Response(reply.body, status_code=reply.status, media_type=reply.media_type)


INBOUND = "/inbound/{connector:str}/{connector_id:str}"
INBOUND_OPT = {"errors": ("UNAUTHENTICATED", "FORBIDDEN"), "response": bytes}


@post(INBOUND, status_code=200, tags=["inbound"], opt=INBOUND_OPT)
async def receive_inbound(
    request: AnyRequest,
    connectors: NamedDependency[ConnectorRegistry],
    connector: FromPath[str],
    connector_id: FromPath[str],
) -> Response[bytes]:
    """Receive a provider's webhook.

    The URL a tenant's connector gives its provider (the connector's
    `inbound_path`). The connector checks the provider's signature (401 when it does
    not hold) and turns the call into catalog events, stored once per provider id
    before the answer (503 when they could not be: the provider retries).
    """
    return await _inbound(request, connectors, connector, connector_id)


@get(INBOUND, tags=["inbound"], opt=INBOUND_OPT)
async def verify_inbound(
    request: AnyRequest,
    connectors: NamedDependency[ConnectorRegistry],
    connector: FromPath[str],
    connector_id: FromPath[str],
) -> Response[bytes]:
    """Answer a provider's verification challenge.

    For providers that check a webhook URL before using it (Meta's `hub.challenge`);
    what is answered is the connector's to decide.
    """
    return await _inbound(request, connectors, connector, connector_id)


INTEGRATION_ROUTES: list[Any] = [receive_inbound, verify_inbound]
ADMIN_ROUTES: list[Any] = [
    list_connector_types,
    list_tenant_connectors,
    get_tenant_connector,
    put_tenant_connector,
    delete_tenant_connector,
    list_tenant_suppressions,
    clear_tenant_suppression,
]
