"""What one e-mail provider does for the connector (the adapter pattern).

The connector (``connector.py``) owns the flow every provider shares — the message
built once as RFC 5322 with the hub's ``Message-ID``, the send record that keeps a
retry to one provider call, the suppression list, the reputation guards, the events a
send publishes — and hands each provider only its wire format.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from hub.config import Settings
from hub.connectors.protocol import CredentialsRejected, InboundReply, InboundRequest
from hub.runtime import Runtime

__all__ = ["CredentialsRejected", "EmailProvider", "OutgoingEmail", "Sent"]


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    """One message, final (connectors never render templates)."""

    message_id: str  # the hub's id (msg_...): echoed by providers as a tag / custom arg
    rfc822_message_id: str  # "<msg_...@domain>": the Message-ID header the hub chose
    sender: str  # "Name <address>" or address
    sender_address: str
    to: Sequence[str]
    cc: Sequence[str] = ()
    bcc: Sequence[str] = ()
    subject: str = ""
    text: str | None = None
    html: str | None = None
    reply_to: str | None = None
    headers: dict[str, str] = field(default_factory=dict)  # X-Hub-* headers to carry
    raw: bytes = b""  # the whole RFC 5322 message, when already built
    idempotency_key: str = ""
    # Builds ``raw`` for the providers that send it (SES, Mailgun, SMTP): SendGrid's API
    # takes the parts, and building costs as much as the rest of a send (bench.email).
    render: Callable[[], bytes] | None = field(default=None, compare=False, repr=False)

    def rfc822(self) -> bytes:
        """The whole RFC 5322 message, built once with the hub's ``Message-ID``."""
        return self.raw or (self.render() if self.render is not None else b"")


@dataclass(frozen=True, slots=True)
class Sent:
    provider_message_id: str


class EmailProvider(Protocol):
    name: str  # "ses" | "sendgrid" | "mailgun" | "smtp": the events' ``provider``

    async def send(
        self, client: httpx.AsyncClient, settings: Settings, config: Any, message: OutgoingEmail
    ) -> Sent:
        """Send, or raise ``ActionRejected`` (definitive: the provider's code in ``errors``
        / ``extra``), ``ActionFailed`` (retriable) or ``CredentialsRejected``."""
        ...

    async def receive(self, rt: Runtime, config: Any, request: InboundRequest) -> InboundReply:
        """Verify (raise ``ProblemError`` 401) and read one lifecycle webhook into events
        (``rt.redis`` remembers what must not be accepted twice, ``rt.clock`` the time)."""
        ...
