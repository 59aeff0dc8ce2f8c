"""The actions capability's per-runtime parts, created once at start-up (``attach``)."""

from __future__ import annotations

from dataclasses import dataclass

from hub.actions.answers import AnswerCache
from hub.actions.executions import ReplayCounter
from hub.actions.handlers import register_handler
from hub.actions.limits import ActionLimiter
from hub.actions.publish import publish_handler
from hub.actions.records import IdempotencyStore
from hub.actions.sandbox import sandbox_handler
from hub.runtime import Runtime

STATE = "actions"
READINESS = "readiness_probes"

# The window has a floor: a key must outlive every client's retry schedule.
MIN_TTL_SECONDS = 3600


@dataclass
class ActionsState:
    store: IdempotencyStore
    limiter: ActionLimiter
    replays: ReplayCounter
    answers: AnswerCache


def attach(rt: Runtime) -> ActionsState:
    """Create the parts once per runtime; later calls answer the same ones."""
    existing: ActionsState | None = rt.extras.get(STATE)
    if existing is not None:
        return existing
    settings = rt.settings
    state = ActionsState(
        store=IdempotencyStore(
            rt.db,
            lock_seconds=settings.idempotency_lock_seconds,
            ttl_seconds=max(MIN_TTL_SECONDS, settings.idempotency_ttl_seconds),
        ),
        limiter=ActionLimiter(rt.redis, rt.keys, rt.clock),
        replays=ReplayCounter(rt.db),
        answers=AnswerCache(),
    )
    rt.extras[STATE] = state
    # Runtime.close awaits ``aclose`` of every extra: the replay counts get flushed.
    rt.extras["action_replays"] = state.replays
    rt.extras.setdefault(READINESS, {})["action_rate_limits"] = state.limiter.readiness
    register_handler(rt, "sandbox", sandbox_handler)
    register_handler(rt, "publish", publish_handler)
    return state


def state_of(rt: Runtime) -> ActionsState:
    state: ActionsState | None = rt.extras.get(STATE)
    return state if state is not None else attach(rt)


async def start_actions(rt: Runtime) -> None:
    """STARTUP hook: build the parts and flush replay counts in the background."""
    state = attach(rt)
    rt.spawn(state.replays.flush_forever())
