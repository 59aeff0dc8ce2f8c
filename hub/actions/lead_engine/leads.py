"""Lead actions: ``create_lead`` and ``update_lead``."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

import msgspec
from msgspec import UNSET, Meta, UnsetType

from hub.actions.handlers import ActionCall
from hub.actions.lead_engine.fields import (
    CompanyName,
    ContactName,
    Document,
    Emails,
    ExternalId,
    LeadId,
    LeadStatus,
    Phones,
    Source,
    Tags,
)
from hub.actions.lead_engine.sandbox_data import contact, synthetic_id, timestamp
from hub.actions.spec import ActionSpec, Simulation


class CreateLeadInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new lead for the lead engine."""

    company_name: CompanyName
    contact_name: ContactName | None = None
    document: Document | None = None
    emails: Emails = []
    phones: Phones = []
    status: LeadStatus = "new"
    tags: Tags = []
    source: Source | None = None
    external_id: ExternalId | None = None


class CreateLeadOutput(msgspec.Struct, kw_only=True):
    """The lead as the lead engine stored it."""

    lead_id: LeadId
    status: LeadStatus


def _simulate_create_lead(call: ActionCall) -> Simulation:
    inputs: CreateLeadInput = call.inputs
    lead_id = synthetic_id("lead", call)
    return Simulation(
        outputs=CreateLeadOutput(lead_id=lead_id, status=inputs.status),
        event_data={
            "lead_id": lead_id,
            "external_id": inputs.external_id,
            "company_name": inputs.company_name,
            "document": inputs.document,
            "contact": contact(inputs.contact_name, inputs.emails, inputs.phones),
            "status": inputs.status,
            "tags": inputs.tags,
            "created_at": timestamp(call),
            "updated_at": timestamp(call),
        },
    )


CREATE_LEAD = ActionSpec(
    name="create_lead",
    title="Create Lead",
    description="Creates a lead (company, contact, CPF/CNPJ, e-mails, phones, tags) in the "
    "lead engine. Send `external_id` to let the lead engine refuse duplicates of your record.",
    noun="Lead",
    input_type=CreateLeadInput,
    output_type=CreateLeadOutput,
    sample_input={
        "company_name": "Exemplo Comércio Ltda",
        "contact_name": "João Silva",
        "document": "12345678000199",
        "emails": ["joao.silva@exemplo.com.br"],
        "phones": ["+5585999990000"],
        "status": "new",
        "tags": ["inbound", "website"],
        "source": "website-form",
        "external_id": "crm-4711",
    },
    sample_output={"lead_id": "lead_01jd2v3k5m8n9p0q1r2s3t4u5v", "status": "new"},
    event_type="lead.created",
    simulate=_simulate_create_lead,
)


class UpdateLeadInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Changes to a lead; fields left out stay as they are."""

    lead_id: LeadId
    company_name: CompanyName | UnsetType = UNSET
    contact_name: ContactName | UnsetType | None = UNSET
    document: Document | UnsetType | None = UNSET
    emails: Emails | UnsetType = UNSET
    phones: Phones | UnsetType = UNSET
    status: LeadStatus | UnsetType = UNSET
    tags: Annotated[Tags, Meta(description="Replaces the lead's tags.")] | UnsetType = UNSET
    add_tags: Annotated[Tags, Meta(description="Added to the lead's tags.")] | UnsetType = UNSET

    # What __post_init__ checks, as the document states it (hub.actions.routes).
    schema_rules: ClassVar[dict[str, Any]] = {
        "anyOf": [
            {"required": [name]}
            for name in (
                "company_name",
                "contact_name",
                "document",
                "emails",
                "phones",
                "status",
                "tags",
                "add_tags",
            )
        ]
    }

    def __post_init__(self) -> None:
        if not self.changed_fields():
            raise ValueError("send at least one field to change besides lead_id")

    def changed_fields(self) -> list[str]:
        return sorted(k for k in msgspec.to_builtins(self) if k != "lead_id")


class UpdateLeadOutput(msgspec.Struct, kw_only=True):
    """The lead after the change."""

    lead_id: LeadId
    status: LeadStatus | None = None
    updated_fields: list[str] = []


def _simulate_update_lead(call: ActionCall) -> Simulation:
    inputs: UpdateLeadInput = call.inputs
    changed = inputs.changed_fields()
    status = None if isinstance(inputs.status, UnsetType) else inputs.status
    sent: dict[str, Any] = msgspec.to_builtins(inputs)
    event_data: dict[str, Any] = {
        k: sent[k] for k in ("lead_id", "company_name", "document", "status") if k in sent
    }
    if "tags" in sent or "add_tags" in sent:
        event_data["tags"] = sent.get("tags", []) + sent.get("add_tags", [])
    if {"contact_name", "emails", "phones"} & set(sent):
        event_data["contact"] = contact(
            sent.get("contact_name"), sent.get("emails", []), sent.get("phones", [])
        )
    event_data.update(changed_fields=changed, updated_at=timestamp(call))
    return Simulation(
        outputs=UpdateLeadOutput(lead_id=inputs.lead_id, status=status, updated_fields=changed),
        event_data=event_data,
    )


UPDATE_LEAD = ActionSpec(
    name="update_lead",
    title="Update Lead",
    description="Changes a lead's fields (status, contact data, tags). Only the fields sent "
    "change; `add_tags` adds to the existing tags, `tags` replaces them.",
    noun="Lead",
    input_type=UpdateLeadInput,
    output_type=UpdateLeadOutput,
    sample_input={
        "lead_id": "lead_01jd2v3k5m8n9p0q1r2s3t4u5v",
        "status": "qualified",
        "add_tags": ["hot"],
    },
    sample_output={
        "lead_id": "lead_01jd2v3k5m8n9p0q1r2s3t4u5v",
        "status": "qualified",
        "updated_fields": ["add_tags", "status"],
    },
    event_type="lead.updated",
    simulate=_simulate_update_lead,
)
