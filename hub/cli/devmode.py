"""``hub dev``: API and worker in one process on SQLite and the in-process Redis.

First run creates a demo tenant, a sandbox integration and a platform admin
token; their credentials are kept in ``<state dir>/dev-credentials.json``
(mode 0600, git-ignored, development only) so a second run prints the same ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from pathlib import Path

import msgspec
import uvicorn

from hub.admin.auth import CLI_ADMIN
from hub.admin.tokens import authenticate_admin, create_token
from hub.app import build_hub, create_app
from hub.config import Settings
from hub.runtime import Runtime
from hub.tenancy import service
from hub.tenancy.auth import authenticate_key
from hub.tenancy.schemas import IntegrationCreate, TenantCreate
from hub.web.errors import ProblemError
from hub.worker.app import build_worker


class DevCredentials(msgspec.Struct):
    admin_token: str
    tenant_id: str
    integration_id: str
    api_key: str


async def _still_valid(rt: Runtime, creds: DevCredentials) -> bool:
    """The saved credentials still open this database (it may have been deleted)."""
    try:
        await authenticate_key(rt, creds.api_key, "hub-dev")
        await authenticate_admin(rt, creds.admin_token, "hub-dev")
    except ProblemError:
        return False
    return True


async def ensure_demo(rt: Runtime) -> DevCredentials:
    path = Path(rt.settings.state_dir) / "dev-credentials.json"
    if path.exists():
        creds = msgspec.json.decode(path.read_bytes(), type=DevCredentials)
        if await _still_valid(rt, creds):
            return creds
    tenant = await service.create_tenant(rt, CLI_ADMIN, TenantCreate(name="Demo tenant"))
    integration = await service.create_integration(
        rt,
        CLI_ADMIN,
        tenant.id,
        IntegrationCreate(
            name="Demo sandbox",
            kind="partner",
            mode="sandbox",
            scopes=["actions:*", "triggers:*", "events:publish"],
        ),
    )
    token, _ = await create_token(rt, CLI_ADMIN, name="dev", tenant_id=None)
    creds = DevCredentials(
        admin_token=token,
        tenant_id=tenant.id,
        integration_id=integration.id,
        api_key=integration.api_key,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(msgspec.json.encode(creds))
    return creds


def next_steps(creds: DevCredentials, base: str, state_dir: str) -> str:
    sample_lead = json.dumps(
        {"company_name": "Acme Ltda", "contact_name": "Ana Souza", "emails": ["ana@acme.example"]}
    )
    lines = [
        "",
        f"hub dev is running on {base} (state in {state_dir}/; Ctrl-C stops it)",
        "",
        f"  admin token : {creds.admin_token}",
        f"  tenant      : {creds.tenant_id}",
        f"  integration : {creds.integration_id} (sandbox)",
        f"  API key     : {creds.api_key}",
        "",
        "Try it:",
        f"curl -sf {base}/healthz",
        f"curl -sf -H 'Authorization: Bearer {creds.api_key}' {base}/v1/me",
        f"curl -sf -H 'Authorization: Bearer {creds.admin_token}' {base}/admin/v1/tenants",
        f"curl -sf -X POST -H 'Authorization: Bearer {creds.api_key}' "
        f"-H 'Content-Type: application/json' -H 'Idempotency-Key: demo-1' "
        f"-d '{sample_lead}' {base}/v1/actions/create_lead",
        "",
        f"API reference: {base}/openapi.json   Docs UI: {base}/schema/swagger",
        "",
    ]
    return "\n".join(lines)


async def run_dev(settings: Settings, *, host: str, port: int) -> None:
    hub = await build_hub(settings, migrate=True)
    try:
        await hub.start()
        creds = await ensure_demo(hub.rt)
        app = create_app(settings, hub=hub)
        config = uvicorn.Config(
            app, host=host, port=port, log_config=None, access_log=False, lifespan="on"
        )
        server = uvicorn.Server(config)
        worker = build_worker(hub, handle_signals=False)  # uvicorn owns Ctrl-C
        worker_task = asyncio.create_task(worker.main(), name="hub-dev-worker")
        serve_task = asyncio.create_task(server.serve(), name="hub-dev-api")
        # uvicorn exposes no 'started' event to wait on.
        while not (server.started or serve_task.done() or worker_task.done()):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        if server.started and not worker_task.done():
            print(next_steps(creds, f"http://{host}:{port}", settings.state_dir), flush=True)
        await asyncio.wait({serve_task, worker_task}, return_when=asyncio.FIRST_COMPLETED)
        if worker_task.done():
            # A dead worker means half a hub (no deliveries): stop, and say why below.
            server.should_exit = True
        else:
            worker_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker_task
        await serve_task
        await worker.close()
    finally:
        await hub.close()
