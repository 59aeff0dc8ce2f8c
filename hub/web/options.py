"""OPTIONS answers whose ``Allow`` names every method of the path.

litestar makes a path's OPTIONS handler when the path's first handler registers and
keeps that one when more handlers join the path, so ``Allow`` named only the first
handler's methods (``OPTIONS /admin/v1/tenants`` said ``OPTIONS, POST``, not GET).
One OPTIONS handler per path, registered before the path's other handlers and built
from all of them, keeps ``Allow`` true.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from litestar import Response
from litestar.handlers import HTTPRouteHandler
from litestar.status_codes import HTTP_204_NO_CONTENT


def _options_handler(path: str, methods: frozenset[str]) -> HTTPRouteHandler:
    allow = ", ".join(sorted(methods | {"OPTIONS"}))

    def options() -> Response[None]:
        return Response(None, status_code=HTTP_204_NO_CONTENT, headers={"Allow": allow})

    return HTTPRouteHandler(
        path=path, http_method="OPTIONS", include_in_schema=False, sync_to_thread=False
    )(options)


def with_options(handlers: Sequence[Any]) -> list[Any]:
    """``handlers`` preceded by an OPTIONS handler for each path they serve."""
    methods: dict[str, set[str]] = defaultdict(set)
    for handler in handlers:
        if isinstance(handler, HTTPRouteHandler):
            for path in handler.paths:
                methods[path] |= set(handler.http_methods)
    options = [
        _options_handler(path, frozenset(found))
        for path, found in methods.items()
        if "OPTIONS" not in found
    ]
    return [*options, *handlers]
