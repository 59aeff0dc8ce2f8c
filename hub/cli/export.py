"""``hub export zapier|make``: the catalog file the Zapier and Make apps are built from.

The file is stable JSON (sorted keys, two-space indent, UTF-8, trailing newline, no
timestamps): exporting twice gives the same bytes, so the apps' committed copies
can be checked against the hub. Layout: docs/actions.md, "The catalog file".
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from hub.export.catalog import export_document

PLATFORMS = ("zapier", "make")


def render(platform: str) -> str:
    document = export_document(platform)
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "export",
        help="write the action and trigger catalog for the Zapier or Make app",
        description="Write the catalog (actions with input/output JSON Schemas, samples and "
        "scopes; event types with their data schema and sample; the API's conventions) as "
        "deterministic JSON. Needs no database.",
    )
    parser.add_argument("platform", choices=PLATFORMS, help="the app the file is for")
    parser.add_argument(
        "--output", "-o", metavar="FILE", help="write to FILE instead of standard output"
    )

    def run(args: argparse.Namespace) -> int:
        text = render(args.platform)
        if args.output:
            Path(args.output).write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
        return 0

    parser.set_defaults(func=run)
