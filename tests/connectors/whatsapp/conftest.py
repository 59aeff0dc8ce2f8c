"""The hub as every process builds it (the WhatsApp connector among its default
connectors), served over real HTTP, with the providers faked on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from hub.app import Hub, build_hub
from hub.clock import FrozenClock
from hub.config import Settings
from tests.connectors.whatsapp.fake_evolution import FakeEvolution, start_evolution
from tests.delivery.support import Receiver, Responder
from tests.support.databases import wipe

EVOLUTION_KEY = "evo-api-key-0123456789"
INSTANCE = "acme-vendas"


@pytest.fixture
async def hub(settings: Settings, clock: FrozenClock) -> AsyncIterator[Hub]:
    """The default hub: no connector passed, so ``default_connectors()`` is used."""
    built = await build_hub(settings, clock=clock)
    await wipe(built.rt.db)
    await built.start()
    yield built
    await built.close()


@pytest.fixture
async def evolution() -> AsyncIterator[FakeEvolution]:
    fake, runner = await start_evolution(EVOLUTION_KEY, frozenset({INSTANCE}))
    try:
        yield fake
    finally:
        await runner.cleanup()


@pytest.fixture
async def receivers() -> AsyncIterator[Callable[..., Any]]:
    started: list[Receiver] = []

    async def start(responder: Responder | None = None, path: str = "/hook") -> Receiver:
        receiver = Receiver(responder)
        await receiver.start(path)
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        await receiver.stop()
