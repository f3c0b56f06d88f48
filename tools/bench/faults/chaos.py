"""The injectors that act on processes and queues, each at a fixed point of the run's
progress: on_command SIGKILLed and restarted, the emulators frozen, a gateway SIGKILLed,
flush tasks delivered twice. And what the run reports of every fault it injected."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.faults.duplicator import Duplicator
from bench.faults.options import Options
from bench.faults.report import Report
from devstack.processes import frozen
from devstack.stack import (
    EVENTS_TOPIC,
    FLUSH_QUEUE_COUNT,
    FLUSH_QUEUE_PREFIX,
    PROJECT_ID,
    TASKS_LOCATION,
    Stack,
)


@dataclass
class FaultLog:
    on_command_kills: int = 0
    firestore_freezes: int = 0
    pubsub_freezes: int = 0
    gateway_kills: int = 0
    flush_task_copies: int = 0
    flush_direct_calls: int = 0
    events: list[str] = field(default_factory=list)


@dataclass(eq=False)
class Chaos:
    """`run` injects the process faults as the sessions get through their questions
    (`progress`: the share of questions every session has opened); `duplicate_flushes`
    runs beside it until cancelled."""

    stack: Stack
    options: Options
    sessions: list[str]
    progress: Callable[[], float]
    say: Callable[[str], None]
    t0: float
    log: FaultLog = field(init=False, default_factory=FaultLog)
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.options.seed)

    async def _at(self, fraction: float) -> None:
        while self.progress() < fraction:
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.8)  # answers in flight

    async def run(self, gateway_child: Any, gateway_id: str) -> None:
        chaos = self.options.chaos
        log = self.log
        if "kill" in chaos:
            await self._at(0.12)
            self._note("SIGKILL on_command, restart")
            await asyncio.to_thread(self.stack.restart, "on_command")
            log.on_command_kills += 1
        if "freeze" in chaos:
            await self._at(0.3)
            self._note(f"SIGSTOP firestore for {self.options.freeze_s:.0f} s")
            with frozen(self.stack.child("firestore")):
                await asyncio.sleep(self.options.freeze_s)
            log.firestore_freezes += 1
            await self._at(0.45)
            self._note(f"SIGSTOP pubsub for {self.options.freeze_s:.0f} s")
            with frozen(self.stack.child("pubsub")):
                await asyncio.sleep(self.options.freeze_s)
            log.pubsub_freezes += 1
        if "gateway" in chaos:
            # Pub/Sub frozen first, so frames are in flight, not yet acknowledged, when the
            # gateway dies: its players resend them elsewhere under the same message_id.
            await self._at(0.6)
            self._note(f"SIGSTOP pubsub; 1 s later SIGKILL gateway {gateway_id}; SIGCONT pubsub 2 s after")
            with frozen(self.stack.child("pubsub")):
                await asyncio.sleep(1.0)
                os.killpg(gateway_child.process.pid, signal.SIGKILL)
                await asyncio.to_thread(gateway_child.process.wait)
                await asyncio.sleep(2.0)
            log.pubsub_freezes += 1
            log.gateway_kills += 1
            await asyncio.to_thread(_delete_gateway_subscription, gateway_id)
        if "kill" in chaos and "freeze" in chaos:
            await self._at(0.75)
            self._note("SIGKILL on_command during a Firestore freeze, restart")
            with frozen(self.stack.child("firestore")):
                await asyncio.to_thread(self.stack.restart, "on_command")
                await asyncio.sleep(1)
            log.on_command_kills += 1
            log.firestore_freezes += 1

    def _note(self, what: str) -> None:
        self.log.events.append(f"{time.monotonic() - self.t0:6.1f}s {what}")
        self.say(f"fault: {what}")

    async def duplicate_flushes(self) -> None:
        """A flush delivered twice: copies of pending flush tasks under another name (same
        body and schedule: both run), and direct calls, twice, for a window just past (a
        retried task arriving after newer ones)."""
        if "flush" not in self.options.chaos:
            return
        from google.cloud import tasks_v2

        from tasks_emulator.client import make_client

        client = make_client(self.stack.endpoints["tasks"].address)
        flush_url = self.stack.endpoints["flush_leaderboard"].url + "/"
        parent = f"projects/{PROJECT_ID}/locations/{TASKS_LOCATION}"
        queues = [f"{parent}/queues/{FLUSH_QUEUE_PREFIX}-{i}" for i in range(FLUSH_QUEUE_COUNT)]
        sessions = set(self.sessions)

        def copy_pending() -> int:
            copied = 0
            for queue in queues:
                listed = client.list_tasks(
                    request={"parent": queue, "response_view": tasks_v2.Task.View.FULL}
                )
                for task in listed:
                    body = json.loads(task.http_request.body or b"{}")
                    if body.get("session_id") not in sessions or body.get("snapshot"):
                        continue
                    twin = tasks_v2.Task(
                        name=f"{task.name}-dup",
                        http_request=task.http_request,
                        schedule_time=task.schedule_time,
                    )
                    with contextlib.suppress(Exception):
                        client.create_task(parent=queue, task=twin)
                        copied += 1
            return copied

        async with httpx.AsyncClient(timeout=30) as http:
            while True:
                await asyncio.sleep(0.7)
                with contextlib.suppress(Exception):
                    self.log.flush_task_copies += await asyncio.to_thread(copy_pending)
                session_id = self.rng.choice(self.sessions)
                body = {"session_id": session_id, "window": int(time.time() * 10) - 5, "snapshot": False}
                for _ in range(2):
                    with contextlib.suppress(httpx.HTTPError):
                        await http.post(flush_url, json=body)
                        self.log.flush_direct_calls += 1

    def count_into(self, report: Report, duplicator: Duplicator | None, injected_500s: int) -> None:
        """Every fault injected, into the report (the 500s are counted in on_command's logs)."""
        faults = report.faults
        if duplicator is not None:
            faults["commands seen"] = duplicator.originals
            faults["copies published"] = duplicator.published
            faults["copies held back 6-10 s"] = duplicator.late
            faults["copies failed"] = duplicator.failed
        faults["on_command 500s injected"] = injected_500s
        faults["on_command SIGKILL + restart"] = self.log.on_command_kills
        faults["Firestore frozen"] = self.log.firestore_freezes
        faults["Pub/Sub frozen"] = self.log.pubsub_freezes
        faults["gateway SIGKILL"] = self.log.gateway_kills
        faults["flush tasks copied"] = self.log.flush_task_copies
        faults["flush called directly"] = self.log.flush_direct_calls
        report.fault_events = list(self.log.events)


def _delete_gateway_subscription(gateway_id: str) -> None:
    """A SIGKILLed gateway cannot delete its own quiz-events subscription."""
    from google.cloud import pubsub_v1  # type: ignore[attr-defined,unused-ignore]

    subscriber = pubsub_v1.SubscriberClient()
    with contextlib.suppress(Exception):
        subscriber.delete_subscription(
            subscription=subscriber.subscription_path(PROJECT_ID, f"{EVENTS_TOPIC}-gw-{gateway_id}"),
            timeout=10,
        )
