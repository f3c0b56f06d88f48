"""Child processes in their own process groups: the gcloud and firebase wrappers start
JVM or node children, and only stopping the whole group leaves nothing behind."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


class StartError(RuntimeError):
    pass


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, lines: int = 25) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout_s: float = 10) -> None:
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=timeout_s)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        # The wrapper may exit before its JVM does: sweep what is left of the group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)


@contextlib.contextmanager
def frozen(child: Child) -> Iterator[None]:
    """The child's whole process group stopped (SIGSTOP) for the block: an outage that
    loses nothing (for an emulator, the gcloud wrapper and its JVM both)."""
    os.killpg(child.process.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.killpg(child.process.pid, signal.SIGCONT)


def spawn(name: str, argv: list[str], env: dict[str, str], log_dir: Path, cwd: Path) -> Child:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return Child(name, process, log_path)


def port_open(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def wait_for_port(child: Child, host: str, port: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if child.process.poll() is not None:
            raise StartError(f"{child.name} exited with {child.process.returncode}:\n{child.log_tail()}")
        if port_open(host, port):
            return
        time.sleep(0.1)
    raise StartError(f"{child.name} did not open {host}:{port} in {timeout_s:.0f} s:\n{child.log_tail()}")


def wait_for_line(child: Child, needle: str, timeout_s: float) -> None:
    """For a child that opens no port: wait until its log says it is ready."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if child.process.poll() is not None:
            raise StartError(f"{child.name} exited with {child.process.returncode}:\n{child.log_tail()}")
        with contextlib.suppress(OSError):
            if needle in child.log_path.read_text(errors="replace"):
                return
        time.sleep(0.1)
    raise StartError(f"{child.name} did not log {needle!r} in {timeout_s:.0f} s:\n{child.log_tail()}")


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """Distinct ports nothing listens on, drawn below the kernel's ephemeral range: a
    port from bind(0) can be handed to some client's outgoing connection before our
    server binds it (seen as "port taken" in CI)."""
    low = _ephemeral_low() - 1
    chosen: list[int] = []
    held: list[socket.socket] = []
    try:
        while len(chosen) < count:
            port = random.randint(20_000, low)
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                sock.close()
                continue
            held.append(sock)  # held until all are chosen, so no port is drawn twice
            chosen.append(port)
    finally:
        for sock in held:
            sock.close()
    return chosen


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768
