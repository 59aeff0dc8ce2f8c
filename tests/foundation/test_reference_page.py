"""The API reference page works offline: every file it loads is one the hub serves."""

from __future__ import annotations

from html.parser import HTMLParser

import httpx
import pytest

from hub.web.reference import SWAGGER_UI_VERSION
from tests.foundation.conftest import problem

# What each kind of file the page loads must be answered as.
CONTENT_TYPES = {
    ".css": "text/css",
    ".js": "text/javascript",
    ".png": "image/png",
    ".json": "application/json",
}
# Attributes that make a browser fetch something (data-document: the OpenAPI document
# the page hands to Swagger UI).
URL_ATTRIBUTES = {"src", "href", "data-document"}


class _Urls(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in URL_ATTRIBUTES and value]


def urls_in(html: str) -> list[str]:
    parser = _Urls()
    parser.feed(html)
    return parser.urls


async def _page(client: httpx.AsyncClient, path: str = "/schema/swagger") -> str:
    r = await client.get(path)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html"), r.headers
    return r.text


async def test_every_file_the_page_loads_is_served_by_the_hub(client: httpx.AsyncClient) -> None:
    urls = urls_in(await _page(client))
    assert "/openapi.json" in urls
    assert {url.rsplit(".", 1)[-1] for url in urls} == {"css", "js", "png", "json"}
    for url in urls:
        assert url.startswith("/"), f"not a local URL: {url}"
        assert not url.startswith("//"), f"not a local URL: {url}"
        r = await client.get(url)
        assert r.status_code == 200, (url, r.text)
        expected = CONTENT_TYPES["." + url.rsplit(".", 1)[-1]]
        assert r.headers["content-type"].startswith(expected), (url, r.headers)
        assert r.content, url


async def test_the_page_names_no_outside_address(client: httpx.AsyncClient) -> None:
    html = await _page(client)
    assert "http://" not in html
    assert "https://" not in html
    # Not even scheme-relative: a browser would fetch "//host/x" from that host.
    assert all(not url.startswith("//") for url in urls_in(html))


async def test_the_page_starts_swagger_on_the_hubs_document(client: httpx.AsyncClient) -> None:
    """The page's own script hands Swagger UI the document /openapi.json serves."""
    urls = urls_in(await _page(client))
    [init] = [url for url in urls if url.endswith("/init.js")]
    script = (await client.get(init)).text
    assert "root.dataset.document" in script
    assert "http://" not in script
    assert "https://" not in script
    # Swagger UI's default validator would send the document to swagger.io.
    assert "validatorUrl: null" in script


async def test_the_schema_root_serves_the_same_page(client: httpx.AsyncClient) -> None:
    assert await _page(client, "/schema") == await _page(client)


async def test_the_files_are_cached_for_long_and_not_sniffed(client: httpx.AsyncClient) -> None:
    """Their URLs carry the Swagger UI version, so an upgrade is a new URL."""
    for url in urls_in(await _page(client)):
        if url == "/openapi.json":
            continue
        r = await client.get(url)
        assert "max-age=31536000" in r.headers["cache-control"], (url, r.headers)
        assert "immutable" in r.headers["cache-control"]
        assert r.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "name", ["index.html", "swagger-initializer.js", "swagger-ui-bundle.js.map", "..%2Fx.js"]
)
async def test_only_the_pages_files_are_served(client: httpx.AsyncClient, name: str) -> None:
    """The bundle holds more than the page loads; the rest stays unserved."""
    url = f"/schema/assets/{SWAGGER_UI_VERSION}/{name}"
    problem(await client.get(url), 404, "NOT_FOUND")


async def test_another_swagger_version_is_not_found(client: httpx.AsyncClient) -> None:
    problem(await client.get("/schema/assets/0.0.1/swagger-ui.css"), 404, "NOT_FOUND")
