"""(a) The baseline: a bare litestar + msgspec POST endpoint, served like the hub.

It decodes the same body into the same Struct the hub validates (``CreateLeadInput``)
and answers a small JSON object, with none of the hub's work around it.
"""

from __future__ import annotations

import msgspec
from litestar import Litestar, post

from hub.actions.lead_engine.leads import CreateLeadInput


class Answer(msgspec.Struct):
    status: str
    company_name: str


@post("/bare", status_code=200)
async def bare(data: CreateLeadInput) -> Answer:
    return Answer(status="succeeded", company_name=data.company_name)


app = Litestar(route_handlers=[bare], debug=False, logging_config=None)
