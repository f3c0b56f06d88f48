"""What the orchestrator and its child processes share: limits, /proc readings, ids,
room layout, and the JSON-lines control channel over a child's stdin/stdout."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import resource
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
CLK_TCK = os.sysconf("SC_CLK_TCK")

# Global socket index g -> rooms, the same layout on every server so the same sockets get
# the same frames: fan-out room s<N> holds the sockets g < N; (c)'s 100 sessions c<k>
# hold g with g % 100 == k.
SESSIONS_C = 100


def fanout_room(size: int) -> str:
    return f"s{size}"


def fanout_rooms_of(g: int, sizes: list[int]) -> list[str]:
    return [fanout_room(size) for size in sizes if g < size]


SESSION_ROOM_PREFIX = "c"


def session_c_of(g: int) -> str:
    return f"{SESSION_ROOM_PREFIX}{g % SESSIONS_C}"


def raise_nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def die_with_parent() -> None:
    """SIGTERM this process when the orchestrator dies, however it dies (Linux)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() == 1:
        os.kill(os.getpid(), signal.SIGTERM)


# -- /proc ---------------------------------------------------------------------------


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_split(pid: int) -> tuple[float, float]:
    """(utime, stime) of a process (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK


def cpu_s(pid: int) -> float:
    return sum(cpu_split(pid))


def group_cpu_s(pgid: int) -> float:
    """utime + stime summed over a process group (the emulator's wrapper and its JVM)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            total += (int(fields[11]) + int(fields[12])) / CLK_TCK
    return total


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies over all cores, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    total = sum(values[:8])
    return float(total - idle), float(total)


def loadavg() -> list[float]:
    return [float(v) for v in Path("/proc/loadavg").read_text().split()[:3]]


# -- ids ------------------------------------------------------------------------------


def bench_uid(g: int) -> str:
    return f"bench-{g:05d}"


# -- control channel (child side) ----------------------------------------------------

Handler = Callable[..., Awaitable[dict[str, Any]]]


async def serve_control(handlers: dict[str, Handler]) -> None:
    """Answer JSON-lines requests from stdin on stdout, one at a time, until `exit` or EOF."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 24)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    out = sys.stdout
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    while line := await reader.readline():
        request = json.loads(line)
        op = request.pop("op")
        if op == "exit":
            break
        try:
            reply = await handlers[op](**request)
        except Exception as exc:  # noqa: BLE001 - reported to the orchestrator, which fails the run
            reply = {"error": f"{op}: {type(exc).__name__}: {exc}"}
        out.write(json.dumps(reply) + "\n")
        out.flush()
    with contextlib.suppress(BrokenPipeError):
        out.write(json.dumps({"bye": True}) + "\n")
        out.flush()
