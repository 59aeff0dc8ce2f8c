"""Zapier's and Make's review conventions for labels and descriptions."""

from __future__ import annotations

import json
import re

from tests.apps.catalogs import MAKE_APP
from tests.apps.node import run_node

SMALL = {"a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the", "to"}


def _title_case(label: str) -> bool:
    words = label.split()
    return all(w[:1].isupper() or (i and w in SMALL) for i, w in enumerate(words))


async def test_zapier_labels_are_title_case_and_triggers_say_when() -> None:
    script = (
        "const app = require('./index.js');"
        "const d = (o) => Object.values(o).map((x) => ({key: x.key, ...x.display}));"
        "console.log(JSON.stringify({triggers: d(app.triggers), creates: d(app.creates)}));"
    )
    run = await run_node("-e", script, timeout=120)
    assert run.returncode == 0, run.output
    found = json.loads(run.output.strip().splitlines()[-1])
    for trigger in found["triggers"]:
        assert _title_case(trigger["label"]), trigger
        assert trigger["description"].startswith("Triggers when "), trigger
    for create in found["creates"]:
        assert _title_case(create["label"]), create
        assert re.match(r"^[A-Z][a-z]+s ", create["description"]), create  # "Creates a …"


async def test_every_zapier_input_field_has_help_text() -> None:
    """Zapier forbids help text beside line-item children: each child has its own."""
    script = (
        "const app = require('./index.js'); const out = [];"
        "const walk = (op, f) => { if (!f.helpText && !f.children) out.push(op + '.' + f.key);"
        " (f.children || []).forEach((c) => walk(op, c)); };"
        "for (const kind of ['creates', 'searches']) for (const op of Object.values(app[kind]))"
        " for (const f of op.operation.inputFields) walk(op.key, f);"
        "console.log(JSON.stringify(out));"
    )
    run = await run_node("-e", script, timeout=120)
    assert run.returncode == 0, run.output
    assert json.loads(run.output.strip().splitlines()[-1]) == []


def test_make_module_names_follow_make() -> None:
    modules = json.loads((MAKE_APP / "makecomapp.json").read_text())["components"]["module"]
    for ident, meta in modules.items():
        label = meta["label"]
        assert _title_case(label), (ident, label)
        if meta["moduleType"] == "instant_trigger":
            assert label.startswith("Watch "), (ident, label)
            assert meta["description"].startswith("Triggers when "), (ident, meta)
        elif meta["moduleType"] == "search":  # "Search Leads"
            assert re.match(r"^Search [A-Z]\w*s$", label), (ident, label)
        elif ident != "makeApiCall":  # "Create a Lead", "Send an E-mail"
            assert re.match(r"^[A-Z]\w+ (a|an) [A-Z]", label), (ident, label)
