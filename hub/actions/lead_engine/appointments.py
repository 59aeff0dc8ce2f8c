"""``schedule_appointment``: a callback or a meeting with a lead."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from hub.actions.handlers import ActionCall
from hub.actions.lead_engine.fields import AwareDateTime, LeadId, Notes
from hub.actions.lead_engine.sandbox_data import lead_ref, synthetic_id
from hub.actions.spec import ActionSpec, Simulation

AppointmentKind = Literal["callback", "meeting"]
AppointmentChannel = Literal["phone", "whatsapp", "video"]


class ScheduleAppointmentInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A callback or a meeting with a lead."""

    lead_id: LeadId
    kind: Annotated[
        AppointmentKind,
        Meta(description="`callback`: we call the lead; `meeting`: a scheduled conversation."),
    ]
    scheduled_for: AwareDateTime
    channel: Annotated[
        AppointmentChannel,
        Meta(title="Channel", description="How the conversation happens."),
    ] = "phone"
    duration_minutes: Annotated[
        int, Meta(ge=5, le=480, title="Duration (minutes)", examples=[30])
    ] = 30
    notes: Notes | None = None


class ScheduleAppointmentOutput(msgspec.Struct, kw_only=True):
    """The appointment as scheduled."""

    appointment_id: Annotated[str, Meta(examples=["apt_01jd2w0c7e9f1g2h3j4k5m6n7p"])]
    lead_id: LeadId
    kind: AppointmentKind
    scheduled_for: AwareDateTime
    status: Literal["scheduled"] = "scheduled"


def _simulate_schedule(call: ActionCall) -> Simulation:
    inputs: ScheduleAppointmentInput = call.inputs
    appointment_id = synthetic_id("apt", call)
    return Simulation(
        outputs=ScheduleAppointmentOutput(
            appointment_id=appointment_id,
            lead_id=inputs.lead_id,
            kind=inputs.kind,
            scheduled_for=inputs.scheduled_for,
        ),
        event_data={
            "appointment_id": appointment_id,
            "lead": lead_ref(inputs.lead_id),
            "kind": inputs.kind,
            "channel": inputs.channel,
            "scheduled_for": msgspec.to_builtins(inputs.scheduled_for),
            "notes": inputs.notes,
        },
    )


SCHEDULE_APPOINTMENT = ActionSpec(
    name="schedule_appointment",
    title="Schedule Appointment",
    description="Schedules a callback or a meeting (phone, WhatsApp or video) with a lead.",
    noun="Appointment",
    input_type=ScheduleAppointmentInput,
    output_type=ScheduleAppointmentOutput,
    sample_input={
        "lead_id": "lead_01jd2v3k5m8n9p0q1r2s3t4u5v",
        "kind": "callback",
        "channel": "phone",
        "scheduled_for": "2026-11-23T14:00:00-03:00",
        "duration_minutes": 30,
        "notes": "Prefers afternoons.",
    },
    sample_output={
        "appointment_id": "apt_01jd2w0c7e9f1g2h3j4k5m6n7p",
        "lead_id": "lead_01jd2v3k5m8n9p0q1r2s3t4u5v",
        "kind": "callback",
        "scheduled_for": "2026-11-23T17:00:00Z",
        "status": "scheduled",
    },
    event_type="appointment.scheduled",
    simulate=_simulate_schedule,
)
