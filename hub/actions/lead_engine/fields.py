"""Field types the lead-engine actions share, each documented once (JSON Schema carries it)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from msgspec import Meta

from hub.web.patterns import DIGIT, NOT_BLANK_NOR_AT, VISIBLE

LeadId = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.:\-]+$",
        title="Lead ID",
        description="The lead's id in the lead engine (as returned by Create Lead).",
        examples=["lead_01jd2v3k5m8n9p0q1r2s3t4u5v"],
    ),
]

CompanyName = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=500,
        pattern=VISIBLE,
        title="Company name",
        description="The lead's company (or person) name.",
        examples=["Exemplo Comércio Ltda"],
    ),
]

ContactName = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=255,
        title="Contact name",
        description="The person to talk to at the lead.",
        examples=["João Silva"],
    ),
]

Document = Annotated[
    str,
    Meta(
        pattern=rf"^({DIGIT}{{11}}|{DIGIT}{{14}})$",
        title="Document (CPF/CNPJ)",
        description="Brazilian tax id, digits only: CPF (11 digits) or CNPJ (14 digits).",
        examples=["12345678000199"],
    ),
]

Email = Annotated[
    str,
    Meta(
        max_length=254,
        pattern=rf"^{NOT_BLANK_NOR_AT}+@{NOT_BLANK_NOR_AT}+\.{NOT_BLANK_NOR_AT}+$",
        title="E-mail address",
        examples=["joao.silva@exemplo.com.br"],
    ),
]

Phone = Annotated[
    str,
    Meta(
        pattern=rf"^\+[1-9]{DIGIT}{{7,14}}$",
        title="Phone (E.164)",
        description="International format with country code, e.g. +5585999990000.",
        examples=["+5585999990000"],
    ),
]

Tag = Annotated[str, Meta(min_length=1, max_length=64, examples=["inbound"])]
Tags = Annotated[
    list[Tag],
    Meta(max_length=50, title="Tags", description="Labels on the lead.", examples=[["vip"]]),
]
Emails = Annotated[
    list[Email],
    Meta(
        max_length=10,
        title="E-mail addresses",
        description="Up to 10 addresses; the first is the lead's primary one.",
    ),
]
Phones = Annotated[
    list[Phone],
    Meta(
        max_length=10,
        title="Phones (E.164)",
        description="Up to 10 numbers with country code (+55…); the first is the primary one.",
    ),
]

LeadStatus = Annotated[
    Literal[
        "new", "in_outreach", "contacted", "scheduled", "qualified", "won", "lost", "do_not_contact"
    ],
    Meta(
        title="Status",
        description="Where the lead is in the funnel: new, in_outreach (messages being "
        "sent), contacted, scheduled, qualified, won, lost, do_not_contact.",
    ),
]

Source = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=255,
        title="Source",
        description="Where the lead came from (form, campaign, spreadsheet...).",
        examples=["website-form"],
    ),
]

ExternalId = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=255,
        title="External ID",
        description="The lead's id in your own system; the lead engine keeps it unique per tenant.",
        examples=["crm-4711"],
    ),
]

AwareDateTime = Annotated[
    datetime,
    Meta(tz=True, description="RFC 3339 date-time with a time zone offset."),
]

Notes = Annotated[str, Meta(max_length=2000, title="Notes", examples=["Prefers afternoons."])]

MessageStatus = Literal["queued", "sent", "scheduled"]
