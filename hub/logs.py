"""Structured JSON logs with the request context. Never log keys, tokens or payloads.

Exception messages are where payload sneaks in: a driver error quotes the row it
refused, a ``KeyError`` the dict key, a library's ``ValueError`` the value it parsed.
So a log line keeps an exception's type, its hub code and its traceback's frames
(file, line, function, source line: code, never data), and withholds its message.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from collections.abc import Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from sqlalchemy.exc import StatementError

from hub.web.context import integration_id_var, request_id_var, tenant_id_var

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message"}
# Extras other libraries attach that add nothing to a JSON line (uvicorn's ANSI copy).
_DROPPED = {"color_message"}


_WITHHELD = "(message withheld: it may hold request data)"
_OWN_MODULES = ("hub.", "integrations.")


def _type_name(exc: BaseException) -> str:
    cls = type(exc)
    return (
        cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    )


def exception_summary(exc: BaseException) -> str:
    """What a log line may say about ``exc``: its type and what cannot hold data."""
    name = _type_name(exc)
    if isinstance(exc, StatementError):
        # The statement holds placeholders only (engines hide parameters); the driver's
        # message may quote the refused values, its type and SQLSTATE say enough.
        orig = exc.orig
        cause = f"{_type_name(orig)}" if orig is not None else "no driver error"
        sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
        if isinstance(sqlstate, str):
            cause += f" sqlstate={sqlstate}"
        return f"{name}: {cause} {_WITHHELD} [SQL: {exc.statement}]"
    code = getattr(exc, "code", None)
    if type(exc).__module__.startswith(_OWN_MODULES) and isinstance(code, str):
        return f"{name}: {code} {_WITHHELD}"
    return f"{name}: {_WITHHELD}"


def format_exception_safely(exc: BaseException) -> str:
    """A traceback like ``traceback.format_exception``'s, chained exceptions included,
    with every message replaced by ``exception_summary`` (and no ``__notes__``)."""
    lines: list[str] = []
    seen: set[int] = set()

    def walk(current: BaseException, indent: str) -> None:
        seen.add(id(current))
        cause, context = current.__cause__, current.__context__
        if cause is not None and id(cause) not in seen:
            walk(cause, indent)
            lines.append(
                f"\n{indent}The above exception was the direct cause of the following:\n\n"
            )
        elif context is not None and not current.__suppress_context__ and id(context) not in seen:
            walk(context, indent)
            lines.append(f"\n{indent}During handling of the above exception, another occurred:\n\n")
        _frames(current.__traceback__, indent)
        lines.append(f"{indent}{exception_summary(current)}\n")
        if isinstance(current, BaseExceptionGroup):
            for number, inner in enumerate(current.exceptions, 1):
                lines.append(f"{indent}+-- sub-exception {number}:\n")
                if id(inner) not in seen:
                    walk(inner, indent + "    ")

    def _frames(tb: TracebackType | None, indent: str) -> None:
        if tb is None:
            return
        lines.append(f"{indent}Traceback (most recent call last):\n")
        for chunk in traceback.format_tb(tb):
            lines.extend(f"{indent}{line}\n" for line in chunk.rstrip("\n").split("\n"))

    walk(exc, "")
    return "".join(lines).rstrip("\n")


def _safe_arg(value: Any) -> Any:
    return exception_summary(value) if isinstance(value, BaseException) else value


def safe_message(record: logging.LogRecord) -> str:
    """``record.getMessage()``, with any exception among the arguments summarized
    (libraries log ``"%s failed: %s", job, exc``)."""
    args = record.args
    if isinstance(args, tuple) and any(isinstance(a, BaseException) for a in args):
        return str(record.msg) % tuple(_safe_arg(a) for a in args)
    if isinstance(args, Mapping) and any(isinstance(a, BaseException) for a in args.values()):
        return str(record.msg) % {k: _safe_arg(v) for k, v in args.items()}
    return record.getMessage()


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": safe_message(record),
        }
        for key, var in (
            ("request_id", request_id_var),
            ("tenant_id", tenant_id_var),
            ("integration_id", integration_id_var),
        ):
            value = var.get()
            if value:
                entry[key] = value
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in _DROPPED and not key.startswith("_"):
                entry[key] = _safe_arg(value)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)

    def formatException(self, ei: Any) -> str:
        exc = ei[1] if isinstance(ei, tuple) and len(ei) == 3 else None
        if not isinstance(exc, BaseException):
            return f"exception: {_WITHHELD}"
        return format_exception_safely(exc)


# Libraries whose DEBUG/INFO lines carry data: aiosqlite and SQLAlchemy log statements
# with their parameters and (at DEBUG) result rows, httpx/httpcore full URLs. Held at
# WARNING whatever HUB_LOG_LEVEL says.
QUIETED_LIBRARIES = ("httpx", "httpcore", "aiosqlite", "asyncio", "sqlalchemy")


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in QUIETED_LIBRARIES:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if logging.getLevelName(level) > logging.DEBUG:
        # arq logs two INFO lines per job (cron ticks every second); failures stay visible.
        for chatty in ("arq.worker", "arq.jobs"):
            logging.getLogger(chatty).setLevel(logging.WARNING)
