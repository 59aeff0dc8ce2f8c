"""The lead engine's actions (leads, appointments, messages): the default catalog.

Each action: input and output Structs (their docstrings and field metadata become
the JSON Schemas the apps show), a realistic sample, and the sandbox's simulation.
Live integrations send them to the tenant's product (``integrations/upstream.py``).
Field names are English whatever the product's own language; the upstream receives them
as they are (docs/actions.md, "Upstream contract").
"""

from hub.actions.lead_engine.appointments import SCHEDULE_APPOINTMENT
from hub.actions.lead_engine.leads import CREATE_LEAD, UPDATE_LEAD
from hub.actions.lead_engine.messages import SEND_EMAIL, SEND_WHATSAPP_MESSAGE
from hub.actions.lead_engine.search import FIND_APPOINTMENT, FIND_LEAD
from hub.actions.spec import ActionSpec

LEAD_ENGINE_ACTIONS: tuple[ActionSpec, ...] = (
    CREATE_LEAD,
    UPDATE_LEAD,
    SCHEDULE_APPOINTMENT,
    SEND_WHATSAPP_MESSAGE,
    SEND_EMAIL,
    FIND_LEAD,
    FIND_APPOINTMENT,
)

__all__ = ["LEAD_ENGINE_ACTIONS"]
