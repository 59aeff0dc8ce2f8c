"""The tenant's upstream product: the connector that carries out live lead-engine
actions no other configured connector handles.

It receives its configuration resolved (``ProductConfig``: the tenant's upstream URL
and decrypted signing secret, read by ``hub.connectors.product``).

Contract (docs/actions.md, "Upstream contract"): ``POST {upstream_url}/actions/{action}``
with ``{"action", "inputs", "integration_id", "execution_id"}``, the client's
``Idempotency-Key``, and Standard Webhooks headers signed with the tenant's upstream
secret (``webhook-id`` is stable for the key, so it is the same on every retry).
2xx carries the outputs; 4xx is a definitive "no" (422, stored); 5xx, 408/409/425/429,
timeouts and connection errors are retriable (502/504, the key is released).

Every call re-checks the URL against the SSRF guard and connects to the address
it checked (the Host header and TLS SNI keep the name), so a DNS answer that
changes between check and connect cannot reach a private address.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from typing import Any

import httpx
import msgspec

from hub.actions.handlers import ActionCall, ActionFailed, ActionRejected
from hub.actions.metrics import UPSTREAM_CALLS
from hub.connectors.product import ProductConfig
from hub.connectors.protocol import Connector
from hub.runtime import Runtime
from hub.security.signing import SECRET_PREFIX, webhook_headers
from hub.web.errors import FieldError, ProblemError
from integrations.outbound import pin

log = logging.getLogger("hub.integrations.upstream")

MAX_RESPONSE_BYTES = 1024 * 1024
MAX_REASON_CHARS = 500
MAX_FIELD_ERRORS = 50
USER_AGENT = "hub-actions/1"
# Statuses that say "not now" rather than "no": the client's retry may succeed.
RETRIABLE_4XX = frozenset({408, 409, 423, 425, 429})

_encoder = msgspec.json.Encoder()


class UpstreamRequest(msgspec.Struct):
    action: str
    inputs: Any
    integration_id: str
    execution_id: str


def normalize_secret(secret: str) -> str:
    """The ``whsec_`` form ``hub.security.signing`` expects, decoded as the Standard
    Webhooks libraries decode it (optional prefix, padding optional)."""
    raw = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(raw + "==")
    except (binascii.Error, ValueError):
        key = b""
    if not key:
        raise ActionFailed(
            "UNAVAILABLE",
            "the tenant's upstream secret is not a Standard Webhooks secret (whsec_<base64>); "
            "an admin sets a new one with PATCH /admin/v1/tenants/{id}",
        )
    return SECRET_PREFIX + base64.b64encode(key).decode()


def _reason(payload: Any, status: int) -> str:
    if isinstance(payload, dict):
        for name in ("detail", "message", "error", "title"):
            value = payload.get(name)
            if isinstance(value, str) and value.strip():
                cleaned = "".join(ch if ch.isprintable() else " " for ch in value.strip())
                return cleaned[:MAX_REASON_CHARS]
    return f"HTTP {status}"


def _field_errors(payload: Any) -> list[FieldError]:
    errors = payload.get("errors") if isinstance(payload, dict) else None
    if not isinstance(errors, list):
        return []
    out = []
    for item in errors[:MAX_FIELD_ERRORS]:
        if isinstance(item, dict):
            path, message = item.get("path"), item.get("message")
            if isinstance(path, str) and isinstance(message, str):
                out.append(FieldError(path=path[:200], message=message[:MAX_REASON_CHARS]))
    return out


def _retry_after(headers: httpx.Headers) -> int | None:
    value = headers.get("retry-after", "").strip()
    return int(value) if value.isdigit() else None


def _decode(body: bytes) -> Any:
    try:
        return msgspec.json.decode(body) if body else None
    except msgspec.DecodeError:
        return None


class UpstreamConnector(Connector[ProductConfig]):
    """Calls the tenant's product over one shared ``httpx.AsyncClient`` per hub."""

    name = "upstream"
    kind = "product"
    title = "The tenant's upstream product"
    config_type = ProductConfig
    secret_fields = frozenset({"secret"})

    def __init__(self, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.client = httpx.AsyncClient(
            transport=transport,
            follow_redirects=False,
            trust_env=False,
            headers={"user-agent": USER_AGENT},
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        )

    def handles(self, action: str) -> bool:
        return True  # the product carries out every lead-engine action

    async def aclose(self) -> None:
        await self.client.aclose()

    async def handle(self, rt: Runtime, config: ProductConfig, call: ActionCall) -> Any:
        secret = normalize_secret(config.secret)
        url = config.url.rstrip("/") + "/actions/" + call.action.name
        try:
            target = await pin(url, rt.settings, path="$.upstream_url")
        except ProblemError as exc:
            UPSTREAM_CALLS.labels(call.action.name, "refused").inc()
            raise ActionFailed(
                "TARGET_NOT_ALLOWED", f"the tenant's upstream URL is not allowed: {exc.detail}"
            ) from None
        body = _encoder.encode(
            UpstreamRequest(
                action=call.action.name,
                inputs=msgspec.to_builtins(call.inputs),
                integration_id=call.integration_id,
                execution_id=call.execution_id,
            )
        )
        timestamp = int(rt.clock.now().timestamp())
        headers = {
            "content-type": "application/json",
            **target.headers,
            "idempotency-key": call.idempotency_key,
            "x-request-id": call.correlation_id,
            **webhook_headers([secret], call.idempotency_id, timestamp, body),
        }
        seconds = rt.settings.upstream_timeout_seconds
        try:
            async with asyncio.timeout(seconds):
                status, response_headers, payload = await self._post(
                    target.url, body, headers, target.extensions, seconds
                )
        except (TimeoutError, httpx.TimeoutException):
            UPSTREAM_CALLS.labels(call.action.name, "timeout").inc()
            raise ActionFailed(
                "UPSTREAM_TIMEOUT", f"the upstream product did not answer within {seconds:g} s"
            ) from None
        except httpx.HTTPError as exc:
            UPSTREAM_CALLS.labels(call.action.name, "unreachable").inc()
            raise ActionFailed(
                "UPSTREAM_ERROR", f"could not reach the upstream product ({type(exc).__name__})"
            ) from None
        return self._outcome(call, status, response_headers, payload)

    async def _post(
        self,
        url: str,
        body: bytes,
        headers: dict[str, str],
        extensions: dict[str, Any],
        seconds: float,
    ) -> tuple[int, httpx.Headers, bytes]:
        request = self.client.build_request(
            "POST", url, content=body, headers=headers, extensions=extensions, timeout=seconds
        )
        response = await self.client.send(request, stream=True)
        try:
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > MAX_RESPONSE_BYTES:
                    raise ActionFailed(
                        "UPSTREAM_ERROR", "the upstream product's answer is too large"
                    )
                chunks.append(chunk)
        finally:
            await response.aclose()
        return response.status_code, response.headers, b"".join(chunks)

    def _outcome(self, call: ActionCall, status: int, headers: httpx.Headers, raw: bytes) -> Any:
        name = call.action.name
        payload = _decode(raw)
        if 200 <= status < 300:
            outputs = payload.get("outputs") if isinstance(payload, dict) else None
            if not isinstance(outputs, dict):
                outputs = payload
            if not isinstance(outputs, dict):
                UPSTREAM_CALLS.labels(name, "bad_answer").inc()
                raise ActionFailed("UPSTREAM_ERROR", "the upstream product answered no JSON object")
            UPSTREAM_CALLS.labels(name, "succeeded").inc()
            return outputs
        if 400 <= status < 500 and status not in RETRIABLE_4XX:
            UPSTREAM_CALLS.labels(name, "rejected").inc()
            raise ActionRejected(
                f"the upstream product rejected the action: {_reason(payload, status)}",
                errors=_field_errors(payload),
                extra={"upstream_status": status},
            )
        UPSTREAM_CALLS.labels(name, "failed").inc()
        if status == 408:
            raise ActionFailed("UPSTREAM_TIMEOUT", "the upstream product timed out (HTTP 408)")
        detail = (
            f"the upstream product redirected (HTTP {status}); redirects are not followed"
            if 300 <= status < 400
            else f"the upstream product failed: {_reason(payload, status)}"
        )
        raise ActionFailed("UPSTREAM_ERROR", detail, retry_after=_retry_after(headers))
