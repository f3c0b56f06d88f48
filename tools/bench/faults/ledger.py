"""The ledger run on a running stack: a host and its players play the sessions while the
injectors run, then the store settles and the checker counts. The functions are
restarted with QUIZ_FAULTS for the run (on_command on several worker processes), and
without them afterwards; the players spread over the stack's gateway and two of the
ledger's own, which run with QUIZ_FAULTS too and are replaced when a fault ends one."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
import uuid
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.faults.background import Background
from bench.faults.chaos import Chaos
from bench.faults.checker import check
from bench.faults.duplicator import Duplicator, EventDuplicator
from bench.faults.options import (
    DEADLINE,
    DEADLINE_LIMIT_S,
    NORMAL,
    REVEAL,
    Options,
    early_reveal_ms,
    kind_of,
    question_kind,
)
from bench.faults.players import Bot
from bench.faults.report import Report
from bench.faults.store import fingerprint, seed_quiz
from bots.client import Host, sign_up_anonymously
from devstack.endpoints import FUNCTIONS
from devstack.processes import Child
from devstack.stack import Stack
from vocabquiz.domain.scoring import GRACE_MS
from vocabquiz.protocol import parse_timestamp_ms

LOGGED = ("on_command", "flush_leaderboard", "advance_question", "sessions_api", "gateway")
ON_COMMAND_WORKERS = 2  # instances judging and scoring side by side


@dataclass(eq=False)
class Gateway:
    gateway_id: str
    url: str
    child: Child
    skew_ms: int


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
        self.questions = 0
        self.bots: list[Bot] = []
        self.sessions: list[str] = []
        self.main_url = f"ws://{stack.endpoints['gateway'].address}/ws"
        self.gateways: list[Gateway] = []  # the ledger's own, alive
        self.spawned = 0
        self.rng = random.Random(options.seed + 2)
        self.tasks: set[asyncio.Task[Any]] = set()
        self.slow_questions = 0
        self.t0 = time.monotonic()
        # What the logs held before this run (a shared stack may have run others).
        self.needles = [
            ("on_command", "injected fault: failing"),
            *((n, "injected fault: a commit's reply lost") for n in FUNCTIONS),
            ("gateway", "injected fault: a publish's reply lost"),
            *((n, "Traceback") for n in LOGGED),
        ]
        self.baseline = {key: count_in_logs(stack.log_dir, *key) for key in self.needles}

    def _logged(self, name: str, needle: str) -> int:
        return count_in_logs(self.stack.log_dir, name, needle) - self.baseline[(name, needle)]

    def spawn(self, coro: Awaitable[Any]) -> None:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def say(self, text: str) -> None:
        if self.options.progress:
            print(f"[ledger {time.monotonic() - self.t0:6.1f}s] {text}", flush=True)

    # -- the processes under faults ---------------------------------------------------------

    def _faults(self, seed: int, **knobs: float) -> str:
        return ",".join([f"{k}={v}" for k, v in knobs.items() if v] + [f"seed={seed}"])

    def _restart_functions(self, on: bool) -> None:
        """The functions with QUIZ_FAULTS for the run (on), or without (off)."""
        o = self.options
        skew = {"sessions_api": o.skew_ms // 2, "advance_question": -o.skew_ms // 2}
        for name in FUNCTIONS:
            spec = self._faults(
                o.seed + FUNCTIONS.index(name),
                fail_after_commit=o.fail_after_commit if name == "on_command" else 0,
                lost_commit_reply=o.lost_commit_reply,
                clock_skew_ms=skew.get(name, 0),
            )
            env = {"QUIZ_FAULTS": spec if on else ""}
            if name == "on_command":
                env["WORKERS"] = str(ON_COMMAND_WORKERS if on else 1)
            self.stack.restart(name, crash=False, **env)

    async def spawn_gateway(self, skew_ms: int) -> Gateway:
        gateway_id = f"ledger-{uuid.uuid4().hex[:8]}"
        self.spawned += 1
        spec = self._faults(
            self.options.seed + 10 + self.spawned,
            lost_publish_reply=self.options.lost_publish_reply,
            clock_skew_ms=skew_ms,
        )
        child, endpoint = await asyncio.to_thread(
            self.stack.spawn_gateway, f"gateway-{gateway_id}", GATEWAY_ID=gateway_id, QUIZ_FAULTS=spec
        )
        gateway = Gateway(gateway_id, f"ws://{endpoint.address}/ws", child, skew_ms)
        self.gateways.append(gateway)
        return gateway

    def retire(self, gateway: Gateway) -> None:
        """A gateway a fault is about to end: no player is sent to it any more."""
        self.gateways.remove(gateway)

    async def replace(self, gone: Gateway) -> None:
        """A gateway a fault ended: its players have moved; a new one takes its place."""
        gone.child.stop()
        await self.spawn_gateway(gone.skew_ms)

    def ledger_gateways(self) -> list[Gateway]:
        return list(self.gateways)

    def bots_on(self, gateway: Gateway) -> int:
        return sum(b.url == gateway.url for b in self.bots)

    def pick_gateway(self, leaving: str) -> str:
        """Where a player whose socket closed goes: any other gateway alive."""
        urls = [g.url for g in self.gateways if g.url != leaving]
        if leaving != self.main_url:
            urls.append(self.main_url)
        return self.rng.choice(urls)

    # -- the run ----------------------------------------------------------------------------

    async def run(self) -> Report:
        options = self.options
        os.environ.update(self.stack.client_env())
        sessions, questions = options.plan()
        self.questions = questions
        self.say(f"{sessions} session(s) x {options.players} players x {questions} questions")
        await asyncio.to_thread(self._restart_functions, True)
        for skew in (options.skew_ms, -options.skew_ms // 2):
            await self.spawn_gateway(skew)
        copiers: list[Duplicator] = []
        chaos = Chaos(self, random.Random(options.seed))
        background = Background(
            self.stack, self.sessions, options.background, random.Random(options.seed + 3)
        )
        try:
            quiz_id = await asyncio.to_thread(
                seed_quiz, questions, options.time_limit_s, self._time_limits(questions)
            )
            auth_url, api_url = self.stack.endpoints["auth"].url, self.stack.endpoints["sessions_api"].url
            _, host_token = await sign_up_anonymously(auth_url)
            host = Host(api_url, host_token)
            for _ in range(sessions):
                created = await host.create_session(
                    quiz_id, auto_advance=False, max_participants=options.players + 5
                )
                self.sessions.append(created["session_id"])
            loop = asyncio.get_running_loop()
            if options.copies > 0:
                copiers.append(
                    Duplicator(
                        loop,
                        options.copies,
                        options.late_copy_share,
                        random.Random(options.seed + 1),
                        set(self.sessions),
                    )
                )
            if "events" in options.background:
                copiers.append(
                    EventDuplicator(loop, 1, 0.1, random.Random(options.seed + 4), set(self.sessions))
                )
            for copier in copiers:
                await asyncio.to_thread(copier.start)
            urls = [self.main_url, *(g.url for g in self.gateways)]
            await self._connect_bots(auth_url, urls)
            self.say(f"{len(self.bots)} bots joined")
            running = [asyncio.create_task(chaos.run()), asyncio.create_task(background.run())]
            running += [asyncio.create_task(bot.resend_unacknowledged()) for bot in self.bots]
            try:
                await asyncio.gather(
                    *(self._host_session(host, sid, questions) for sid in self.sessions),
                    *(
                        bot.play(
                            questions,
                            random.Random(options.seed * 1000 + bot.index),
                            options.seed,
                            options.close_race,
                        )
                        for bot in self.bots
                    ),
                )
            finally:
                for task in running:
                    task.cancel()
                await asyncio.gather(*running, return_exceptions=True)
            await asyncio.gather(
                *(asyncio.wait_for(b.ended_event.wait(), 60) for b in self.bots), return_exceptions=True
            )
            await self._settle(copiers)
            report = await asyncio.to_thread(self._check, chaos, background, questions, copiers)
        finally:
            await asyncio.gather(*(bot.close() for bot in self.bots), return_exceptions=True)
            for task in list(self.tasks):
                task.cancel()
            for copier in copiers:
                await asyncio.to_thread(copier.stop)
            for gateway in self.gateways:
                gateway.child.stop()
            await asyncio.to_thread(self._restart_functions, False)
        report.seconds = time.monotonic() - self.t0
        return report

    def _time_limits(self, questions: int) -> dict[int, int]:
        """DEADLINE questions are short: answers come around their deadline + grace."""
        return {
            i: DEADLINE_LIMIT_S
            for i in range(questions)
            if question_kind(i, self.options.close_race) == DEADLINE
        }

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
            started = await asyncio.wait_for(self._started(bots, index), 600)
            kind = kind_of(started["question"]["question_id"], self.options.close_race)
            if kind != NORMAL:
                if kind == REVEAL:  # the host reveals early, while answers are on their way
                    at_ms = parse_timestamp_ms(started["started_at"]) + early_reveal_ms(
                        self.options.seed, session_id, index
                    )
                    await _sleep_until_ms(at_ms)
                    await self._reveal(host, session_id, index)
                else:
                    # The host steps as the close timer fires (or in its place, when the run
                    # lost it): the two race, and whichever comes second finds it revealed.
                    at_ms = int(started["deadline_ms"]) + GRACE_MS + self.rng.randint(-50, 150)
                    await _sleep_until_ms(at_ms)
                    await self._reveal(host, session_id, index)
            deadline = time.monotonic() + self.options.score_timeout_s
            while self.answered[(session_id, index)] < len(bots) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            if self.answered[(session_id, index)] < len(bots):
                silent = [b for b in bots if not b.question_ids(index)]
                self.slow_questions += 1
                self.say(
                    f"{session_id} q{index}: no answer after {self.options.score_timeout_s} s from "
                    + ", ".join(
                        f"{b.name} (connected {b.connected.is_set()}, joined {b.joined.is_set()})"
                        for b in silent
                    )
                )
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

    @staticmethod
    async def _started(bots: list[Bot], index: int) -> dict[str, Any]:
        """The QUESTION_STARTED of question `index`, as the first of the players saw it."""
        while True:
            for bot in bots:
                if index in bot.started:
                    return bot.started[index]
            await asyncio.sleep(0.02)

    def progress(self) -> float:
        """The share of its questions every session has opened."""
        if not self.opened or len(self.opened) < len(self.sessions):
            return 0.0
        return min(self.opened.values()) / self.questions

    async def _reveal(self, host: Host, session_id: str, index: int) -> None:
        """Reveal question `index` if it is still open (not retried blindly: a step whose
        answer was lost may have happened)."""
        path = f"/api/v1/sessions/{session_id}"
        for _ in range(20):
            state = await self._host_call(host, "GET", path)
            if state["current_index"] != index or not state["question_open"]:
                return
            with contextlib.suppress(httpx.HTTPError):
                await host.call("POST", f"{path}/next")

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
        for attempt in range(60):
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

    async def _settle(self, copiers: list[Duplicator]) -> None:
        """Wait for held-back copies to go out and for Firestore to stop changing."""
        deadline = time.monotonic() + 120
        while any(c.pending > 0 for c in copiers) and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        previous = None
        stable = 0
        while time.monotonic() < deadline and stable < 3:
            await asyncio.sleep(1.0)
            current = await asyncio.to_thread(fingerprint, self.sessions)
            stable = stable + 1 if current == previous else 0
            previous = current

    def _check(
        self, chaos: Chaos, background: Background, questions: int, copiers: list[Duplicator]
    ) -> Report:
        commands = next((c for c in copiers if not isinstance(c, EventDuplicator)), None)
        report = check(self.sessions, self.bots, questions, commands, self.options.skew_ms)
        report.counts["questions waiting > score timeout"] = self.slow_questions
        other = Counter[str]()
        for bot in self.bots:
            other.update(bot.other_errors)
        report.other_errors = dict(other)
        chaos.count_into(report)
        faults = report.faults
        for copier in copiers:
            what = "events" if isinstance(copier, EventDuplicator) else "commands"
            faults[f"{what} seen"] = copier.originals
            faults[f"{what} copies published"] = copier.published
            faults[f"{what} copies held back"] = copier.late
            faults[f"{what} copies failed"] = copier.failed
        faults["on_command 500s after commit"] = self._logged("on_command", "injected fault: failing")
        faults["commit replies lost (functions)"] = sum(
            self._logged(n, "injected fault: a commit's reply lost") for n in FUNCTIONS
        )
        faults["publish replies lost (gateways)"] = self._logged(
            "gateway", "injected fault: a publish's reply lost"
        )
        faults["frames resent after no ACK (bots)"] = sum(b.ack_timeouts for b in self.bots)
        log = background.log
        faults["flush tasks copied"] = log.flush_task_copies
        faults["flush called directly"] = log.flush_direct_calls
        faults["timer tasks copied"] = log.timer_copies
        faults["close timers lost (deleted)"] = log.timers_deleted
        faults["server clock skew (ms): gateways, host API, timers"] = self.options.skew_ms
        report.tracebacks = {name: self._logged(name, "Traceback") for name in LOGGED}
        return report


async def _sleep_until_ms(at_ms: int) -> None:
    delay_s = (at_ms - time.time() * 1000) / 1000
    if delay_s > 0:
        await asyncio.sleep(delay_s)
