"""Actions: idempotent commands that Zapier, Make and partners send to the lead engine.

The public face is the handler protocol (``integrations/`` implements it) and the
action declaration; the catalog is ``hub.actions.catalog.ACTIONS``. See docs/actions.md.
"""

from hub.actions.handlers import (
    ActionCall,
    ActionFailed,
    ActionHandler,
    ActionRejected,
)
from hub.actions.spec import ActionSpec, Simulation

__all__ = [
    "ActionCall",
    "ActionFailed",
    "ActionHandler",
    "ActionRejected",
    "ActionSpec",
    "Simulation",
]
