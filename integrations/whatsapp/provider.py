"""What one WhatsApp provider does for the connector (the adapter pattern).

The connector (``connector.py``) owns the flow every provider shares — phone
normalisation, the send record that keeps a retry from sending twice, pacing, the
events a send publishes, the connector's health — and hands each provider only its
wire format: ``send`` one message, ``receive`` one webhook.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from hub.actions.handlers import ActionFailed, RetriableCode
from hub.config import Settings
from hub.connectors.protocol import CredentialsRejected, InboundReply, InboundRequest

__all__ = ["CredentialsRejected", "Outgoing", "Provider", "Sent", "retriable"]


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to send (text, or a template with its variables)."""

    message_id: str  # the hub's id of the message (msg_...), echoed back by statuses where possible
    to: str  # E.164, normalised
    text: str | None
    template: str | None
    language: str  # the template's language code, e.g. pt_BR
    variables: Mapping[str, str] = field(default_factory=dict)
    idempotency_key: str = ""  # stable for every retry of the same action call


@dataclass(frozen=True, slots=True)
class Sent:
    provider_message_id: str


def retriable(code: RetriableCode, detail: str, retry_after: int | None = None) -> ActionFailed:
    return ActionFailed(code, detail, retry_after=retry_after)


class Provider(Protocol):
    name: str  # "meta" | "evolution": the events' ``provider``

    async def send(
        self, client: httpx.AsyncClient, settings: Settings, config: Any, message: Outgoing
    ) -> Sent:
        """Send, or raise ``ActionRejected`` (definitive: the provider's code in ``errors``
        / ``extra``), ``ActionFailed`` (retriable) or ``CredentialsRejected``. The URL
        goes through ``integrations.outbound.pin`` (the SSRF guard) at every call."""
        ...

    async def receive(self, config: Any, request: InboundRequest) -> InboundReply:
        """Verify (raise ``ProblemError`` 401/403) and read one webhook call into events."""
        ...
