"""scripts/vendor_graphiql.py without the network: integrity check, extraction, pins."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import io
import sys
import tarfile
from types import ModuleType

import pytest

from tests.servers import ROOT


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("vendor_graphiql",
                                                  ROOT / "scripts" / "vendor_graphiql.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


vendor = load_script()


def tarball(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def sri(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def test_integrity_accepts_the_same_bytes_only() -> None:
    data = tarball({"package/a.js": b"a"})
    vendor.check_integrity(data, sri(data))
    with pytest.raises(vendor.VendorError, match="mismatch"):
        vendor.check_integrity(data + b"x", sri(data))
    with pytest.raises(vendor.VendorError, match="no sha512"):
        vendor.check_integrity(data, "sha1-" + base64.b64encode(hashlib.sha1(data).digest())
                               .decode())


def test_extract_takes_only_the_wanted_files() -> None:
    data = tarball({"package/dist/a.js": b"A", "package/dist/b.js": b"B",
                    "../escape.js": b"X", "package/LICENSE": b"MIT"})
    files = vendor.extract(data, {"dist/a.js": "a.js", "LICENSE": "a.LICENSE"})
    assert files == {"a.js": b"A", "a.LICENSE": b"MIT"}
    with pytest.raises(vendor.VendorError, match=r"dist/missing\.js"):
        vendor.extract(data, {"dist/a.js": "a.js", "dist/missing.js": "m.js"})


def test_tarball_urls_follow_the_registry_layout() -> None:
    scoped = vendor.Package("@graphiql/plugin-explorer", "1.0.4", {})
    assert scoped.tarball_url == ("https://registry.npmjs.org/@graphiql/plugin-explorer/-/"
                                  "plugin-explorer-1.0.4.tgz")
    assert vendor.Package("react", "18.3.1", {}).tarball_url == (
        "https://registry.npmjs.org/react/-/react-18.3.1.tgz")


def test_vendored_names_are_distinct() -> None:
    names = [name for package in vendor.PACKAGES for name in package.files.values()]
    assert len(names) == len(set(names))


def test_scrub_rewords_exactly_the_listed_messages() -> None:
    published, served = vendor.SCRUBS["graphiql.min.js"][0]
    data = b"a" + published + b"b"
    assert vendor.scrub("graphiql.min.js", data) == (b"a" + served + b"b", 1)
    assert vendor.scrub("react.production.min.js", data) == (data, 0)  # other files: as is
    assert b"unpkg" not in served and b"jsdelivr" not in served


def test_scrub_refuses_a_version_without_the_listed_message() -> None:
    with pytest.raises(vendor.VendorError, match="SCRUBS"):
        vendor.scrub("graphiql.min.js", b"a bundle that changed")
