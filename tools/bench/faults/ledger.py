"""The ledger run on a running stack: a host and its players play the sessions while the
injectors run, then the store settles and the checker counts. on_command is restarted
with QUIZ_FAULTS for the run, and without them afterwards."""

from __future__ import annotations

import asyncio
import functools
import os
import random
import time
import uuid
from collections import Counter
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import httpx

from bench.faults.chaos import Chaos
from bench.faults.checker import check
from bench.faults.duplicator import Duplicator
from bench.faults.options import Options
from bench.faults.players import Bot
from bench.faults.report import Report
from bench.faults.store import fingerprint, seed_quiz
from bots.client import Host, sign_up_anonymously
from devstack.stack import Stack

LOGGED = ("on_command", "flush_leaderboard", "advance_question", "sessions_api", "gateway")


def count_in_logs(log_dir: Path, name: str, needle: str) -> int:
    """Occurrences of `needle` in a child's logs, kept ones (<name>.<n>.log) included;
    `gateway` covers every gateway instance."""
    total = 0
    for path in log_dir.glob(f"{name}*.log"):
        rest = path.name[len(name) : -len(".log")]
        if rest == "" or rest[1:].isdigit() or (name == "gateway" and rest.startswith("-")):
            total += path.read_text(errors="replace").count(needle)
    return total


async def run_ledger(stack: Stack, options: Options) -> Report:
    """One ledger run on a running stack (see the module's note)."""
    return await Ledger(stack, options).run()


class Ledger:
    def __init__(self, stack: Stack, options: Options) -> None:
        self.stack = stack
        self.options = options
        self.answered: Counter[tuple[str, int]] = Counter()
        self.opened: dict[str, int] = {}
        self.bots: list[Bot] = []
        self.sessions: list[str] = []
        self.failover_url = f"ws://{stack.endpoints['gateway'].address}/ws"
        self.tasks: set[asyncio.Task[Any]] = set()
        self.slow_questions = 0
        self.t0 = time.monotonic()
        # What the logs held before this run (a shared stack may have run others).
        self.baseline = {
            (name, needle): count_in_logs(stack.log_dir, name, needle)
            for name, needle in [("on_command", "injected fault"), *((n, "Traceback") for n in LOGGED)]
        }

    def _logged(self, name: str, needle: str) -> int:
        return count_in_logs(self.stack.log_dir, name, needle) - self.baseline[(name, needle)]

    def spawn(self, coro: Awaitable[Any]) -> None:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def say(self, text: str) -> None:
        if self.options.progress:
            print(f"[ledger {time.monotonic() - self.t0:6.1f}s] {text}", flush=True)

    async def run(self) -> Report:
        options = self.options
        os.environ.update(self.stack.client_env())
        sessions, questions = options.plan()
        self.say(f"{sessions} session(s) x {options.players} players x {questions} questions")
        if options.fail_after_commit > 0:
            spec = f"fail_after_commit={options.fail_after_commit},seed={options.seed}"
            await asyncio.to_thread(self.stack.restart, "on_command", crash=False, QUIZ_FAULTS=spec)
        gateway_id = f"ledger-{uuid.uuid4().hex[:8]}"
        gateway_child, gateway = await asyncio.to_thread(
            self.stack.spawn_gateway, f"gateway-{gateway_id}", GATEWAY_ID=gateway_id
        )
        duplicator: Duplicator | None = None
        chaos = Chaos(
            self.stack,
            options,
            self.sessions,
            functools.partial(self._progress, questions),
            self.say,
            self.t0,
        )
        try:
            quiz_id = await asyncio.to_thread(seed_quiz, questions, options.time_limit_s)
            auth_url, api_url = self.stack.endpoints["auth"].url, self.stack.endpoints["sessions_api"].url
            _, host_token = await sign_up_anonymously(auth_url)
            host = Host(api_url, host_token)
            for _ in range(sessions):
                created = await host.create_session(
                    quiz_id, auto_advance=False, max_participants=options.players + 5
                )
                self.sessions.append(created["session_id"])
            if options.copies > 0:
                duplicator = Duplicator(
                    asyncio.get_running_loop(),
                    options.copies,
                    options.late_copy_share,
                    random.Random(options.seed + 1),
                    set(self.sessions),
                )
                await asyncio.to_thread(duplicator.start)
            urls = [f"ws://{gateway.address}/ws", self.failover_url]
            await self._connect_bots(auth_url, urls)
            self.say(f"{len(self.bots)} bots joined")
            injecting = asyncio.create_task(chaos.run(gateway_child, gateway_id))
            flushes = asyncio.create_task(chaos.duplicate_flushes())
            try:
                await asyncio.gather(
                    *(self._host_session(host, sid, questions) for sid in self.sessions),
                    *(
                        bot.play(questions, random.Random(options.seed * 1000 + bot.index))
                        for bot in self.bots
                    ),
                )
            finally:
                for task in (injecting, flushes):
                    task.cancel()
                await asyncio.gather(injecting, flushes, return_exceptions=True)
            await asyncio.gather(
                *(asyncio.wait_for(b.ended_event.wait(), 60) for b in self.bots), return_exceptions=True
            )
            await self._settle(duplicator)
            report = await asyncio.to_thread(self._check, chaos, questions, duplicator)
        finally:
            await asyncio.gather(*(bot.close() for bot in self.bots), return_exceptions=True)
            for task in list(self.tasks):
                task.cancel()
            if duplicator is not None:
                await asyncio.to_thread(duplicator.stop)
            gateway_child.stop()
            if options.fail_after_commit > 0:
                await asyncio.to_thread(self.stack.restart, "on_command", crash=False, QUIZ_FAULTS="")
        report.seconds = time.monotonic() - self.t0
        return report

    async def _connect_bots(self, auth_url: str, urls: list[str]) -> None:
        limit = asyncio.Semaphore(20)

        async def one(index: int) -> Bot:
            async with limit:
                uid, token = await sign_up_anonymously(auth_url)
                session_id = self.sessions[index % len(self.sessions)]
                bot = Bot(self, index, uid, token, session_id, urls[index % 2])
                await bot.connect()
                await bot.join()
                return bot

        total = self.options.players * len(self.sessions)
        self.bots = list(await asyncio.gather(*(one(i) for i in range(total))))

    # -- the host -------------------------------------------------------------------------

    async def _host_session(self, host: Host, session_id: str, questions: int) -> None:
        bots = [b for b in self.bots if b.session_id == session_id]
        await self._host_call(host, "POST", f"/api/v1/sessions/{session_id}/start")
        self.opened[session_id] = 0
        for index in range(questions):
            deadline = time.monotonic() + self.options.score_timeout_s
            while self.answered[(session_id, index)] < len(bots) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            pending = [b.records[q].done.wait() for b in bots for q in b.question_ids(index)]
            try:
                await asyncio.wait_for(asyncio.gather(*pending), max(0.1, deadline - time.monotonic()))
            except TimeoutError:
                self.slow_questions += 1
                self.say(
                    f"{session_id} q{index}: not every score seen after {self.options.score_timeout_s} s"
                )
            await self._advance(host, session_id, index + 1 if index + 1 < questions else None)
            if index + 1 < questions:
                self.opened[session_id] = index + 1
            if index % 10 == 9 or index + 1 == questions:
                self.say(f"{session_id}: {index + 1}/{questions} questions")

    def _progress(self, questions: int) -> float:
        """The share of its questions every session has opened."""
        if not self.opened or len(self.opened) < len(self.sessions):
            return 0.0
        return min(self.opened.values()) / questions

    async def _advance(self, host: Host, session_id: str, target: int | None) -> None:
        """Reveal, then open `target` (None: end). The close timer may reveal first, so look
        at the state before each step instead of counting calls."""
        path = f"/api/v1/sessions/{session_id}"
        state: dict[str, Any] | None = None
        for _ in range(20):
            if state is None:
                state = await self._host_call(host, "GET", path)
            if target is None and state["status"] == "completed":
                return
            if target is not None and state["current_index"] == target and state["question_open"]:
                return
            # Not retried: a step whose answer was lost may have happened; look again instead.
            try:
                response = await host.call("POST", f"{path}/next")
                state = dict(response.json()) if response.status_code == 200 else None
            except (httpx.HTTPError, ValueError):
                state = None
        raise RuntimeError(f"{session_id}: could not advance to {target}")

    async def _host_call(self, host: Host, method: str, path: str) -> dict[str, Any]:
        for attempt in range(30):
            try:
                response = await host.call(method, path)
            except httpx.HTTPError:
                await asyncio.sleep(0.5)
                continue
            if response.status_code < 500:
                response.raise_for_status()
                return dict(response.json())
            await asyncio.sleep(0.5 + attempt * 0.1)
        raise RuntimeError(f"host call {method} {path} kept failing")

    # -- the end --------------------------------------------------------------------------

    async def _settle(self, duplicator: Duplicator | None) -> None:
        """Wait for held-back copies to go out and for Firestore to stop changing."""
        deadline = time.monotonic() + 120
        while duplicator is not None and duplicator.pending > 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        previous = None
        stable = 0
        while time.monotonic() < deadline and stable < 3:
            await asyncio.sleep(1.0)
            current = await asyncio.to_thread(fingerprint, self.sessions)
            stable = stable + 1 if current == previous else 0
            previous = current

    def _check(self, chaos: Chaos, questions: int, duplicator: Duplicator | None) -> Report:
        report = check(self.sessions, self.bots, questions, duplicator)
        report.counts["questions waiting > score timeout"] = self.slow_questions
        other = Counter[str]()
        for bot in self.bots:
            other.update(bot.other_errors)
        report.other_errors = dict(other)
        chaos.count_into(report, duplicator, self._logged("on_command", "injected fault"))
        report.tracebacks = {name: self._logged(name, "Traceback") for name in LOGGED}
        return report
