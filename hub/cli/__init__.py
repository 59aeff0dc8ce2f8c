"""``hub``: the command line. Each sub-command lives in its own module."""

from __future__ import annotations

import argparse
import sys

from sqlalchemy.exc import DBAPIError

from hub.cli import admin, dlq, export, run
from hub.config import ConfigError
from hub.security.encryption import DecryptionError
from hub.store.migrate import NotMigrated


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hub",
        description="The automation gateway: idempotent actions and REST-hook triggers "
        "for Zapier, Make and partners.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (run, admin, dlq, export):
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.func(args)
    except (ConfigError, NotMigrated, DecryptionError) as exc:
        # The environment or the database is not what the hub needs: say so, no traceback.
        print(f"hub: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"hub: cannot reach a service the hub needs: {exc}", file=sys.stderr)
        return 2
    except DBAPIError as exc:
        if exc.statement is not None:
            raise  # a failing query is a bug: keep its traceback
        # Connecting failed (unknown database, bad password...): the driver's reason.
        print(f"hub: the database refused the connection: {exc.orig}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return result
