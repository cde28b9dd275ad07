#!/usr/bin/env python3
"""Re-vendor GraphiQL's browser assets from the npm registry (standard library only).

For each pinned package: read its version document from the registry, download the tarball,
check it against the registry's ``dist.integrity`` (sha512), copy only the files the page
loads (plus the license, when the package ships one) into the vendor directory, and record
versions, tarball URLs, integrities and the sha256 of every copied file in VERSIONS.json.

Files are copied byte for byte but for :data:`SCRUBS`: messages inside the bundles that name
a CDN (an error for React 15 and below, which is never loaded here) are reworded, so nothing
the gateway serves names a host that serves code. VERSIONS.json records, per file, the sha256
of the tarball's bytes (``tarball_sha256``), the rewordings applied, and the sha256 of the file
written (``sha256``): a cheap offline test proves the committed files are still exactly that.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import sys
import tarfile
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REGISTRY = "https://registry.npmjs.org"
DEFAULT_DEST = (Path(__file__).resolve().parents[1]
                / "gateway" / "api" / "graphiql" / "static" / "vendor")
TIMEOUT = 120.0

#: Exact byte strings reworded in every copied file: (as published, as served). Each must be
#: found where it is expected (a new version without it fails the vendoring: review the list).
SCRUBS: dict[str, tuple[tuple[bytes, bytes], ...]] = {
    "graphiql.min.js": (
        (b"If you are using a CDN source (jsdelivr, unpkg, etc), follow this example:",
         b"Load React 16 or later before GraphiQL, as in this example:"),
    ),
}


@dataclass(frozen=True)
class Package:
    """One npm package at a pinned version and the files to take from its tarball."""

    name: str
    version: str
    #: path inside the tarball's ``package/`` folder -> file name in the vendor directory
    files: dict[str, str]

    @property
    def tarball_url(self) -> str:
        """The registry's tarball URL (for ``@scope/name`` the file is ``name-version``)."""
        basename = self.name.rsplit("/", 1)[-1]
        return f"{REGISTRY}/{self.name}/-/{basename}-{self.version}.tgz"

    @property
    def metadata_url(self) -> str:
        return f"{REGISTRY}/{urllib.parse.quote(self.name, safe='@')}/{self.version}"


# Pinned together: graphiql 3.x's UMD bundle expects React 18 and exposes GraphiQL.React /
# GraphiQL.GraphQL, which the explorer plugin's UMD bundle picks up from the window.
PACKAGES = (
    Package("react", "18.3.1", {
        "umd/react.production.min.js": "react.production.min.js",
        "LICENSE": "react.LICENSE",
    }),
    Package("react-dom", "18.3.1", {
        "umd/react-dom.production.min.js": "react-dom.production.min.js",
        "LICENSE": "react-dom.LICENSE",
    }),
    Package("graphiql", "3.8.3", {
        "graphiql.min.js": "graphiql.min.js",
        "graphiql.min.css": "graphiql.min.css",
        "LICENSE": "graphiql.LICENSE",
    }),
    # This package ships no LICENSE file; its package.json says MIT (recorded below).
    Package("@graphiql/plugin-explorer", "1.0.4", {
        "dist/index.umd.js": "plugin-explorer.umd.js",
        "dist/style.css": "plugin-explorer.css",
    }),
)


class VendorError(RuntimeError):
    """The registry's answer does not match what we pinned or what it promised."""


def fetch(url: str) -> bytes:
    """The body of a GET to ``url``; raises on any HTTP error."""
    request = urllib.request.Request(url, headers={"User-Agent": "vendor_graphiql.py"})
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        body: bytes = response.read()
        return body


def check_integrity(data: bytes, integrity: str) -> None:
    """Raise VendorError unless ``data`` matches the SRI string's sha512 (the only one npm
    publishes for current packages; a weaker algorithm alone is refused)."""
    digests = [token.split("-", 1) for token in integrity.split() if "-" in token]
    expected = [value for algorithm, value in digests if algorithm == "sha512"]
    if not expected:
        raise VendorError(f"no sha512 in integrity {integrity!r}")
    actual = base64.b64encode(hashlib.sha512(data).digest()).decode()
    if actual not in expected:
        raise VendorError(f"sha512 mismatch: registry says {expected}, tarball is {actual}")


def extract(tarball: bytes, wanted: dict[str, str]) -> dict[str, bytes]:
    """The regular files named in ``wanted`` (under ``package/``), keyed by their new name.

    Only those members are read; nothing is extracted to disk by tarfile, so a hostile
    member path cannot escape the vendor directory.
    """
    out: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for member in archive.getmembers():
            inner = member.name.removeprefix("package/")
            if inner in wanted and member.isfile():
                handle = archive.extractfile(member)
                if handle is None:
                    raise VendorError(f"cannot read {member.name}")
                out[wanted[inner]] = handle.read()
    missing = sorted(inner for inner, name in wanted.items() if name not in out)
    if missing:
        raise VendorError(f"not in the tarball: {', '.join(missing)}")
    return out


def scrub(name: str, data: bytes) -> tuple[bytes, int]:
    """``data`` with the :data:`SCRUBS` of file ``name`` applied, and how many were replaced;
    raises VendorError when one of them is not in the file."""
    replaced = 0
    for published, served in SCRUBS.get(name, ()):
        count = data.count(published)
        if count == 0:
            raise VendorError(f"{name}: {published[:40]!r}... is not in this version: review "
                              "SCRUBS in scripts/vendor_graphiql.py")
        data = data.replace(published, served)
        replaced += count
    return data, replaced


def vendor(package: Package, dest: Path) -> dict[str, object]:
    """Download, verify and write one package's files; return its VERSIONS.json entry."""
    metadata = json.loads(fetch(package.metadata_url))
    if metadata.get("version") != package.version:
        raise VendorError(f"{package.name}: registry answered version {metadata.get('version')}")
    dist = metadata["dist"]
    if dist["tarball"] != package.tarball_url:
        raise VendorError(f"{package.name}: tarball is {dist['tarball']}, "
                          f"expected {package.tarball_url}")
    tarball = fetch(package.tarball_url)
    check_integrity(tarball, dist["integrity"])
    files = extract(tarball, package.files)
    entries: dict[str, dict[str, object]] = {}
    for inner, name in package.files.items():
        served, replaced = scrub(name, files[name])
        (dest / name).write_bytes(served)
        entry: dict[str, object] = {"from": f"package/{inner}",
                                    "sha256": hashlib.sha256(served).hexdigest()}
        if replaced:
            entry["tarball_sha256"] = hashlib.sha256(files[name]).hexdigest()
            entry["reworded"] = replaced
        entries[name] = entry
    return {
        "version": package.version,
        "license": metadata.get("license"),
        "tarball": package.tarball_url,
        "integrity": dist["integrity"],
        "files": entries,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Re-vendor GraphiQL's assets (pinned in this script) from the npm "
                    "registry, verify them against the registry's sha512 integrity, and "
                    "write VERSIONS.json with the sha256 of every file.")
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST,
                        help="vendor directory (default: gateway/api/graphiql/static/vendor "
                             "in this repository)")
    args = parser.parse_args(argv)
    dest: Path = args.dest
    dest.mkdir(parents=True, exist_ok=True)
    versions: dict[str, object] = {}
    try:
        for package in PACKAGES:
            print(f"{package.name}@{package.version} ...", file=sys.stderr)
            versions[package.name] = vendor(package, dest)
    except (VendorError, OSError) as error:
        print(f"vendor_graphiql: {error}", file=sys.stderr)
        return 1
    # Files a previous pin wrote and this one does not are stale: remove them.
    keep = {name for package in PACKAGES for name in package.files.values()} | {"VERSIONS.json"}
    for path in dest.iterdir():
        if path.is_file() and path.name not in keep:
            path.unlink()
    (dest / "VERSIONS.json").write_text(json.dumps(versions, indent=2) + "\n")
    print(f"wrote {dest}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
