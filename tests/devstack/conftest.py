"""`make run` itself, as a newcomer types it, on free ports (DEVSTACK_CONFIG) with its logs
in a folder of its own (DEVSTACK_LOG_DIR), so it runs beside a developer's `make run`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from devstack.endpoints import ROOT, Endpoint, free_endpoints

READY = "Local stack ready."
# Set by this test run, not by a newcomer's shell: the project of its own stack, and the make
# it may run under (make test).
OUTER = {"GOOGLE_CLOUD_PROJECT", "MAKELEVEL", "MAKEFLAGS", "MFLAGS", "MAKEOVERRIDES"}


@dataclass
class MakeRun:
    endpoints: dict[str, Endpoint]
    env: dict[str, str]  # what a newcomer's shell has, pointed at this stack's ports file
    log_dir: Path
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)

    def banner(self) -> list[str]:
        start = self.output.index(READY)
        return self.output[start : start + 12]


def newcomer_env(config: Path, log_dir: Path) -> dict[str, str]:
    # Not this test run's own stack: its emulator hosts are in this process's environment.
    env = {k: v for k, v in os.environ.items() if not k.endswith("_EMULATOR_HOST") and k not in OUTER}
    return env | {"DEVSTACK_CONFIG": str(config), "DEVSTACK_LOG_DIR": str(log_dir)}


@pytest.fixture(scope="package")
def make_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MakeRun]:
    folder = tmp_path_factory.mktemp("make-run")
    endpoints = free_endpoints()
    config = folder / "emulator.json"
    config.write_text(
        json.dumps({"emulators": {name: {"host": e.host, "port": e.port} for name, e in endpoints.items()}})
    )
    env = newcomer_env(config, folder / "logs")
    process = subprocess.Popen(
        ["make", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    run = MakeRun(endpoints, env, folder / "logs", process)
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            run.output.append(line.rstrip("\n"))
            if "Stop everything:" in line:
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        ready.wait(timeout=240)
        assert READY in run.output and process.poll() is None, "\n".join(run.output[-40:])
        yield run
    finally:
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C, as the banner says
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        time.sleep(0)  # the reader thread ends with the pipe
