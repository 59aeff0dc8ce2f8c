"""Every Redis key name the hub uses, in one place (the arq convention).

All keys start with ``settings.redis_prefix`` so several hubs (or test runs) can
share one Redis. Redis holds only what may be lost and rebuilt.
"""

from __future__ import annotations


class RedisKeys:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    @property
    def queue(self) -> str:
        """The arq queue (a sorted set of job ids)."""
        return f"{self.prefix}queue"

    @property
    def health_check(self) -> str:
        return f"{self.prefix}health-check"

    def rate_limit(self, scope: str, subject: str, window: str) -> str:
        """GCRA state: scope e.g. 'actions', subject an integration or tenant id."""
        return f"{self.prefix}rl:{scope}:{subject}:{window}"

    def breaker(self, subscription_id: str) -> str:
        return f"{self.prefix}breaker:{subscription_id}"

    def breaker_window(self, subscription_id: str) -> str:
        return f"{self.prefix}breaker-window:{subscription_id}"

    def delivery_rate(self, subscription_id: str) -> str:
        return f"{self.prefix}delivery-rate:{subscription_id}"

    def delivery_queued(self, delivery_id: str) -> str:
        """Marker that a delivery's job is queued; the sweeper skips it while present."""
        return f"{self.prefix}queued:{delivery_id}"

    @property
    def delivery_ready(self) -> str:
        """Sorted set: subscription id -> when its lane next has due deliveries."""
        return f"{self.prefix}delivery-ready"

    @property
    def delivery_wake(self) -> str:
        """Set while a pump job is queued, so bursts of work enqueue one job."""
        return f"{self.prefix}delivery-wake"

    @property
    def delivery_sweep(self) -> str:
        """Held for one sweep interval by the worker that last swept."""
        return f"{self.prefix}delivery-sweep"

    @property
    def breakers_open(self) -> str:
        """Sorted set: subscription id -> when its open breaker lets a probe through."""
        return f"{self.prefix}breakers-open"

    def lock(self, name: str) -> str:
        return f"{self.prefix}lock:{name}"

    def custom(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)
