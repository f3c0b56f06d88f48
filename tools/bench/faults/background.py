"""The injectors on Cloud Tasks that run all along: flush tasks delivered twice (copies
under another name, and direct calls for a window just past), question timers delivered
twice (copies) or lost (a pending close timer deleted: the host's step reveals instead)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from devstack.stack import (
    FLUSH_QUEUE_COUNT,
    FLUSH_QUEUE_PREFIX,
    PROJECT_ID,
    TASKS_LOCATION,
    TIMER_QUEUE,
    Stack,
)

TIMER_LOSS = 0.3  # of the close timers seen pending, the share deleted


@dataclass
class TaskFaults:
    flush_task_copies: int = 0
    flush_direct_calls: int = 0
    timer_copies: int = 0
    timers_deleted: int = 0
    deleted: set[str] = field(default_factory=set)  # "session/index" of every close timer deleted
    decided: set[str] = field(default_factory=set)  # close timers kept or deleted


@dataclass(eq=False)
class Background:
    stack: Stack
    sessions: list[str]
    kinds: frozenset[str]
    rng: random.Random
    log: TaskFaults = field(default_factory=TaskFaults)

    async def run(self) -> None:
        """Until cancelled: every 0.7 s, copy (and lose) pending tasks of the ledger's
        sessions, and call the flush directly, twice, for a window just past."""
        from tasks_emulator.client import make_client

        client = make_client(self.stack.endpoints["tasks"].address)
        parent = f"projects/{PROJECT_ID}/locations/{TASKS_LOCATION}"
        flush_queues = [f"{parent}/queues/{FLUSH_QUEUE_PREFIX}-{i}" for i in range(FLUSH_QUEUE_COUNT)]
        timer_queue = f"{parent}/queues/{TIMER_QUEUE}"
        flush_url = self.stack.endpoints["flush_leaderboard"].url + "/"
        async with httpx.AsyncClient(timeout=30) as http:
            while True:
                await asyncio.sleep(0.7)
                if "flush" in self.kinds:
                    copied = await asyncio.to_thread(self._copy_pending, client, flush_queues, _not_snapshot)
                    self.log.flush_task_copies += copied
                    await self._call_flush(http, flush_url)
                if "timers" in self.kinds:
                    self.log.timer_copies += await asyncio.to_thread(
                        self._copy_pending, client, [timer_queue], self._keep_or_lose
                    )

    def _copy_pending(
        self, client: Any, queues: list[str], wanted: Callable[[Any, Any, dict[str, Any]], bool]
    ) -> int:
        """Copies of the pending tasks `wanted` picks, under another name (same body and
        schedule: both run); `wanted` may delete a task instead."""
        from google.cloud import tasks_v2

        copied = 0
        sessions = set(self.sessions)
        for queue in queues:
            with contextlib.suppress(Exception):
                listed = list(
                    client.list_tasks(request={"parent": queue, "response_view": tasks_v2.Task.View.FULL})
                )
                for task in listed:
                    body = json.loads(task.http_request.body or b"{}")
                    if body.get("session_id") not in sessions or task.name.endswith("-dup"):
                        continue
                    if not wanted(client, task, body):
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

    def _keep_or_lose(self, client: Any, task: Any, body: dict[str, Any]) -> bool:
        """A close timer seen for the first time is lost (deleted) now and then; the rest
        are copied."""
        key = f"{body['session_id']}/{body.get('index')}"
        if body.get("action") != "close" or key in self.log.decided:
            return True
        self.log.decided.add(key)
        if self.rng.random() < TIMER_LOSS:
            with contextlib.suppress(Exception):
                client.delete_task(name=task.name)
                self.log.deleted.add(key)
                self.log.timers_deleted += 1
                return False
        return True

    async def _call_flush(self, http: httpx.AsyncClient, url: str) -> None:
        session_id = self.rng.choice(self.sessions)
        body = {"session_id": session_id, "window": int(time.time() * 10) - 5, "snapshot": False}
        for _ in range(2):
            with contextlib.suppress(httpx.HTTPError):
                await http.post(url, json=body)
                self.log.flush_direct_calls += 1


def _not_snapshot(client: Any, task: Any, body: dict[str, Any]) -> bool:
    return not body.get("snapshot")
