"""Search actions: ``find_lead`` and ``find_appointment``. The product answers (it
holds the leads and appointments); a search changes nothing, so its Idempotency-Key
only dedupes a retried call.

The apps offer a search as Zapier searches (with *Find or Create Lead* beside
``create_lead``) and Make search modules; no match is ``found: false`` with
``leads: []``, never an error.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Annotated, Any, ClassVar, Literal

import msgspec
from msgspec import Meta

from hub.actions.handlers import ActionCall
from hub.actions.lead_engine.appointments import AppointmentChannel, AppointmentKind
from hub.actions.lead_engine.fields import (
    AwareDateTime,
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


def one_of_given(*names: str) -> dict[str, Any]:
    """JSON Schema: at least one of ``names`` present as text (what __post_init__ checks)."""
    return {
        "anyOf": [{"required": [name], "properties": {name: {"type": "string"}}} for name in names]
    }


class FindLeadInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    """Find leads by any of these (all given must match); at least one is required."""

    lead_id: LeadId | None = None
    external_id: ExternalId | None = None
    email: Annotated[Email | None, Meta(title="E-mail")] = None
    phone: Annotated[Phone | None, Meta(title="Phone (E.164)")] = None

    # What __post_init__ checks, as the document states it (hub.actions.routes).
    schema_rules: ClassVar[dict[str, Any]] = one_of_given(
        "lead_id", "external_id", "email", "phone"
    )

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


def _query_digest(call: ActionCall) -> str:
    """The sandbox's synthetic ids: the same query of one integration, the same ids."""
    query = msgspec.json.encode(call.inputs, order="sorted")
    return hashlib.sha256(call.integration_id.encode() + b"\n" + query).hexdigest()[:24]


def _simulate_find_lead(call: ActionCall) -> Simulation:
    """The sandbox finds one synthetic lead for any query (the same one for the same
    query), except an external id starting ``missing-``."""
    inputs: FindLeadInput = call.inputs
    if inputs.external_id is not None and inputs.external_id.startswith(SANDBOX_MISSING_PREFIX):
        return Simulation(outputs=FindLeadOutput(found=False, leads=[]))
    digest = _query_digest(call)
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


AppointmentId = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.:\-]+$",
        title="Appointment ID",
        description="The appointment's id (as returned by Schedule Appointment).",
        examples=["apt_01jd2w0c7e9f1g2h3j4k5m6n7p"],
    ),
]
AppointmentStatus = Literal["scheduled", "cancelled", "done"]


class FindAppointmentInput(
    msgspec.Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True
):
    """Find appointments by id, or a lead's (optionally only those with one status)."""

    appointment_id: AppointmentId | None = None
    lead_id: LeadId | None = None
    status: (
        Annotated[
            AppointmentStatus,
            Meta(title="Status", description="Only appointments with this status."),
        ]
        | None
    ) = None

    schema_rules: ClassVar[dict[str, Any]] = one_of_given("appointment_id", "lead_id")

    def __post_init__(self) -> None:
        if not (self.appointment_id or self.lead_id):
            raise ValueError("send appointment_id or lead_id")


class AppointmentMatch(msgspec.Struct, kw_only=True):
    appointment_id: AppointmentId
    lead_id: LeadId
    kind: AppointmentKind
    channel: AppointmentChannel
    scheduled_for: AwareDateTime
    status: AppointmentStatus


class FindAppointmentOutput(msgspec.Struct, kw_only=True):
    """``found`` is false and ``appointments`` empty when nothing matches."""

    found: bool
    appointments: Annotated[list[AppointmentMatch], Meta(max_length=MAX_MATCHES)] = []


def _simulate_find_appointment(call: ActionCall) -> Simulation:
    """One synthetic appointment per query, none for a lead id starting ``missing-``."""
    inputs: FindAppointmentInput = call.inputs
    if inputs.lead_id is not None and inputs.lead_id.startswith(SANDBOX_MISSING_PREFIX):
        return Simulation(outputs=FindAppointmentOutput(found=False, appointments=[]))
    digest = _query_digest(call)
    match = AppointmentMatch(
        appointment_id=inputs.appointment_id or f"apt_sbx_{digest}",
        lead_id=inputs.lead_id or f"lead_sbx_{digest}",
        kind="callback",
        channel="phone",
        scheduled_for=call.started_at + timedelta(days=1),
        status=inputs.status or "scheduled",
    )
    return Simulation(outputs=FindAppointmentOutput(found=True, appointments=[match]))


FIND_APPOINTMENT = ActionSpec(
    name="find_appointment",
    title="Find Appointment",
    description="Finds appointments by appointment id, or a lead's appointments "
    "(optionally one status). Nothing found is `found: false` with no appointments.",
    noun="Appointment",
    input_type=FindAppointmentInput,
    output_type=FindAppointmentOutput,
    sample_input={"lead_id": "lead_01jd8v4m7q2k9x3n5p8r1s6t0w", "status": "scheduled"},
    sample_output={
        "found": True,
        "appointments": [
            {
                "appointment_id": "apt_01jd8x7c2f6j0m4q8t2w6z0c4f",
                "lead_id": "lead_01jd8v4m7q2k9x3n5p8r1s6t0w",
                "kind": "callback",
                "channel": "phone",
                "scheduled_for": "2025-11-28T18:00:00Z",
                "status": "scheduled",
            }
        ],
    },
    simulate=_simulate_find_appointment,
    tags=("search",),
    creates_with="schedule_appointment",
)
