"""Loading the policies at start, so a policy that does not fit its Struct stops
the process before it accepts traffic (not at the first event of that type)."""

from __future__ import annotations

import logging

from hub.runtime import Runtime
from hub.sanitize.registry import default_policies

log = logging.getLogger("hub.sanitize")


async def load_policies(rt: Runtime) -> None:
    policies = default_policies()
    log.info("policies loaded", extra={"event_types": policies.event_types()})
