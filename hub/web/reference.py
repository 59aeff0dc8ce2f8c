"""The API reference page: Swagger UI on the hub's own files, never a CDN.

litestar's ``SwaggerRenderPlugin`` takes local asset URLs, but its page embeds litestar's
raw schema rather than the hub's document (``/openapi.json``, restated from the handlers
by ``hub.web.openapi``) and loads its favicon from a CDN. This plugin serves a page that
points Swagger UI at ``/openapi.json`` and only at files the hub itself serves, so the
reference works offline and behind a strict egress policy.

The files come from the ``swagger-ui-bundle-v2`` package (Swagger UI's own ``dist``
files; Swagger UI 5 renders OpenAPI 3.1, which 4.x refuses). Their URLs carry the
Swagger UI version, so browsers may cache them for a year: an upgrade changes the URL.
"""

from __future__ import annotations

import functools
from typing import Any

from litestar import Request, Response, Router, get
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.params import FromPath
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

from hub.web.errors import ProblemError

DOCUMENT_URL = "/openapi.json"

# The Swagger UI version, from the bundle's directory name (``swagger-ui-5.31.0``).
SWAGGER_UI_VERSION: str = swagger_ui_path.name.removeprefix("swagger-ui-")
_CACHE_FOREVER = "public, max-age=31536000, immutable"

# Starts Swagger UI on the document the page names (``data-document``). A file rather
# than an inline script, so a Content-Security-Policy of ``script-src 'self'`` holds.
# ``validatorUrl: null``: Swagger UI would otherwise send the document to swagger.io.
_INIT_JS = b"""\
(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.document,
    domNode: root,
    deepLinking: true,
    validatorUrl: null,
  });
})();
"""

# name -> content type of every file the page loads; nothing else is served.
_FILES = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
_GENERATED = {"init.js": ("text/javascript; charset=utf-8", _INIT_JS)}


@functools.cache
def asset(name: str) -> tuple[str, bytes] | None:
    """(content type, bytes) of a served file, or None; read once per process."""
    if name in _GENERATED:
        return _GENERATED[name]
    content_type = _FILES.get(name)
    if content_type is None:
        return None
    return content_type, (swagger_ui_path / name).read_bytes()


def page(assets_url: str, document_url: str = DOCUMENT_URL) -> bytes:
    """The HTML of the reference: every URL in it is one the hub serves."""
    return f"""\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hub API reference</title>
<link rel="icon" type="image/png" href="{assets_url}/favicon-32x32.png">
<link rel="stylesheet" href="{assets_url}/swagger-ui.css">
<style>body {{ margin: 0 }}</style>
</head>
<body>
<div id="swagger-ui" data-document="{document_url}"></div>
<script src="{assets_url}/swagger-ui-bundle.js"></script>
<script src="{assets_url}/init.js"></script>
</body>
</html>
""".encode()


class LocalSwaggerUI(OpenAPIRenderPlugin):
    """Swagger UI at ``<openapi path>/swagger`` with its files under ``…/assets/<version>/``."""

    def __init__(self, path: str = "/swagger") -> None:
        super().__init__(path=path)
        self._page = b""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return self._page

    def receive_router(self, router: Router) -> None:
        # The router's path (OpenAPIConfig.path) is known only here, before any request.
        assets = f"/assets/{SWAGGER_UI_VERSION}"
        self._page = page(router.path.rstrip("/") + assets)

        @get(assets + "/{name:str}", include_in_schema=False, sync_to_thread=False)
        def reference_asset(name: FromPath[str]) -> Response[bytes]:
            found = asset(name)
            if found is None:
                raise ProblemError("NOT_FOUND", "no such file of the reference page")
            content_type, body = found
            return Response(
                body,
                media_type=content_type,
                headers={"cache-control": _CACHE_FOREVER, "x-content-type-options": "nosniff"},
            )

        router.register(reference_asset)
