"""A client generated from the OpenAPI document works against a live hub.

What partners do: download ``/openapi.json``, generate a client with
``openapi-python-client`` and call an action through it. The generator must accept the
document without a single warning (a warning is an operation or a response it left out
or typed as ``Any``), and the generated ``create_lead`` must carry the API key and the
``Idempotency-Key``, get the typed result back, and see a replay and a problem typed too.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import re
import sys
import typing
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.contract.conftest import LiveHub

PACKAGE = "generated_hub_client"
GENERATE_TIMEOUT = 60.0
# The generator's own post hooks would run ruff on the code; formatting is not the point.
GENERATOR_CONFIG: dict[str, Any] = {"post_hooks": []}
LEAD = {"company_name": "Exemplo Comércio Ltda", "emails": ["joao.silva@exemplo.com.br"]}


async def _generate(document: bytes, into: Path) -> Path:
    """The client package ``PACKAGE`` under ``into``; fails on any warning."""
    (into / "openapi.json").write_bytes(document)
    (into / "generator.json").write_text(json.dumps(GENERATOR_CONFIG))
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "openapi_python_client",
        "generate",
        "--path",
        str(into / "openapi.json"),
        "--output-path",
        str(into / PACKAGE),
        "--meta",
        "none",
        "--config",
        str(into / "generator.json"),
        "--fail-on-warning",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), GENERATE_TIMEOUT)
    output = out.decode(errors="replace")
    assert proc.returncode == 0, output
    warnings = [line for line in output.splitlines() if re.search("warning", line, re.I)]
    assert not warnings, output
    return into / PACKAGE


@pytest.fixture
def generated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``tmp_path`` on ``sys.path`` for the generated package, forgotten afterwards."""
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
        del sys.modules[name]


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.{name}")


def _is_generated_model(value: Any) -> bool:
    """A model class the generator wrote (not ``str``, ``dict`` or ``None``)."""
    return type(value).__module__.startswith(f"{PACKAGE}.models.")


async def test_a_generated_client_creates_a_lead(live_hub: LiveHub, generated: Path) -> None:
    async with httpx.AsyncClient(base_url=live_hub.base_url) as http:
        document = (await http.get("/openapi.json")).content
    await _generate(document, generated)

    # operationId create_lead, tag actions: api/actions/create_lead.py.
    create_lead = _module("api.actions.create_lead")
    client = _module("client").AuthenticatedClient(
        base_url=live_hub.base_url, token=live_hub.api_key
    )
    # The request body's model, whatever the document names it.
    body_type = typing.get_type_hints(create_lead.asyncio_detailed)["body"]
    key = str(uuid.uuid4())

    async with client:
        first = await create_lead.asyncio_detailed(
            client=client, body=body_type.from_dict(LEAD), idempotency_key=key
        )
        replay = await create_lead.asyncio_detailed(
            client=client, body=body_type.from_dict(LEAD), idempotency_key=key
        )
        reused = await create_lead.asyncio_detailed(
            client=client,
            body=body_type.from_dict({**LEAD, "company_name": "Outra Ltda"}),
            idempotency_key=key,
        )

    assert first.status_code == 200, first.content
    result = first.parsed
    assert _is_generated_model(result), result
    assert result.action == "create_lead"
    assert result.status == "succeeded"
    assert result.execution_id
    assert _is_generated_model(result.outputs), result.outputs
    assert result.outputs.lead_id

    assert replay.status_code == 200, replay.content
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.parsed.execution_id == result.execution_id

    assert reused.status_code == 422, reused.content
    assert _is_generated_model(reused.parsed), reused.parsed
    assert reused.parsed.code == "IDEMPOTENCY_KEY_REUSED"
