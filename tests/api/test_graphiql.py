"""Self-hosted GraphiQL, without a browser: the page, its headers, its assets, the vendored
files' provenance, and what production mode leaves out (tests/browser/ runs it for real)."""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
import tomllib
from collections.abc import AsyncIterator, Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from gateway.api.graphiql import page
from gateway.api.graphiql.assets import CACHE_CONTROL, MOUNT_PATH, STATIC_DIR
from tests.servers import ROOT
from tests.support import Api

PACKAGE_DIR = Path(STATIC_DIR).parent
VENDOR = Path(STATIC_DIR) / "vendor"
VERSIONS = json.loads((VENDOR / "VERSIONS.json").read_text())

URL = re.compile(r"(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}[^\s\"'`<>)\\]*")
#: Hosts that serve code, styles or fonts to pages: a reference to one is a resource load.
CDN_HOSTS = re.compile(r"//(?:[a-z0-9-]+\.)*(?:unpkg\.com|jsdelivr\.net|cdnjs\.cloudflare\.com"
                       r"|googleapis\.com|gstatic\.com|esm\.sh|skypack\.dev)\b", re.I)
RESOURCE_PATH = re.compile(r"\.(?:m?js|css|woff2?|ttf|otf|eot|png|jpe?g|gif|svg|webp|wasm|json)"
                           r"(?:[?#]|$)", re.I)


def loads_resource(url: str) -> bool:
    """Whether ``url`` names something a page would load (not a link to read or a namespace).

    Links to source files on GitHub (``/blob/``) appear in license and credit comments of the
    bundles and are never loaded.
    """
    if CDN_HOSTS.search(url):
        return True
    return bool(RESOURCE_PATH.search(url)) and "github.com/" not in url


class _Loads(HTMLParser):
    """Every src / href in a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


@pytest.fixture(params=[False, True], ids=["development", "production"])
async def mode(request: pytest.FixtureRequest,
               make_api: Callable[..., Any]) -> AsyncIterator[tuple[bool, Api]]:
    production: bool = request.param
    async with make_api(env="production" if production else "development") as api:
        yield production, api


async def get_page(api: Api) -> Any:
    return await api.client.get("/graphql", headers={"Accept": "text/html"})


async def test_page_is_ours_with_a_strict_csp(api: Api) -> None:
    response = await get_page(api)
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == page.CONTENT_SECURITY_POLICY
    policy = dict(part.split(" ", 1) for part in page.CONTENT_SECURITY_POLICY.split("; "))
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"  # no inline script, no eval
    assert "unsafe-inline" not in page.CONTENT_SECURITY_POLICY
    assert "Strawberry" not in response.text and "unpkg" not in response.text


async def test_page_loads_nothing_from_another_origin(api: Api) -> None:
    response = await get_page(api)
    assert not re.search(r"https?://", response.text), URL.findall(response.text)
    parser = _Loads()
    parser.feed(response.text)
    assert len(parser.urls) == len(page.ASSETS) + 1  # every asset, and the data: favicon
    for url in parser.urls:
        assert url.startswith((f"{MOUNT_PATH}/", "data:")), url
    assert "<script>" not in response.text and "<style" not in response.text


async def test_every_asset_is_served_long_cached(api: Api) -> None:
    parser = _Loads()
    parser.feed((await get_page(api)).text)
    served = [url for url in parser.urls if url.startswith(MOUNT_PATH)]
    assert len(served) == len(page.ASSETS)
    for url in served:
        response = await api.client.get(url)
        assert response.status_code == 200, url
        assert response.headers["cache-control"] == CACHE_CONTROL
        assert response.headers["x-content-type-options"] == "nosniff"
        # From the platform's MIME table: both JavaScript types are what browsers accept.
        kinds = (("text/css",) if url.split("?")[0].endswith(".css")
                 else ("text/javascript", "application/javascript"))
        assert response.headers["content-type"].startswith(kinds), (url, response.headers)
        name = url.removeprefix(f"{MOUNT_PATH}/").split("?")[0]
        # The ?v= fingerprint is the content's: a new file gets a new URL, so caching is safe.
        assert url.endswith(f"?v={hashlib.sha256(response.content).hexdigest()[:12]}"), name


async def test_graphiql_and_its_assets_only_in_development(mode: tuple[bool, Api]) -> None:
    production, api = mode
    response = await get_page(api)
    asset = await api.client.get(f"{MOUNT_PATH}/vendor/graphiql.min.js")
    if production:
        # No page: a short answer saying GraphiQL is off and queries are POSTed.
        assert response.status_code == 405 and "<html" not in response.text.lower()
        assert "graphiql" in response.text.lower() and "post" in response.text.lower()
        assert asset.status_code == 404
    else:
        assert response.status_code == 200 and "graphiql" in response.text.lower()
        assert asset.status_code == 200


def test_vendored_files_match_versions_json() -> None:
    recorded = {name: entry["sha256"] for package in VERSIONS.values()
                for name, entry in package["files"].items()}
    on_disk = {path.name for path in VENDOR.iterdir()} - {"VERSIONS.json"}
    assert on_disk == set(recorded)
    for name, sha256 in recorded.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == sha256, name


def test_versions_json_pins_registry_tarballs() -> None:
    assert set(VERSIONS) == {"react", "react-dom", "graphiql", "@graphiql/plugin-explorer"}
    for name, package in VERSIONS.items():
        basename = name.rsplit("/", 1)[-1]
        assert package["tarball"] == (f"https://registry.npmjs.org/{name}/-/"
                                      f"{basename}-{package['version']}.tgz")
        assert re.fullmatch(r"sha512-[A-Za-z0-9+/]{86}==", package["integrity"]), name
    assert VERSIONS["react"]["version"] == VERSIONS["react-dom"]["version"]
    assert VERSIONS["react"]["version"].startswith("18.")
    assert VERSIONS["graphiql"]["version"].startswith("3.")


def test_page_assets_are_all_shipped() -> None:
    for name in page.ASSETS.values():
        assert (Path(STATIC_DIR) / name).is_file(), name


def test_no_file_of_ours_or_vendored_loads_from_another_origin() -> None:
    own = [PACKAGE_DIR / "page.html", Path(STATIC_DIR) / "page.js", Path(STATIC_DIR) / "page.css"]
    for path in own:
        assert not URL.findall(path.read_text()), path
    for path in VENDOR.glob("*.css"):
        text = path.read_text()
        assert "@import" not in text, path
        for target in re.findall(r"url\(\s*['\"]?([^'\")]*)", text):
            assert target.startswith("data:"), (path.name, target[:80])
    for path in VENDOR.glob("*.js"):
        loaded = [url for url in URL.findall(path.read_text()) if loads_resource(url)]
        assert not loaded, (path.name, loaded)


#: Names of hosts that serve scripts and styles to pages, as words.
CDN_NAMES = re.compile(r"unpkg|jsdelivr|cdnjs|esm\.sh|skypack|googleapis|gstatic", re.I)


def test_no_served_file_names_a_cdn() -> None:
    """Not even in a message: an audit (or a proxy's filter) that looks for CDN names in what
    the gateway serves finds none. The vendoring script rewords the one message of GraphiQL's
    bundle that named two (see ``SCRUBS`` in scripts/vendor_graphiql.py)."""
    served = [path for path in Path(STATIC_DIR).rglob("*") if path.is_file()]
    assert any(path.name == "graphiql.min.js" for path in served)
    named = {path.name: sorted(set(CDN_NAMES.findall(path.read_text(errors="replace"))))
             for path in [*served, PACKAGE_DIR / "page.html"]}
    assert {name: found for name, found in named.items() if found} == {}


@pytest.mark.parametrize("url", ["https://unpkg.com/graphiql@3.8.3/graphiql.min.js",
                                 "//fonts.googleapis.com/css2?family=Roboto",
                                 "https://example.com/app.css?v=1"])
def test_loads_resource_recognises_external_assets(url: str) -> None:
    assert loads_resource(url)
    assert URL.findall(f'<script src="{url}">') == [url]


def test_loads_resource_ignores_links_and_namespaces() -> None:
    for url in ("http://www.w3.org/2000/svg", "https://codemirror.net/LICENSE",
                "https://github.com/gre/bezier-easing/blob/master/src/index.js"):
        assert not loads_resource(url), url


def test_setuptools_ships_every_graphiql_file() -> None:
    """A wheel (not only `pip install -e .`) must carry the template and the static files."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["gateway.api.graphiql"]
    files = [path.relative_to(PACKAGE_DIR).as_posix() for path in PACKAGE_DIR.rglob("*")
             if path.is_file() and path.suffix not in (".py", ".pyc")]
    assert len(files) >= len(page.ASSETS) + 2  # page.html and VERSIONS.json at least
    for name in files:
        # setuptools globs do not cross "/": match each pattern the same way.
        assert any(fnmatch.fnmatch(name, pattern) and name.count("/") == pattern.count("/")
                   for pattern in patterns), name


def test_readme_shows_the_policy_the_page_sends() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## GraphiQL\n", 1)[1].split("\n## ", 1)[0]
    block = section.split("```\n", 2)[1]
    assert " ".join(block.split()) == page.CONTENT_SECURITY_POLICY
