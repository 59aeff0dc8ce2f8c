"""Action rate limits and quotas: which limits apply, enforcing them, and the 429 they make.

Per integration: actions per minute (default by integration kind) and, when set,
per day. Per tenant: actions per minute and per day. All buckets are charged
together or not at all (``hub.limits.multi``), in Redis so every API process shares
them. Only executions are charged: replays, 409s and 422s for a reused key are not.

If Redis does not answer, this process falls back to the same limits in memory
(``hub.limits.local``), reports it in ``/readyz`` and the ``hub_rate_limiter_fallback``
gauge, and probes Redis again every ``PROBE_SECONDS``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from redis.asyncio import Redis

from hub.actions.metrics import LIMITER_FALLBACK, LIMITER_FALLBACK_DECISIONS, THROTTLED
from hub.clock import Clock
from hub.kv.keys import RedisKeys
from hub.limits.gcra import Decision, Limit, LimiterUnavailable
from hub.limits.local import LocalLimiter
from hub.limits.multi import MultiLimiter
from hub.tenancy.auth import IntegrationPrincipal
from hub.web.errors import ProblemError

log = logging.getLogger("hub.actions")

LIMITER = "action_limiter"

MINUTE = 60.0
DAY = 86_400.0

# Defaults when neither the integration nor the tenant sets a limit (documented).
DEFAULT_PER_MINUTE_BY_KIND = {"zapier": 600, "make": 600, "partner": 1200, "source": 1200}
DEFAULT_TENANT_PER_MINUTE = 3000
DEFAULT_TENANT_PER_DAY = 200_000

PROBE_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Rule:
    name: str  # the policy name in RateLimit-Policy, e.g. "tenant-day"
    key: str
    limit: Limit

    @property
    def is_quota(self) -> bool:
        return self.limit.period >= DAY


def rules_for(keys: RedisKeys, p: IntegrationPrincipal) -> list[Rule]:
    integration_minute = _count(p.limits, "actions_per_minute") or DEFAULT_PER_MINUTE_BY_KIND.get(
        p.kind, 600
    )
    rules = [
        Rule(
            "integration-minute",
            keys.rate_limit("actions", p.integration_id, "minute"),
            Limit(integration_minute, MINUTE),
        )
    ]
    integration_day = _count(p.limits, "actions_per_day")
    if integration_day is not None:
        rules.append(
            Rule(
                "integration-day",
                keys.rate_limit("actions", p.integration_id, "day"),
                Limit(integration_day, DAY),
            )
        )
    tenant_minute = _count(p.tenant_limits, "actions_per_minute")
    tenant_day = _count(p.tenant_limits, "actions_per_day")
    rules.append(
        Rule(
            "tenant-minute",
            keys.rate_limit("actions", p.tenant_id, "minute"),
            Limit(DEFAULT_TENANT_PER_MINUTE if tenant_minute is None else tenant_minute, MINUTE),
        )
    )
    rules.append(
        Rule(
            "tenant-day",
            keys.rate_limit("actions", p.tenant_id, "day"),
            Limit(DEFAULT_TENANT_PER_DAY if tenant_day is None else tenant_day, DAY),
        )
    )
    return rules


def _count(limits: dict[str, Any], name: str) -> int | None:
    value = limits.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _seconds(value: float) -> int:
    return max(0, math.ceil(value))


def policy_header(rules: list[Rule]) -> str:
    """IETF draft RateLimit-Policy: ``"name";q=<quota>;w=<window seconds>``, one per limit."""
    return ", ".join(f'"{r.name}";q={r.limit.count};w={int(r.limit.period)}' for r in rules)


def state_header(rules: list[Rule], decisions: list[Decision]) -> str:
    """IETF draft RateLimit: ``"name";r=<remaining>;t=<seconds until full>``."""
    return ", ".join(
        f'"{r.name}";r={d.remaining};t={_seconds(d.reset_after)}'
        for r, d in zip(rules, decisions, strict=True)
    )


class ActionLimiter:
    def __init__(self, redis: Redis, keys: RedisKeys, clock: Clock) -> None:
        self._redis = MultiLimiter(redis)
        self._local = LocalLimiter()
        self._keys = keys
        self._clock = clock
        self._redis_down_until: datetime | None = None

    @property
    def degraded(self) -> bool:
        return self._redis_down_until is not None

    def readiness(self) -> str:
        return "fallback: per-process limits, redis unreachable" if self.degraded else "ok"

    async def _decide(self, buckets: list[tuple[str, Limit]], now: datetime) -> list[Decision]:
        if self._redis_down_until is None or now >= self._redis_down_until:
            try:
                decisions = await self._redis.hit(buckets, now)
            except LimiterUnavailable:
                if self._redis_down_until is None:
                    log.warning("redis unreachable: action rate limits fall back to this process")
                self._redis_down_until = now + timedelta(seconds=PROBE_SECONDS)
                LIMITER_FALLBACK.set(1)
            else:
                if self._redis_down_until is not None:
                    log.warning("redis is back: action rate limits shared again")
                    self._redis_down_until = None
                    LIMITER_FALLBACK.set(0)
                return decisions
        LIMITER_FALLBACK_DECISIONS.inc()
        return self._local.hit(buckets, now)

    async def charge(self, principal: IntegrationPrincipal) -> dict[str, str]:
        """Charge one action; the RateLimit headers, or 429 if any limit refuses."""
        rules = rules_for(self._keys, principal)
        decisions = await self._decide([(r.key, r.limit) for r in rules], self._clock.now())
        headers = {
            "RateLimit-Policy": policy_header(rules),
            "RateLimit": state_header(rules, decisions),
        }
        refused = [(r, d) for r, d in zip(rules, decisions, strict=True) if not d.allowed]
        if not refused:
            return headers
        # Every limit must allow, so the wait is the longest of the refusals.
        rule, decision = max(refused, key=lambda rd: rd[1].retry_after)
        for r, _ in refused:
            THROTTLED.labels(r.name).inc()
        quota = any(r.is_quota for r, _ in refused)
        raise ProblemError(
            "QUOTA_EXCEEDED" if quota else "RATE_LIMITED",
            f"the {rule.name.replace('-', ' per ')} limit of {rule.limit.count} actions is used up",
            headers={**headers, "Retry-After": decision.retry_after_header},
        )
