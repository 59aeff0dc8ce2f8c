"""The connector protocol: how an outside system plugs into the hub.

A connector is one adapter to one outside system (the tenant's own product, a
WhatsApp or e-mail provider). It declares, once:

- its ``name`` (the path segment in the admin API and the inbound URL, and the handler
  name executions record) and its ``kind``;
- ``config_type``: its per-tenant configuration, a msgspec Struct. The fields named in
  ``secret_fields`` are encrypted with the vault at rest and never shown by the API;
- ``actions``: the actions it can carry out (``handles``). For a live call the hub
  resolves the handler per tenant: the tenant's configured connectors first, then the
  tenant's upstream product, else 422 ``NO_HANDLER``;
- optionally ``inbound``: it receives its provider's webhooks at
  ``/v1/inbound/{name}/{tenant connector id}``, verifies their signature itself and
  returns normalized catalog events, which the hub publishes through the normal ingest
  path (deduplicated per item by the id the connector gives);
- optionally readiness probes.

Connectors get their resolved configuration as an argument: they never read tenant
rows or decrypt anything themselves. They live in ``integrations/`` (or a test) and
are registered with the composition root (``hub.app.assemble(rt, connectors=…)``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar

from hub.actions.handlers import ActionFailed
from hub.web.health import Probe

if TYPE_CHECKING:
    from hub.actions.handlers import ActionCall
    from hub.connectors.models import OutboundMessage
    from hub.runtime import Runtime

ConnectorKind = Literal["product", "whatsapp", "email", "channel"]

# A Struct, or a tagged union of Structs (one per provider of the same connector).
ConfigT = TypeVar("ConfigT")

# Connector names are path segments and metric labels: short, lower case.
NAME_PATTERN = r"^[a-z][a-z0-9_]{1,39}$"


@dataclass(frozen=True, slots=True)
class InboundRequest:
    """A provider's webhook call, as received (headers with lower-case names)."""

    method: str
    headers: Mapping[str, str]
    query: Mapping[str, str]
    body: bytes
    received_at: datetime
    # Whose it is (set by the hub from the URL's configuration, never by the caller).
    tenant_id: str = ""
    connector_id: str = ""


@dataclass(frozen=True, slots=True)
class InboundEvent:
    """A catalog event a provider's webhook means.

    ``id`` is the provider's own stable id for what happened (a message id plus its
    status, say): a provider's retry carries the same id, so it is stored once.
    """

    type: str
    id: str
    data: Mapping[str, Any]
    occurred_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class InboundReply:
    """What the hub answers the provider, and the events to publish first.

    The answer is sent only after the events are stored (a storage failure answers
    503 so the provider retries).
    """

    events: Sequence[InboundEvent] = ()
    status: int = 200
    body: bytes = b""
    media_type: str = "text/plain"
    # Called once the events are stored (not when storing failed and the provider will
    # retry): what the connector must remember only of calls it accepted for good.
    on_stored: Callable[[], Awaitable[None]] | None = None


class ConnectorUnusable(ActionFailed):
    """The tenant's connector must not be used until an admin acts: the hub marks it
    failing (its circuit opens: no more calls), audits it, counts it and publishes
    ``connector.failing``; saving the configuration closes it. ``reason`` is shown to
    operators: never a secret in it."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__("UPSTREAM_ERROR", detail)
        self.reason = reason[:300]


class CredentialsRejected(ConnectorUnusable):
    """The provider refused the connector's credentials (an expired token, a deleted
    instance): no call can succeed until an admin fixes the configuration."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, f"the provider refused the credentials: {reason}")


class Connector(Generic[ConfigT]):
    """Base of every connector: declare the class attributes, override what applies."""

    name: ClassVar[str]
    kind: ClassVar[ConnectorKind]
    title: ClassVar[str] = ""
    config_type: ClassVar[Any]  # a Struct type, or a tagged union of Struct types
    secret_fields: ClassVar[frozenset[str]] = frozenset()
    actions: ClassVar[frozenset[str]] = frozenset()
    inbound: ClassVar[bool] = False

    def handles(self, action: str) -> bool:
        return action in self.actions

    async def validate(self, rt: Runtime, config: ConfigT) -> None:
        """Rules beyond the Struct's, checked when an admin saves the configuration:
        raise ``ProblemError`` with paths under ``$.config`` (an outbound URL through
        the SSRF guard answers ``TARGET_NOT_ALLOWED``, say)."""

    async def handle(self, rt: Runtime, config: ConfigT, call: ActionCall) -> Any:
        """Carry out ``call`` (see ``hub.actions.handlers`` for the three answers)."""
        raise NotImplementedError(f"{self.name} handles no action")

    async def send_scheduled(self, rt: Runtime, config: ConfigT, message: OutboundMessage) -> None:
        """Send a message deferred by the connector's pacing (``hub/connectors/sends.py``),
        now that its time has come: the workers call it. Record the outcome on
        ``message`` through ``hub.connectors.sends``."""
        raise NotImplementedError(f"{self.name} defers no message")

    async def receive(self, rt: Runtime, config: ConfigT, request: InboundRequest) -> InboundReply:
        """Verify and read one provider webhook. Raise ``ProblemError`` to refuse it
        (``UNAUTHENTICATED`` for a bad signature): nothing is then published."""
        raise NotImplementedError(f"{self.name} receives no webhooks")

    def probes(self) -> Mapping[str, Probe]:
        """Readiness checks shown by /readyz (degraded, never unready)."""
        return {}

    async def aclose(self) -> None:
        """Release what the connector holds (HTTP clients)."""


@dataclass(frozen=True)
class ConnectorRegistry:
    """The connectors a hub knows, by name (built once by the composition root)."""

    by_name: Mapping[str, Connector[Any]] = field(default_factory=dict)
    # Inbound URLs resolved recently (hub/connectors/service.py): by (name, id), with
    # when they were. Per hub, bounded; a change through this hub forgets its entry.
    resolved: dict[tuple[str, str], tuple[float, Any]] = field(
        default_factory=dict, compare=False, hash=False
    )

    @classmethod
    def of(cls, connectors: Sequence[Connector[Any]]) -> ConnectorRegistry:
        by_name: dict[str, Connector[Any]] = {}
        for connector in connectors:
            if connector.name in by_name:
                raise ValueError(f"two connectors are named {connector.name!r}")
            by_name[connector.name] = connector
        return cls(by_name)

    def get(self, name: str) -> Connector[Any] | None:
        return self.by_name.get(name)

    def forget(self, connector_id: str) -> None:
        for key in [k for k in self.resolved if k[1] == connector_id]:
            del self.resolved[key]

    def __iter__(self) -> Iterator[Connector[Any]]:
        return iter(self.by_name.values())

    async def aclose(self) -> None:
        for connector in self.by_name.values():
            await connector.aclose()
