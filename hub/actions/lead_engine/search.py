"""Search actions: ``find_lead``. The product answers (it holds the leads); a search
changes nothing, so its Idempotency-Key only dedupes a retried call.

The apps offer a search as Zapier searches (with *Find or Create Lead* beside
``create_lead``) and Make search modules; no match is ``found: false`` with
``leads: []``, never an error.
"""

from __future__ import annotations

import hashlib
from typing import Annotated

import msgspec
from msgspec import Meta

from hub.actions.handlers import ActionCall
from hub.actions.lead_engine.fields import (
    CompanyName,
    ContactName,
    Email,
    ExternalId,
    LeadId,
    LeadStatus,
    Phone,
)
from hub.actions.spec import ActionSpec, Simulation

# An external id the sandbox never finds: the way to try the "create" branch of a
# search-or-create while building.
SANDBOX_MISSING_PREFIX = "missing-"
MAX_MATCHES = 10


class FindLeadInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    """Find leads by any of these (all given must match); at least one is required."""

    lead_id: LeadId | None = None
    external_id: ExternalId | None = None
    email: Annotated[Email | None, Meta(title="E-mail")] = None
    phone: Annotated[Phone | None, Meta(title="Phone (E.164)")] = None

    def __post_init__(self) -> None:
        if not any((self.lead_id, self.external_id, self.email, self.phone)):
            raise ValueError("send at least one of lead_id, external_id, email, phone")


class LeadMatch(msgspec.Struct, kw_only=True):
    """A lead the product found (no contact details: map them from the lead's events)."""

    lead_id: LeadId
    external_id: ExternalId | None = None
    company_name: CompanyName
    contact_name: ContactName | None = None
    status: LeadStatus


class FindLeadOutput(msgspec.Struct, kw_only=True):
    """``found`` is false and ``leads`` empty when nothing matches."""

    found: bool
    leads: Annotated[list[LeadMatch], Meta(max_length=MAX_MATCHES)] = []


def _simulate_find_lead(call: ActionCall) -> Simulation:
    """The sandbox finds one synthetic lead for any query (the same one for the same
    query), except an external id starting ``missing-``."""
    inputs: FindLeadInput = call.inputs
    if inputs.external_id is not None and inputs.external_id.startswith(SANDBOX_MISSING_PREFIX):
        return Simulation(outputs=FindLeadOutput(found=False, leads=[]))
    query = msgspec.json.encode(inputs, order="sorted")
    digest = hashlib.sha256(call.integration_id.encode() + b"\n" + query).hexdigest()[:24]
    match = LeadMatch(
        lead_id=inputs.lead_id or f"lead_sbx_{digest}",
        external_id=inputs.external_id,
        company_name="Padaria Pão Dourado Ltda (sandbox)",
        contact_name="João Silva",
        status="new",
    )
    return Simulation(outputs=FindLeadOutput(found=True, leads=[match]))


FIND_LEAD = ActionSpec(
    name="find_lead",
    title="Find Lead",
    description="Finds leads by lead id, external id, e-mail or phone (all given must "
    "match). Nothing found is `found: false` with no leads, not an error.",
    noun="Lead",
    input_type=FindLeadInput,
    output_type=FindLeadOutput,
    sample_input={"external_id": "CRM-2025-004817"},
    sample_output={
        "found": True,
        "leads": [
            {
                "lead_id": "lead_01jd8v4m7q2k9x3n5p8r1s6t0w",
                "external_id": "CRM-2025-004817",
                "company_name": "Padaria Pão Dourado Ltda",
                "contact_name": "João Silva",
                "status": "new",
            }
        ],
    },
    simulate=_simulate_find_lead,
    tags=("search",),
    # The create a search-or-create pairs it with (Zapier's "Find or Create Lead").
    creates_with="create_lead",
)
