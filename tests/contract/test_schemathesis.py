"""Contract fuzzing: schemathesis drives a live hub with what its OpenAPI document allows.

The hub runs as production runs it (``hub.server:app`` under uvicorn, a real process
on a loopback port) on the run's database and Redis. No worker runs, and private targets
stay refused: nothing the fuzzer subscribes is ever delivered, no generated URL is called.

Every operation gets every built-in check (no 5xx; status codes, content types, headers
and bodies as documented; negative data rejected, positive data accepted, ...) plus the
hub's own: every error body is an RFC 9457 problem with a known ``code``.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case, CheckContext, Response
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance

from hub.actions.idempotency import parse_idempotency_key
from hub.app import build_litestar, openapi_of
from hub.config import Settings
from hub.web.errors import CODES, PROBLEM_CONTENT_TYPE, ProblemError
from hub.web.input_rules import TIMESTAMP_MESSAGE
from tests.contract.conftest import CREDENTIALS, LiveHub

# Bounded so the run on both backends stays near two minutes on a 2-core machine.
EXAMPLES_PER_OPERATION = 25
SEED = 20261202

# The document the code generates (what GET /openapi.json serves; checked below), so
# collection needs no server and every operation is its own test.
DOCUMENT = openapi_of(build_litestar(Settings()))
CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": SEED,
        "generation": {
            "max-examples": EXAMPLES_PER_OPERATION,
            "deterministic": True,
            "database": "none",
            # No text may hold NUL (docs/api.md, limits of accepted input): a NUL is a
            # documented 422 the document's string schemas do not spell out. Its own
            # tests (tests/*/test_hostile_input.py) cover the refusal.
            "allow-x00": False,
        },
    }
)
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)


@schema.auth(refresh_interval=None)
class DocumentedCredential:
    """The credential of the security scheme each operation documents (none: no header)."""

    def get(self, case: Case, ctx: schemathesis.AuthContext) -> str | None:
        for requirement in ctx.operation.definition.raw.get("security", []):
            for name in requirement:
                if name in CREDENTIALS:
                    return CREDENTIALS[name]
        return None

    def set(self, case: Case, data: str, ctx: schemathesis.AuthContext) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


def problem_with_code(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Every 4xx/5xx is ``application/problem+json`` with a known ``code`` and its status."""
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.startswith(PROBLEM_CONTENT_TYPE), (
        f"{response.status_code} answered as {content_type!r}, not a problem"
    )
    try:
        body = response.json()
    except ValueError as exc:
        raise AssertionError(f"{response.status_code} problem body is not JSON") from exc
    assert isinstance(body, dict), body
    assert body.get("code") in CODES, f"problem without a known code: {body}"
    assert body.get("status") == response.status_code, body
    return True


# The SSRF guard refuses http(s) URLs no schema can describe (loopback, private or
# unresolvable hosts), so on these operations (field named) a schema-valid request may
# be refused — as TARGET_NOT_ALLOWED for an http(s) URL only; any other refusal of
# schema-valid data still fails.
TARGET_URL_FIELDS = {
    "POST /v1/hooks": "target_url",
    "PATCH /admin/v1/tenants/{tenant_id}": "upstream_url",
}
_HTTP_URL = re.compile(r"^https?://[^/?#]")


# Idempotency-Key values the fuzzer sent: it draws the same few keys for different
# bodies and actions, and a key (one per integration) used again with another body is
# IDEMPOTENCY_KEY_REUSED (422) by the contract, however valid the body. Allowed only for
# a key seen before.
SEEN_KEYS: set[str] = set()


def _outside_the_document(body: Any) -> bool:
    """Refusals the document cannot state in JSON Schema, each documented in api.md:

    - the fuzzer's generator ignores ``format: date-time`` inside nested objects
      (``filter.until``) and sends any text; the hub's refusal names the format;
    - a date-time in years 0001 or 9999 may fall outside the accepted range in UTC
      ("Limits of accepted input"), which no schema keyword can express.
    """
    errors = body.get("errors") if isinstance(body, dict) else None
    return bool(errors) and all(
        "RFC3339" in str(e.get("message")) or e.get("message") == TIMESTAMP_MESSAGE for e in errors
    )


def _idempotency_key(case: Case) -> str | None:
    """The key as the hub reads it: ``"0"`` (an RFC 8941 sf-string) is the key ``0``."""
    for name, value in (case.headers or {}).items():
        if name.lower() == "idempotency-key" and isinstance(value, str):
            try:
                return parse_idempotency_key(value)
            except ProblemError:
                return None
    return None


def positive_data_accepted(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """schemathesis' positive_data_acceptance, but for the SSRF guard's refusals and a
    reused Idempotency-Key."""
    code = response.json().get("code") if response.status_code == 422 else None
    field = TARGET_URL_FIELDS.get(case.operation.label)
    if field is not None and code == "TARGET_NOT_ALLOWED" and isinstance(case.body, dict):
        url = case.body.get(field)
        if isinstance(url, str) and _HTTP_URL.match(url):
            return None
    key = _idempotency_key(case)
    if key is not None:
        seen = key in SEEN_KEYS
        SEEN_KEYS.add(key)
        if code == "IDEMPOTENCY_KEY_REUSED" and seen:
            return None
    if code == "VALIDATION_FAILED" and _outside_the_document(response.json()):
        return None
    return positive_data_acceptance(ctx, response, case)


async def test_the_live_hub_serves_the_fuzzed_document(live_hub: LiveHub) -> None:
    async with httpx.AsyncClient(base_url=live_hub.base_url) as client:
        r = await client.get("/openapi.json")
    assert r.status_code == 200
    assert r.json() == DOCUMENT


# No example database in the repository, the same examples on every run; health checks
# (too slow, too much filtering) measure the machine, not the hub.
@schema.parametrize()
@settings(database=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_operation_keeps_the_document(case: Case, live_hub: LiveHub) -> None:
    case.call_and_validate(
        base_url=live_hub.base_url,
        excluded_checks=[positive_data_acceptance],
        additional_checks=[positive_data_accepted, problem_with_code],
    )


async def test_the_fuzzer_kept_its_credentials(live_hub: LiveHub) -> None:
    """Had a fuzzed call revoked the key or the token, later operations saw only 401s."""
    async with httpx.AsyncClient(base_url=live_hub.base_url) as client:
        me = await client.get("/v1/me", headers={"Authorization": f"Bearer {live_hub.api_key}"})
        admin = await client.get(
            "/admin/v1/tokens", headers={"Authorization": f"Bearer {live_hub.admin_token}"}
        )
    assert me.status_code == 200, me.text
    assert admin.status_code == 200, admin.text
