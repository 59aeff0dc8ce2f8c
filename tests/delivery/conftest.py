"""Fixtures of the delivery tests: receivers on loopback and an engine on the test runtime."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from hub.delivery.engine import DeliveryEngine
from hub.runtime import Runtime
from tests.delivery.support import Receiver, Responder, engine_for


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


@pytest.fixture
async def engines(rt: Runtime) -> AsyncIterator[Callable[..., DeliveryEngine]]:
    made: list[DeliveryEngine] = []

    def make(**settings: Any) -> DeliveryEngine:
        engine = engine_for(rt, **settings)
        engine._rng = random.Random(5)
        made.append(engine)
        return engine

    yield make
    for engine in made:
        await engine.aclose()


@pytest.fixture
async def engine(engines: Callable[..., DeliveryEngine]) -> DeliveryEngine:
    return engines()
