"""The gateway image is reproducible and tamper-evident: its base image named by digest,
its Python dependencies installed from a lock where every file has its sha256 (pip refuses
any other file), and the lock complete (installed with --no-deps) and at the versions the
tests run. Static: docker does not run here (the lock's install was tried in a fresh venv
against PyPI with the Dockerfile's flags)."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "gateway" / "Dockerfile"
LOCK = ROOT / "gateway" / "requirements.lock"
DIRECT = ROOT / "gateway" / "requirements.txt"
DEV_LOCK = ROOT / "requirements.lock"

_FROM = re.compile(
    r"^FROM\s+(?P<image>\S+?)(?::(?P<tag>[^@\s]+))?@sha256:(?P<digest>[0-9a-f]{64})(\s+AS\s+\S+)?$"
)
_PINNED = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+)$")
_HASH = re.compile(r"^--hash=sha256:[0-9a-f]{64}$")


def _instructions() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _lock() -> dict[str, tuple[str, list[str]]]:
    """name => (version, hashes), one entry per requirement of the lock."""
    text = re.sub(r"\\\n", " ", LOCK.read_text())
    found: dict[str, tuple[str, list[str]]] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        requirement, *options = line.split()
        pinned = _PINNED.match(requirement)
        assert pinned, f"not pinned with ==: {line}"
        assert all(_HASH.match(o) for o in options), f"an option other than --hash=sha256: {line}"
        found[canonicalize_name(pinned["name"])] = (pinned["version"], options)
    return found


def _pins(path: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            pinned = _PINNED.match(line)
            assert pinned, f"{path.name}: not pinned with ==: {line}"
            pins[canonicalize_name(pinned["name"])] = pinned["version"]
    return pins


def test_every_base_image_is_named_by_digest_on_python_3_11() -> None:
    froms = [i for i in _instructions() if i.upper().startswith("FROM ")]
    assert froms
    for instruction in froms:
        found = _FROM.match(instruction)
        assert found, f"not pinned by digest (image[:tag]@sha256:<64 hex>): {instruction}"
        assert found["image"] in ("python", "docker.io/library/python"), instruction
        # The lock is compiled for CPython 3.11: its wheels are cp311 ones.
        assert (found["tag"] or "").startswith("3.11"), instruction


def test_pip_installs_only_the_locked_files_by_hash() -> None:
    installs = [i for i in _instructions() if re.search(r"\bpip3?\s+install\b", i)]
    assert len(installs) == 1, installs
    (install,) = installs
    for flag in ("--require-hashes", "--no-deps", "-r gateway/requirements.lock"):
        assert flag in install, f"{flag} missing from: {install}"
    copied = [i for i in _instructions() if i.startswith("COPY ") and "requirements" in i]
    assert copied == ["COPY gateway/requirements.lock gateway/requirements.lock"]


def test_every_locked_requirement_is_pinned_with_its_hashes() -> None:
    lock = _lock()
    assert len(lock) >= 10
    for name, (_, hashes) in lock.items():
        assert hashes, f"{name} has no --hash"


def test_lock_pins_the_gateways_direct_requirements_at_their_versions() -> None:
    lock = _lock()
    for name, version in _pins(DIRECT).items():
        assert name in lock, f"gateway/requirements.txt's {name} is not in the lock"
        assert lock[name][0] == version, f"{name}: requirements.txt {version}, lock {lock[name][0]}"


def test_lock_runs_the_versions_the_tests_run() -> None:
    dev = _pins(DEV_LOCK)
    differ = {
        name: (version, dev.get(name)) for name, (version, _) in _lock().items() if dev.get(name) != version
    }
    assert not differ, f"lock vs requirements.lock (regenerate gateway/requirements.lock): {differ}"


def test_lock_holds_every_dependency_of_what_it_holds() -> None:
    """--no-deps installs nothing the lock leaves out: each locked package's requirements
    (as installed here, markers evaluated for this Python and platform, the image's) are locked."""
    lock = _lock()
    missing: dict[str, list[str]] = {}
    for name in lock:
        for spec in metadata.requires(name) or []:
            requirement = Requirement(spec)
            if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
                continue
            if canonicalize_name(requirement.name) not in lock:
                missing.setdefault(name, []).append(requirement.name)
    assert not missing, f"needed but not locked: {missing}"
