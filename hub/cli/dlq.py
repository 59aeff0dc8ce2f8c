"""``hub dlq``: list and replay dead deliveries (the admin API's rules, from a shell)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from typing import Any

import msgspec

from hub.admin.auth import CLI_ADMIN
from hub.config import load_settings
from hub.delivery.queries import list_deliveries
from hub.delivery.replay import replay
from hub.delivery.schemas import DeliveryFilter, ReplayRequest
from hub.runtime import build_runtime
from hub.web.errors import ProblemError


def _filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tenant", dest="tenant_id", help="only this tenant's deliveries")
    parser.add_argument("--integration", dest="integration_id", help="only this integration's")
    parser.add_argument("--subscription", dest="subscription_id", help="only this subscription's")
    parser.add_argument("--event-type", dest="event_type", help="e.g. lead.created")
    parser.add_argument(
        "--error-class", dest="error_class", help="e.g. http_500, timeout, connection"
    )
    parser.add_argument(
        "--since", type=_when, help="created at or after (ISO 8601; UTC if no offset)"
    )
    parser.add_argument("--until", type=_when, help="created before (ISO 8601; UTC if no offset)")


def _when(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "dlq",
        help="dead-letter queue: list and replay failed deliveries",
        description="Deliveries that exhausted their attempts wait in the dead-letter queue "
        "until replayed. A replay keeps the webhook-id, starts a fresh attempt count and is "
        "paced by the subscription's rate; it is audited with actor 'cli'.",
    )
    actions = parser.add_subparsers(dest="dlq_command", metavar="ACTION")

    listing = actions.add_parser("list", help="list deliveries (dead ones unless --status)")
    _filters(listing)
    listing.add_argument(
        "--status",
        default="dead",
        choices=["pending", "retrying", "delivered", "dead", "cancelled"],
    )
    listing.add_argument("--limit", type=int, default=50, help="at most this many (max 500)")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.set_defaults(func=_list)

    replaying = actions.add_parser(
        "replay",
        help="replay dead deliveries by id or by filter",
        description="Replay the given ids, or every dead delivery matching the filters. "
        "A filter-less replay of the whole queue needs --all.",
    )
    replaying.add_argument("--id", dest="ids", action="append", help="a delivery id (repeatable)")
    _filters(replaying)
    replaying.add_argument("--all", action="store_true", help="replay the whole queue")
    replaying.set_defaults(func=_replay)

    def show_help(_args: argparse.Namespace) -> int:
        parser.print_help()
        return 0

    parser.set_defaults(func=show_help)


def _filter_of(args: argparse.Namespace, status: str | None) -> Any:
    return msgspec.convert(
        {
            "status": status,
            "tenant_id": args.tenant_id,
            "integration_id": args.integration_id,
            "subscription_id": args.subscription_id,
            "event_type": args.event_type,
            "error_class": args.error_class,
            "since": args.since,
            "until": args.until,
        },
        DeliveryFilter,
    )


async def _with_runtime(work: Any) -> Any:
    rt = await build_runtime(load_settings())
    try:
        return await work(rt)
    finally:
        await rt.close()


def _list(args: argparse.Namespace) -> int:
    flt = _filter_of(args, args.status)
    limit = max(1, min(args.limit, 500))
    items = asyncio.run(
        _with_runtime(lambda rt: list_deliveries(rt, CLI_ADMIN, flt, before_id=None, limit=limit))
    )
    if args.json:
        for item in items:
            sys.stdout.write(msgspec.json.encode(item).decode() + "\n")
        return 0
    print(f"{'id':32} {'status':9} {'tries':>5} {'last error':14} {'event type':22} created")
    for d in items:
        print(
            f"{d.id:32} {d.status:9} {d.attempt_count:5} {d.last_error_class or '-':14} "
            f"{d.event_type:22} {d.created_at.isoformat(timespec='seconds')}"
        )
    print(f"{len(items)} deliver{'y' if len(items) == 1 else 'ies'}")
    return 0


def _replay(args: argparse.Namespace) -> int:
    flt = _filter_of(args, None)
    has_filter = any(v is not None for v in msgspec.structs.astuple(flt))
    if args.ids and has_filter:
        print("hub dlq replay: give --id or filters, not both", file=sys.stderr)
        return 2
    if not args.ids and not has_filter and not args.all:
        print("hub dlq replay: give --id, a filter, or --all for the whole queue", file=sys.stderr)
        return 2
    request = ReplayRequest(ids=args.ids) if args.ids else ReplayRequest(filter=flt)
    try:
        result = asyncio.run(_with_runtime(lambda rt: replay(rt, CLI_ADMIN, request)))
    except ProblemError as exc:
        print(f"hub dlq replay: {exc.detail}", file=sys.stderr)
        return 1
    print(f"queued {result.queued}, refused {result.refused_count}")
    for refusal in result.refused:
        print(f"  refused {refusal.id}: {refusal.reason}")
    return 0
