"""Keeping a tenant's sending reputation: limits, quotas and the bounce/complaint
breaker (docs/email.md, "Reputation").

- Limits and quotas, all-or-nothing in one Redis call (``hub.limits.multi``): per
  tenant per minute, per recipient domain per minute, per recipient per day, and a daily
  quota. Over one: 429 ``RATE_LIMITED`` (``QUOTA_EXCEEDED`` for the day's quota), the
  key released.
- The breaker: when, over the tenant's last ``window`` sends through this connector,
  bounces or complaints pass their rate (and at least ``min_sends`` were sent), the
  connector is marked failing with the reason — nothing more is sent until an admin
  saves its configuration (``hub/connectors/health.py``). Checked when a bounce or
  complaint arrives, so a storm stops the sends while it happens.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from hub.actions.handlers import ActionFailed
from hub.connectors.models import OutboundMessage
from hub.connectors.sends import FAILED, SCHEDULED, SENDING
from hub.limits.gcra import Limit, LimiterUnavailable
from hub.limits.multi import MultiLimiter
from hub.runtime import Runtime
from integrations.email.config import Guards

DAY = 86_400.0
BOUNCED, COMPLAINED, DELIVERED = "bounced", "complained", "delivered"


async def charge(rt: Runtime, tenant_id: str, guards: Guards, recipients: Sequence[str]) -> None:
    key = rt.keys.custom
    buckets: list[tuple[str, Limit]] = []
    if guards.daily_quota is not None:
        buckets.append((key("email", "quota", tenant_id), Limit(guards.daily_quota, DAY)))
    if guards.per_minute is not None:
        buckets.append((key("email", "rate", tenant_id), Limit(guards.per_minute, 60.0)))
    domains = sorted({r.rpartition("@")[2].lower() for r in recipients})
    if guards.per_domain_per_minute is not None:
        buckets += [
            (key("email", "domain", tenant_id, d), Limit(guards.per_domain_per_minute, 60.0))
            for d in domains
        ]
    if guards.per_recipient_per_day is not None:
        buckets += [
            (
                key("email", "recipient", tenant_id, r.lower()),
                Limit(guards.per_recipient_per_day, DAY),
            )
            for r in sorted(set(recipients))
        ]
    if not buckets:
        return
    try:
        decisions = await MultiLimiter(rt.redis).hit(buckets, rt.clock.now())
    except LimiterUnavailable:
        return  # Redis is away: the provider's own limits still hold; do not block sends
    refused = [(b, d) for b, d in zip(buckets, decisions, strict=True) if not d.allowed]
    if not refused:
        return
    (name, _), decision = refused[0]
    retry_after = int(max(d.retry_after_header for _, d in refused))
    if name == key("email", "quota", tenant_id):
        raise ActionFailed(
            "QUOTA_EXCEEDED", "this tenant's daily e-mail quota is used up", retry_after=retry_after
        )
    what = (
        "e-mails a minute"
        if name == key("email", "rate", tenant_id)
        else "e-mails a minute to one domain"
        if ":domain:" in name
        else "e-mails a day to one recipient"
    )
    raise ActionFailed(
        "RATE_LIMITED",
        f"this connector sends at most {decision.limit.count} {what}",
        retry_after=retry_after,
    )


async def breaker_reason(rt: Runtime, tenant_id: str, connector: str, guards: Guards) -> str | None:
    """Why the tenant's recent sends must stop, or None."""
    async with rt.db.session() as session:
        statuses = list(
            await session.scalars(
                select(OutboundMessage.status)
                .where(
                    OutboundMessage.tenant_id == tenant_id,
                    OutboundMessage.connector == connector,
                    OutboundMessage.status.not_in([SCHEDULED, SENDING, FAILED]),
                )
                .order_by(OutboundMessage.created_at.desc())
                .limit(guards.window)
            )
        )
    sent = len(statuses)
    if sent < guards.min_sends:
        return None
    bounces = statuses.count(BOUNCED)
    complaints = statuses.count(COMPLAINED)
    if bounces / sent > guards.bounce_rate:
        return (
            f"bounce rate {bounces / sent:.1%} over the last {sent} sends "
            f"(threshold {guards.bounce_rate:.1%})"
        )
    if complaints / sent > guards.complaint_rate:
        return (
            f"complaint rate {complaints / sent:.2%} over the last {sent} sends "
            f"(threshold {guards.complaint_rate:.2%})"
        )
    return None
