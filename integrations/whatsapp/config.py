"""A tenant's WhatsApp connector configuration: one provider, and how to pace sends.

``provider`` tags the union: ``{"provider": "meta", ...}`` or ``{"provider":
"evolution", ...}``. Secret fields (``SECRET_FIELDS``) are stored encrypted by the hub
and never shown.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from hub.connectors.pacing import Pacing

Url = Annotated[str, Meta(min_length=8, max_length=2048, pattern=r"^https?://")]
Token = Annotated[str, Meta(min_length=1, max_length=4096)]


class MetaConfig(
    msgspec.Struct, tag="meta", tag_field="provider", kw_only=True, forbid_unknown_fields=True
):
    """Meta's WhatsApp Cloud API (graph.facebook.com)."""

    phone_number_id: Annotated[str, Meta(pattern=r"^[0-9]{1,32}$")]
    access_token: Token
    app_secret: Token  # verifies X-Hub-Signature-256 of webhooks
    verify_token: Token  # the webhook subscription handshake's hub.verify_token
    api_version: Annotated[str, Meta(pattern=r"^v[0-9]{1,3}\.[0-9]{1,2}$")] = "v21.0"
    graph_url: Url = "https://graph.facebook.com"
    pacing: Pacing = msgspec.field(default_factory=Pacing)


class EvolutionConfig(
    msgspec.Struct, tag="evolution", tag_field="provider", kw_only=True, forbid_unknown_fields=True
):
    """An Evolution API instance (self-hosted WhatsApp Web gateway)."""

    base_url: Url
    # A path segment of Evolution's URLs: "." and ".." would name another route.
    instance: Annotated[
        str, Meta(min_length=1, max_length=100, pattern=r"^(?!\.{1,2}$)[A-Za-z0-9_.-]+$")
    ]
    api_key: Token  # sent as the apikey header
    # What Evolution's webhook calls carry: this value in the apikey header, or an
    # HS256 JWT signed with it in Authorization: Bearer.
    inbound_secret: Annotated[str, Meta(min_length=32, max_length=4096)]  # HS256 wants >= 32
    pacing: Pacing = msgspec.field(default_factory=Pacing)


WhatsAppConfig = MetaConfig | EvolutionConfig

SECRET_FIELDS = frozenset(
    {"access_token", "app_secret", "verify_token", "api_key", "inbound_secret"}
)
