"""What `make run` and `make test` need on the machine, checked by version, not only by
presence, before anything is installed or started. Debian packages are installed here when
run as root on a machine with apt-get (as CI is); anything else stops the make at once with
the exact command that installs it.

Standard library only: make runs it with the system Python before .venv exists
(`PYTHONPATH=local python3 -m devstack.prerequisites NEED...`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from devstack.processes import StartError

PYTHON_MIN = (3, 11)
JAVA_MIN = 17  # the gcloud Firestore and Pub/Sub emulators
# gcloud components the stack starts (`gcloud beta emulators firestore|pubsub start`).
GCLOUD_COMPONENTS = ("beta", "cloud-firestore-emulator", "pubsub-emulator")
# Where the browser tests find Chromium (tests/browser/conftest.py reads the same variable).
CHROMIUM_VAR, CHROMIUM_DEFAULT = "CHROMIUM_PATH", "/usr/bin/chromium"
# Where quizgen reads WordNet 3.0 (tools/quizgen/wordnet.py reads the same variable).
WORDNET_VAR, WORDNET_DEFAULT = "WORDNET_DIR", "/usr/share/wordnet"
NODE_DOWNLOAD = "https://nodejs.org/en/download (Debian's own nodejs is too old: use NodeSource's)"
GCLOUD_DOWNLOAD = "https://cloud.google.com/sdk/docs/install"


class MissingPrerequisite(StartError):
    """One or more prerequisites missing or too old; the message says what to install."""


@dataclass(frozen=True)
class Problem:
    """What is wrong, and the Debian package that fixes it when apt-get can install it."""

    text: str
    debian_package: str | None = None


@dataclass(frozen=True)
class Machine:
    """What the checks look at, so a test can point them at a made-up machine."""

    path: str | None  # PATH to find the tools in (None: this process's)
    root: Path  # the repository (package-lock.json names the Node.js firebase-tools needs)
    env: dict[str, str]
    python_version: tuple[int, int]

    @classmethod
    def current(cls, root: Path) -> Machine:
        return cls(None, root, dict(os.environ), (sys.version_info[0], sys.version_info[1]))

    def which(self, tool: str) -> str | None:
        return shutil.which(tool) if self.path is None else shutil.which(tool, path=self.path)

    def output(self, argv: Sequence[str]) -> str:
        """stdout and stderr of a version command ('' if it cannot run)."""
        tool = self.which(argv[0])
        if tool is None:
            return ""
        try:
            done = subprocess.run(
                [tool, *argv[1:]],
                capture_output=True,
                text=True,
                timeout=30,
                env={**self.env, "PATH": self.path or self.env.get("PATH", os.defpath)},
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return ""
        return done.stdout + done.stderr


def check_python(machine: Machine) -> list[Problem]:
    if machine.python_version >= PYTHON_MIN:
        return []
    found = ".".join(map(str, machine.python_version))
    want = ".".join(map(str, PYTHON_MIN))
    return [
        Problem(
            f"Python {want}+ is needed; this is Python {found}: install Python {want}+ and run "
            f"make with PYTHON=python{want} (or newer)."
        )
    ]


def java_major(text: str) -> int | None:
    """The major version in `java -version`'s output: 'version "17.0.15"' is 17, the old
    scheme's 'version "1.8.0_292"' is 8."""
    found = re.search(r'version "(\d+)(?:\.(\d+))?', text)
    if found is None:
        return None
    major = int(found.group(1))
    return int(found.group(2) or 0) if major == 1 else major


def check_java(machine: Machine) -> list[Problem]:
    install = f"install a JRE {JAVA_MIN}+ (Debian: apt-get install default-jre-headless)."
    if machine.which("java") is None:
        return [Problem(f"Java is missing: {install}", "default-jre-headless")]
    major = java_major(machine.output(["java", "-version"]))
    if major is None or major < JAVA_MIN:
        found = f"Java {major}" if major is not None else "a Java whose version `java -version` does not say"
        return [
            Problem(f"Java is too old ({found} found, {JAVA_MIN}+ needed): {install}", "default-jre-headless")
        ]
    return []


def node_minimum(root: Path) -> int:
    """The lowest Node.js major firebase-tools' `engines` admits, from package-lock.json
    (read before `npm ci` has installed anything)."""
    lock = json.loads((root / "package-lock.json").read_text())
    engines = lock["packages"]["node_modules/firebase-tools"].get("engines", {}).get("node", "")
    majors = [int(m) for m in re.findall(r">=\s*v?(\d+)", engines)]
    return min(majors) if majors else 0


def check_node(machine: Machine) -> list[Problem]:
    minimum = node_minimum(machine.root)
    install = f"install Node.js {minimum}+ with npm ({NODE_DOWNLOAD})."
    if machine.which("node") is None:
        return [Problem(f"Node.js is missing: {install}")]
    found = re.search(r"v(\d+)\.", machine.output(["node", "--version"]))
    if found is None or int(found.group(1)) < minimum:
        version = (
            f"Node.js {found.group(1)}" if found else "a node whose version `node --version` does not say"
        )
        return [Problem(f"Node.js is too old ({version} found, {minimum}+ needed): {install}")]
    if machine.which("npm") is None:
        return [Problem(f"npm is missing beside Node.js: {install}")]
    return []


def check_gcloud(machine: Machine) -> list[Problem]:
    gcloud = machine.which("gcloud")
    if gcloud is None:
        return [Problem(f"The Google Cloud CLI is missing: install it ({GCLOUD_DOWNLOAD}).")]
    sdk = Path(os.path.realpath(gcloud)).parent.parent
    # The component manager records each installed component here (Google's Debian
    # packages too), so no slow `gcloud components list` is needed.
    missing = [c for c in GCLOUD_COMPONENTS if not (sdk / ".install" / f"{c}.manifest").exists()]
    if not missing:
        return []
    debian = " ".join("google-cloud-cli-" + c.replace("cloud-", "", 1) for c in missing if c != "beta")
    via_apt = f" (installed from Google's Debian packages: apt-get install {debian})" if debian else ""
    return [
        Problem(
            f"gcloud components missing: {', '.join(missing)}: "
            f"gcloud components install {' '.join(missing)}{via_apt}."
        )
    ]


def check_chromium(machine: Machine) -> list[Problem]:
    chromium = Path(machine.env.get(CHROMIUM_VAR, CHROMIUM_DEFAULT))
    return _unless(
        chromium.exists(),
        f"Chromium is missing ({chromium}; the browser tests drive it): apt-get install chromium, "
        f"or set {CHROMIUM_VAR} to a Chromium binary.",
        "chromium",
    )


def check_wordnet(machine: Machine) -> list[Problem]:
    folder = Path(machine.env.get(WORDNET_VAR, WORDNET_DEFAULT))
    return _unless(
        (folder / "data.noun").exists(),
        f"WordNet 3.0's data is missing ({folder}; the quiz generator reads it): "
        f"apt-get install wordnet-base, or set {WORDNET_VAR} to a WordNet dict/ folder.",
        "wordnet-base",
    )


def check_zip(machine: Machine) -> list[Problem]:
    message = "zip is missing (make package builds the functions' zip): apt-get install zip."
    return _unless(machine.which("zip") is not None, message, "zip")


def _unless(present: bool, missing: str, debian_package: str) -> list[Problem]:
    """No problem when the piece is present; else what is missing, and its package."""
    return [] if present else [Problem(missing, debian_package)]


CHECKS: dict[str, Callable[[Machine], list[Problem]]] = {
    "python": check_python,
    "java": check_java,
    "node": check_node,
    "gcloud": check_gcloud,
    "chromium": check_chromium,
    "wordnet": check_wordnet,
    "zip": check_zip,
}
STACK_NEEDS = ("java", "node", "gcloud")


def find_problems(machine: Machine, needs: Sequence[str]) -> list[Problem]:
    return [problem for need in needs for problem in CHECKS[need](machine)]


def can_install_debian_packages(machine: Machine) -> bool:
    return os.geteuid() == 0 and machine.which("apt-get") is not None


def install_debian_packages(machine: Machine, packages: Sequence[str]) -> None:
    """apt-get, with its progress on the terminal (Chromium is a few hundred MB)."""
    print(
        f"Installing Debian packages: {' '.join(packages)} (apt-get, as root) ...",
        file=sys.stderr,
        flush=True,
    )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    apt_get = machine.which("apt-get") or "apt-get"
    for argv in (
        [apt_get, "update", "-q"],
        [apt_get, "install", "-y", "-q", "--no-install-recommends", *packages],
    ):
        if subprocess.run(argv, env=env, stdout=sys.stderr, check=False).returncode != 0:
            raise MissingPrerequisite(f"`{' '.join(argv)}` failed (its output is above).")


def refusal(problems: Sequence[Problem], *, root_hint: bool) -> str:
    lines = [f"  - {p.text}" for p in problems]
    packages = sorted({p.debian_package for p in problems if p.debian_package})
    if packages and root_hint:
        lines.append(f"  The Debian packages in one go: sudo apt-get install -y {' '.join(packages)}")
    return "Missing prerequisites (nothing was started):\n" + "\n".join(lines)


def ensure(needs: Sequence[str], machine: Machine, *, install: bool = True) -> None:
    """Install what apt-get can (as root), then refuse with every remaining problem."""
    problems = find_problems(machine, needs)
    packages = sorted({p.debian_package for p in problems if p.debian_package})
    if packages and install and can_install_debian_packages(machine):
        install_debian_packages(machine, packages)
        problems = find_problems(machine, needs)
    if problems:
        raise MissingPrerequisite(refusal(problems, root_hint=os.geteuid() != 0))


def check_prerequisites(root: Path) -> None:
    """What a stack needs before it starts (make has installed firebase-tools by then)."""
    machine = Machine.current(root)
    problems = find_problems(machine, STACK_NEEDS)
    if not (root / "node_modules" / ".bin" / "firebase").exists():
        problems.append(Problem("firebase-tools is missing: run `make deps` (it runs npm ci)."))
    if problems:
        raise MissingPrerequisite(
            "Cannot start the local stack:\n" + "\n".join(f"  - {p.text}" for p in problems)
        )


def main(argv: Sequence[str]) -> int:
    unknown = [need for need in argv if need not in CHECKS]
    if not argv or unknown:
        print(f"usage: python -m devstack.prerequisites {{{','.join(CHECKS)}}}...", file=sys.stderr)
        return 2
    try:
        ensure(argv, Machine.current(Path(__file__).resolve().parents[2]))
    except MissingPrerequisite as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
