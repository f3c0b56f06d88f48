"""web/vendor/firebase.js is what `make web-vendor` builds from the locked npm packages:
rebuilt here byte for byte, so the committed bundle cannot drift from package-lock.json,
and it exports exactly what web/js/auth.js imports."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "web" / "vendor" / "firebase.js"
AUTH_JS = ROOT / "web" / "js" / "auth.js"
ESBUILD = ROOT / "node_modules" / ".bin" / "esbuild"
# The pages load this on every visit: Auth and App Check only (getAuth's popup and
# IndexedDB code, or another product, would blow it).
BUNDLE_BUDGET_BYTES = 160_000


@pytest.fixture
def locked_packages() -> None:
    """node_modules holds the versions package-lock.json pins (what `npm ci` installs)."""
    if not ESBUILD.exists():
        pytest.fail("node_modules is missing: `make deps` (npm ci) must run before the tests")
    lock = json.loads((ROOT / "package-lock.json").read_text())["packages"]
    bundled = [
        path
        for path in lock
        if re.fullmatch(r"node_modules/(firebase|@firebase/[^/]+|idb|tslib|esbuild|@esbuild/linux-x64)", path)
    ]
    assert "node_modules/firebase" in bundled and "node_modules/esbuild" in bundled
    for path in bundled:
        manifest = ROOT / path / "package.json"
        if not manifest.exists():
            assert lock[path].get("optional"), f"{path} is locked but not installed"
            continue
        installed, locked = json.loads(manifest.read_text())["version"], lock[path]["version"]
        assert installed == locked, f"{path} is {installed}, locked {locked}: run npm ci"


@pytest.mark.usefixtures("locked_packages")
def test_the_committed_firebase_bundle_is_what_the_locked_packages_build(tmp_path: Path) -> None:
    rebuilt = tmp_path / "firebase.js"
    # -o: never reinstall node_modules from here (the fixture checked it matches the lock).
    make = ["make", "--no-print-directory", "-o", "node_modules/.package-lock.json"]
    subprocess.run(
        [*make, "web-vendor", f"WEB_VENDOR_OUT={rebuilt}"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    assert rebuilt.read_bytes() == BUNDLE.read_bytes(), (
        "web/vendor/firebase.js is not what `make web-vendor` builds from package-lock.json: rebuild, commit"
    )


def test_the_bundle_exports_exactly_what_the_pages_import() -> None:
    imported = re.search(r"import \{([^}]*)\} from \"\.\./vendor/firebase\.js\"", AUTH_JS.read_text())
    assert imported, "web/js/auth.js no longer imports the SDK from ../vendor/firebase.js"
    wanted = {name.strip() for name in imported.group(1).split(",") if name.strip()}
    exported = re.findall(r"export\{([^}]*)\}", BUNDLE.read_text())
    assert len(exported) == 1
    names = {item.split(" as ")[-1].strip() for item in exported[0].split(",")}
    assert names == wanted
    assert {"signInAnonymously", "connectAuthEmulator", "initializeAppCheck"} <= names


def test_the_bundle_is_minified_and_small() -> None:
    size = BUNDLE.stat().st_size
    assert size < BUNDLE_BUDGET_BYTES, f"web/vendor/firebase.js is {size} bytes"
    code = BUNDLE.read_text().split("/*! Bundled license information:", 1)[0]
    assert max(len(line) for line in code.splitlines()) > 10_000  # minified: long lines
