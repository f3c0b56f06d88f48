"""The bench's own local stack (free ports, beside any `make run`): the stack `make run`
starts, except that functions-framework loads the functions through tools/bench/e2e/probe.py,
so each call logs where its time went. Plus CPU and memory accounting from /proc."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from bench.e2e.stats import cpu_deltas
from devstack.endpoints import FUNCTIONS, ROOT
from devstack.stack import Stack, running_stack

PROBE = ROOT / "tools" / "bench" / "e2e" / "probe.py"
TICKS_PER_S = os.sysconf("SC_CLK_TCK")
HOP = "bench hop"  # tools/bench/e2e/probe.py: one per call, where its time went
INVOCATION = "invocation"  # functions/main.py: one per call, its Firestore RPCs
INVOKED = ("on_command", "flush_leaderboard", "advance_question")  # what logs INVOCATION lines
_MARKERS = tuple(f'"{message}"'.encode() for message in (HOP, INVOCATION))
SAMPLE_EVERY_S = 2.0


class BenchStack(Stack):
    function_source = PROBE

    def groups(self) -> dict[str, int]:
        """Service name -> process group (each child leads its own)."""
        return {child.name: child.process.pid for child in self.children}

    def function_lines(
        self, offsets: dict[str, int] | None = None
    ) -> tuple[list[dict[str, Any]], dict[str, int]]:
        """The functions' log lines the bench reads (the probe's "bench hop" lines, the
        functions' own "invocation" lines) written since `offsets` (per function log), and
        the new offsets (a line still being written is left for the next read)."""
        lines: list[dict[str, Any]] = []
        new_offsets = {}
        for name in FUNCTIONS:
            offset = (offsets or {}).get(name, 0)
            with (self.log_dir / f"{name}.log").open("rb") as log:
                log.seek(offset)
                for raw in log:
                    if not raw.endswith(b"\n"):
                        break
                    offset += len(raw)
                    if any(marker in raw for marker in _MARKERS):
                        line = _json_line(raw)
                        if line.get("message") in (HOP, INVOCATION):
                            lines.append(line)
            new_offsets[name] = offset
        return lines, new_offsets


def _json_line(raw: bytes) -> dict[str, Any]:
    try:
        line = json.loads(raw)
    except ValueError:
        return {}
    return line if isinstance(line, dict) else {}


@contextmanager
def bench_stack(log_dir: Path | None = None, extra_env: dict[str, str] | None = None) -> Iterator[BenchStack]:
    with running_stack(
        log_dir=log_dir or Path(tempfile.mkdtemp(prefix="quiz-bench-")),
        extra_env=extra_env,
        stack_type=BenchStack,
    ) as stack:
        yield cast(BenchStack, stack)


# -- /proc ------------------------------------------------------------------------------


def cpu_seconds_by_group(groups: dict[str, int]) -> dict[str, float]:
    """utime + stime of every live process in each process group (a gcloud wrapper's JVM
    included), in seconds."""
    totals = dict.fromkeys(groups, 0.0)
    by_pgid = {pgid: name for name, pgid in groups.items()}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        fields = _stat_fields(proc)
        name = by_pgid.get(int(fields[2])) if fields else None
        if name is not None:
            totals[name] += _cpu_seconds(fields)
    return totals


def cpu_seconds_of(pids: list[int]) -> float:
    return sum(_cpu_seconds(_stat_fields(Path(f"/proc/{pid}"))) for pid in pids)


def _stat_fields(proc: Path) -> list[str]:
    """/proc/<pid>/stat after the command name (which may hold spaces); [] if it is gone."""
    try:
        return (proc / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def _cpu_seconds(fields: list[str]) -> float:
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_S if fields else 0.0


def rss_mib(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    line = next((line for line in status.splitlines() if line.startswith("VmRSS")), "VmRSS: 0 kB")
    return int(line.split()[1]) / 1024


class CpuSampler:
    """CPU of named process sets, sampled every couple of seconds: mean and peak % of one core."""

    def __init__(self, read: Callable[[], dict[str, float]]) -> None:
        self.read = read
        self.samples: list[tuple[float, dict[str, float]]] = []

    async def run(self) -> None:
        while True:
            self.samples.append((time.monotonic(), await asyncio.to_thread(self.read)))
            await asyncio.sleep(SAMPLE_EVERY_S)

    def summary(self) -> tuple[dict[str, float], dict[str, float], float]:
        """(mean %, peak %, seconds covered) per name over the samples."""
        self.samples.append((time.monotonic(), self.read()))
        (t0, first), (t1, last) = self.samples[0], self.samples[-1]
        span = max(1e-6, t1 - t0)
        mean = {k: 100 * (last[k] - first[k]) / span for k in last}
        peak = dict.fromkeys(last, 0.0)
        for (ta, a), (tb, b) in zip(self.samples, self.samples[1:], strict=False):
            for k in last:
                peak[k] = max(peak[k], 100 * (b[k] - a[k]) / max(1e-6, tb - ta))
        return mean, peak, span

    def spent(self, names: list[str]) -> dict[str, float]:
        """CPU-seconds of each name from the first sample to the last (summary() takes it)."""
        return cpu_deltas(self.samples[0][1], self.samples[-1][1], names)
