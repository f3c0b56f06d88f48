"""The swarm's worker processes: each plays a slice of the bots on one event loop; the
parent starts them, waits until every bot is in its session, lets them play and merges
what they measured."""

from __future__ import annotations

import asyncio
import contextlib
import math
import multiprocessing
import os
import queue
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bots.swarm.bot import Bot, open_socket
from bots.swarm.plan import Plan


def play_slice(plan: Plan, first: int, count: int, ready: Any, go: Any, out: Any, nice: int) -> None:
    """A worker process: `count` bots from bot number `first` on one event loop."""
    if nice:
        os.nice(nice)
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:
        runner = asyncio.run
    out.put(("done", first, runner(_play_slice(plan, first, count, ready, go, out))))


async def _play_slice(plan: Plan, first: int, count: int, ready: Any, go: Any, out: Any) -> dict[str, Any]:
    rng = random.Random(plan.seed * 100_003 + first)
    limit = asyncio.Semaphore(25)

    async def join(number: int) -> Bot:
        async with limit:
            session_id = plan.session_ids[number % len(plan.session_ids)]
            uid = f"swarm-{plan.run_id}-{number}"
            bot = Bot(number, session_id, await open_socket(plan, uid))
            bot.reader = asyncio.create_task(bot.read())
            await bot.join()
            return bot

    bots = await asyncio.gather(*(join(first + i) for i in range(count)))
    # Joins queue up behind each other in the stack (not measured): allow them time.
    await asyncio.wait_for(asyncio.gather(*(bot.joined.wait() for bot in bots)), 120 + 2 * count)
    ready.set()
    await asyncio.to_thread(go.wait, 900)
    cpu_at_go = time.process_time()
    progress: Counter[str] = Counter()

    async def report() -> None:
        while True:
            await asyncio.sleep(1)
            scored = sum(1 for b in bots for a in b.answers.values() if not math.isnan(a.score_at))
            out.put(("progress", first, {"sent": progress["sent"], "scored": scored}))

    reporter = asyncio.create_task(report())
    await asyncio.gather(*(bot.play(plan, rng, progress) for bot in bots))
    deadline = time.monotonic() + plan.time_limit_s + 180
    for bot in bots:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(bot.ended.wait(), max(0.1, deadline - time.monotonic()))
        if not bot.ended.is_set():
            bot.errors["no SESSION_ENDED"] += 1
    reporter.cancel()
    cpu_s = time.process_time() - cpu_at_go
    results = [bot.results() for bot in bots]
    await asyncio.gather(*(bot.socket.close() for bot in bots), return_exceptions=True)
    return _merge(results) | {"cpu_s": cpu_s}


def _merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """What several bots (or workers) measured, as one: rows joined, errors summed."""
    errors: Counter[str] = Counter()
    for part in parts:
        errors.update(part["errors"])
    return {
        "answers": [row for part in parts for row in part["answers"]],
        "starts": [s for part in parts for s in part["starts"]],
        "boards": _first_arrivals([b for part in parts for b in part["boards"]]),
        "errors": dict(errors),
    }


def _first_arrivals(boards: list[tuple[str, int, float]]) -> list[tuple[str, int, float]]:
    """Each (session, version) once, at the first arrival any bot saw."""
    first: dict[tuple[str, int], float] = {}
    for session, version, at in boards:
        key = (session, version)
        first[key] = min(at, first.get(key, at))
    return [(s, v, at) for (s, v), at in first.items()]


@dataclass
class Swarm:
    """The worker processes of one run: start them, wait until every bot is in its
    session, let them play, gather what they measured."""

    plan: Plan
    players: int
    workers: int
    nice: int = 0
    processes: list[Any] = field(default_factory=list)

    def start(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.go, self.out = context.Event(), context.Queue()
        self.readies = []
        for w in range(self.workers):
            first, end = w * self.players // self.workers, (w + 1) * self.players // self.workers
            ready = context.Event()
            process = context.Process(
                target=play_slice,
                args=(self.plan, first, end - first, ready, self.go, self.out, self.nice),
                daemon=True,
            )
            process.start()
            self.processes.append(process)
            self.readies.append(ready)

    async def wait_joined(self) -> None:
        deadline = time.monotonic() + 180 + self.players
        for ready, process in zip(self.readies, self.processes, strict=True):
            while not await asyncio.to_thread(ready.wait, 1):
                if not process.is_alive() or time.monotonic() > deadline:
                    raise RuntimeError("a swarm worker did not get its players into their sessions")

    def pids(self) -> list[int]:
        return [p.pid for p in self.processes if p.pid is not None]

    async def play(self, expected_answers: int, show: Any = print) -> dict[str, Any]:
        """Let the bots play; `show` gets a progress line every couple of seconds."""
        self.go.set()
        progress: dict[int, dict[str, int]] = {}
        parts: list[dict[str, Any]] = []
        shown, started = 0.0, time.monotonic()
        while len(parts) < self.workers:
            try:
                kind, first, body = await asyncio.to_thread(self.out.get, True, 2)
            except queue.Empty:
                kind = ""
                if not any(p.is_alive() for p in self.processes):
                    raise RuntimeError("every swarm worker exited before reporting") from None
            if kind == "progress":
                progress[first] = body
            elif kind == "done":
                parts.append(body)
            if time.monotonic() - shown >= 2:
                shown = time.monotonic()
                sent = sum(p["sent"] for p in progress.values())
                scored = sum(p["scored"] for p in progress.values())
                show(
                    f"    {shown - started:5.0f} s  answers sent {sent}/{expected_answers}"
                    f"  scored {scored}  workers done {len(parts)}/{self.workers}"
                )
        for process in self.processes:
            process.join(10)
        bots_cpu_s = sum(part["cpu_s"] for part in parts)  # while playing, every worker
        return _merge(parts) | {"bots_cpu_s": bots_cpu_s}

    def stop(self) -> None:
        for process in self.processes:
            if process.is_alive():
                process.terminate()
            process.join(5)
