"""What the local stack needs on the machine before it starts, each missing piece named
with the command that installs it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from devstack.processes import StartError


def check_prerequisites(root: Path) -> None:
    """Say exactly what to install instead of failing with a stack trace (`root`: the
    repository, where npm installs firebase-tools)."""
    problems = []
    if shutil.which("java") is None:
        problems.append("Java is missing: install a JRE 17+ (Debian: apt-get install default-jre-headless).")
    if shutil.which("gcloud") is None:
        problems.append(
            "The Google Cloud CLI is missing: install it (https://cloud.google.com/sdk/docs/install)."
        )
    else:
        sdk = Path(os.path.realpath(shutil.which("gcloud") or "")).parent.parent
        for component, folder in (
            ("cloud-firestore-emulator", "cloud-firestore-emulator"),
            ("pubsub-emulator", "pubsub-emulator"),
        ):
            if not (sdk / "platform" / folder).exists():
                problems.append(
                    f"The {component} is missing: gcloud components install {component} "
                    f"(or the Debian package google-cloud-cli-{component.removeprefix('cloud-')})."
                )
    if not (root / "node_modules" / ".bin" / "firebase").exists():
        problems.append("firebase-tools is missing: run `npm ci` in the repository (Node.js 20+).")
    if problems:
        raise StartError("Cannot start the local stack:\n  - " + "\n  - ".join(problems))
