"""Where each local service listens: emulator.json's ports for `make run` (its `emulators`
block is also the Firebase CLI's config), free ports for a test's own stack."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from devstack.processes import free_ports

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ("sessions_api", "on_command", "flush_leaderboard", "advance_question")
SERVICES = ("firestore", "pubsub", "auth", "tasks", *FUNCTIONS, "gateway")
FIREBASE_ONLY = ("hub", "logging")  # ports the Firebase CLI reserves beside the Auth emulator
# Another ports file, shaped like emulator.json, for `make run` and every tool that finds
# the stack by it (make demo, bots.swarm, quizgen.importer): a second stack beside the first.
CONFIG_VAR = "DEVSTACK_CONFIG"


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"


def config_path() -> Path:
    return Path(os.environ.get(CONFIG_VAR) or ROOT / "emulator.json")


def load_endpoints(path: Path | None = None) -> dict[str, Endpoint]:
    block = json.loads((path or config_path()).read_text())["emulators"]
    return {
        name: Endpoint(block[name]["host"], int(block[name]["port"])) for name in (*SERVICES, *FIREBASE_ONLY)
    }


def free_endpoints() -> dict[str, Endpoint]:
    names = (*SERVICES, *FIREBASE_ONLY)
    return {
        name: Endpoint("127.0.0.1", port) for name, port in zip(names, free_ports(len(names)), strict=True)
    }
