"""A Jepsen-style ledger run: bots answer many questions while faults are injected, then a
checker reads Firestore directly and proves that every answer acknowledged to a client
was scored exactly once, and that every score matches an independent oracle.

    python -m bots.ledger --answers 10000        # starts its own local stack
    python -m bots.ledger --answers 300 --players 25 --json ledger.json

Faults, all at once:
- every command published 2 more times (new Pub/Sub message ids, same data and
  attributes): a pull subscription on quiz-commands sees each command and the ledger
  re-publishes it, one copy at once (a parallel delivery), one after a random delay, a
  few long after their question closed;
- on_command answers 500 after its work committed (QUIZ_FAULTS=fail_after_commit=P, see
  vocabquiz/service/faults.py), so Pub/Sub delivers again;
- flush tasks delivered twice: pending flush tasks are copied under another name with the
  same body, and flush_leaderboard is called directly, twice, for a recent window;
- the on_command process group SIGKILLed mid-run and restarted;
- the Firestore and the Pub/Sub emulators frozen (SIGSTOP ... SIGCONT) for a few seconds;
- a gateway SIGKILLed: its players reconnect to another instance, REJOIN, and resend
  every frame not yet acknowledged (same message_id), and every answer whose score they
  have not seen.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import re
import signal
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from bots.client import Host, sign_up_anonymously
from devstack.stack import (
    COMMANDS_TOPIC,
    EVENTS_TOPIC,
    FLUSH_QUEUE_COUNT,
    FLUSH_QUEUE_PREFIX,
    PROJECT_ID,
    TASKS_LOCATION,
    Stack,
    running_stack,
)
from vocabquiz.protocol.envelope import commands_from_message

RIGHT = "right"
OPTIONS = [RIGHT, "wrong", "other", "none"]
CORRECT_SHARE = 0.7
MAX_QUIZ_QUESTIONS = 200  # the quiz file schema's limit
LEADERBOARD_PREFIX = '{"type":"LEADERBOARD_UPDATED"'
VERSION = re.compile(r'"version":(-?\d+)')
CHAOS = frozenset({"kill", "freeze", "gateway", "flush"})
LOGGED = ("on_command", "flush_leaderboard", "advance_question", "sessions_api", "gateway")


def oracle_points(is_correct: bool, time_taken_ms: int) -> int:
    """The scoring rule, written out independently of quiz.scoring (10 points a question)."""
    return 10 + max(0, 5 - time_taken_ms // 2000) if is_correct else 0


# -- options and plan ---------------------------------------------------------------------


@dataclass
class Options:
    answers: int = 300
    players: int = 25  # per session
    max_questions: int = 100  # per session; more sessions run side by side beyond it
    time_limit_s: int = 20  # the host moves on as soon as every answer is scored
    seed: int = 7
    copies: int = 2  # extra publishes of every command
    late_copy_share: float = 0.03  # copies held back until long after their question closed
    fail_after_commit: float = 0.2
    # kill: on_command SIGKILLed and restarted; freeze: emulators SIGSTOPped; gateway: one
    # SIGKILLed; flush: flush tasks delivered twice. (Copies and 500s have their own knobs.)
    chaos: frozenset[str] = CHAOS
    freeze_s: float = 3.0
    score_timeout_s: float = 90.0
    progress: bool = True

    def plan(self) -> tuple[int, int]:
        """(sessions, questions per session) covering at least `answers` answers."""
        questions = max(1, math.ceil(self.answers / self.players))
        per_session = min(self.max_questions, MAX_QUIZ_QUESTIONS)
        sessions = math.ceil(questions / per_session)
        return sessions, math.ceil(questions / sessions)


# -- what the bots record -----------------------------------------------------------------


@dataclass
class AnswerRecord:
    uid: str
    session_id: str
    index: int
    question_id: str
    message_id: str
    answer: str
    intended_correct: bool
    started_at_ms: int
    sent_at_ms: int = 0
    scored_after_ms: float | None = None  # the bot's first SCORE_UPDATED, after sending
    # False when the bot could not send on its schedule (late QUESTION_STARTED): no timing check.
    on_schedule: bool = True
    acked: bool = False
    resent: int = 0
    error: str | None = None
    scores: list[dict[str, Any]] = field(default_factory=list)
    score_message_ids: list[str] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event, repr=False)


class Bot:
    """One player on one socket, reconnecting to another gateway when its own dies."""

    def __init__(self, ledger: Ledger, index: int, uid: str, token: str, session_id: str, url: str) -> None:
        self.ledger = ledger
        self.index = index
        self.uid = uid
        self.token = token
        self.session_id = session_id
        self.url = url
        self.name = f"ledger{index}"
        self.ws: ClientConnection | None = None
        self.reader: asyncio.Task[None] | None = None
        self.closing = False
        self.connected = asyncio.Event()
        self.joined = asyncio.Event()
        self.records: dict[str, AnswerRecord] = {}  # by question id
        self.by_message_id: dict[str, AnswerRecord] = {}
        self.outbox: dict[str, str] = {}  # message_id -> encoded frame, until ACKed
        self.started: dict[int, dict[str, Any]] = {}
        self.started_event: defaultdict[int, asyncio.Event] = defaultdict(asyncio.Event)
        self.versions: list[tuple[int, int]] = []  # (version, socket number)
        self.ended: dict[str, Any] | None = None
        self.ended_event = asyncio.Event()
        self.reconnects = 0
        self.new_scores: list[int] = []  # every SCORE_UPDATED's new_score, as it arrived
        self.frame_counts: Counter[str] = Counter()
        self.other_errors: Counter[str] = Counter()

    # -- socket ---------------------------------------------------------------------------

    async def connect(self) -> None:
        deadline = time.monotonic() + 60
        while True:
            try:
                self.ws = await connect(
                    self.url,
                    additional_headers={"Authorization": f"Bearer {self.token}"},
                    compression=None,
                    proxy=None,
                    max_size=None,
                    open_timeout=10,
                )
                break
            except (OSError, InvalidHandshake, TimeoutError):
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)
        self.reader = asyncio.create_task(self._read(self.ws))
        self.connected.set()

    async def _read(self, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in ws:
                text = raw if isinstance(raw, str) else raw.decode()
                if text.startswith(LEADERBOARD_PREFIX):  # ~10 a second: read the version only
                    found = VERSION.search(text)
                    self.frame_counts["LEADERBOARD_UPDATED"] += 1
                    self.versions.append((int(found.group(1)) if found else -1, self.reconnects))
                    continue
                self.on_frame(json.loads(text))
        if not self.closing and ws is self.ws:
            self.connected.clear()
            self.ledger.spawn(self._reconnect())

    async def _reconnect(self) -> None:
        """Another gateway, REJOIN, then everything not yet acknowledged (same message ids)
        and every answer whose score this bot has not seen (the function replays it)."""
        self.reconnects += 1
        self.url = self.ledger.failover_url
        self.joined.clear()
        await self.connect()
        while not self.joined.is_set():
            await self._send_now(self._frame("REJOIN", {"session_id": self.session_id}, uuid.uuid4().hex))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.joined.wait(), 15)
        for message_id, data in list(self.outbox.items()):
            record = self.by_message_id.get(message_id)
            if record is not None:
                record.resent += 1
            await self._send_now(data)
        for record in self.records.values():
            if record.acked and not record.scores and record.error is None:
                record.resent += 1
                await self._send_now(self._answer_frame(record))

    async def _send_now(self, data: str) -> None:
        ws = self.ws
        if ws is None:
            return
        with contextlib.suppress(ConnectionClosed):
            await ws.send(data)  # a frame lost here is still in the outbox: resent on reconnect

    def _frame(self, frame_type: str, payload: dict[str, Any], message_id: str) -> str:
        return json.dumps({"type": frame_type, "payload": payload, "message_id": message_id})

    def _answer_frame(self, record: AnswerRecord) -> str:
        payload = {"session_id": self.session_id, "question_id": record.question_id, "answer": record.answer}
        return self._frame("SUBMIT_ANSWER", payload, record.message_id)

    async def send(self, data: str, message_id: str) -> None:
        self.outbox[message_id] = data
        await self.connected.wait()
        await self._send_now(data)

    async def close(self) -> None:
        self.closing = True
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 5)
        if self.reader is not None:
            await asyncio.gather(self.reader, return_exceptions=True)

    # -- frames ---------------------------------------------------------------------------

    def on_frame(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type", "")
        payload = frame.get("payload") or {}
        self.frame_counts[kind] += 1
        if kind == "ACK":
            message_id = str(payload.get("message_id"))
            self.outbox.pop(message_id, None)
            record = self.by_message_id.get(message_id)
            if record is not None:
                record.acked = True
        elif kind == "SCORE_UPDATED":
            self.new_scores.append(int(payload.get("new_score", -1)))
            record = self.records.get(payload.get("question_id", ""))
            if record is not None:
                if not record.scores:
                    record.scored_after_ms = time.time() * 1000 - record.sent_at_ms
                record.scores.append(payload)
                record.score_message_ids.append(frame.get("message_id", ""))
                record.done.set()
            else:
                self.other_errors["SCORE_UPDATED for no answer of ours"] += 1
        elif kind == "ERROR":
            record = self.by_message_id.get(frame.get("message_id", ""))
            if record is not None:
                record.error = payload.get("code")
                record.done.set()
                self.outbox.pop(record.message_id, None)
            else:
                self.other_errors[str(payload.get("code"))] += 1
        elif kind == "QUESTION_STARTED":
            index = payload["index"]
            self.started.setdefault(index, payload)
            self.started_event[index].set()
        elif kind == "LEADERBOARD_UPDATED":
            self.versions.append((payload["version"], self.reconnects))
        elif kind == "SESSION_JOINED":
            self.joined.set()
        elif kind == "SESSION_ENDED":
            self.ended = payload
            self.ended_event.set()

    # -- play -----------------------------------------------------------------------------

    async def join(self) -> None:
        message_id = uuid.uuid4().hex
        frame = self._frame(
            "JOIN_SESSION", {"session_id": self.session_id, "username": self.name}, message_id
        )
        await self.send(frame, message_id)
        await asyncio.wait_for(self.joined.wait(), 60)

    async def play(self, questions: int, rng: random.Random) -> None:
        for index in range(questions):
            await asyncio.wait_for(self.started_event[index].wait(), 600)
            started = self.started[index]
            question_id = started["question"]["question_id"]
            started_at_ms = _parse_ms(started["started_at"])
            # Some questions earn the full bonus, some one point less; sends keep clear of
            # the 2 s steps so that a bot's own clock can check the server's verdict.
            bucket = 1 if index % 5 == 4 else 0
            target_ms = started_at_ms + bucket * 2000 + rng.uniform(300, 1700)
            delay_s = (target_ms - time.time() * 1000) / 1000
            on_schedule = delay_s > 0
            if on_schedule:
                await asyncio.sleep(delay_s)
            correct = rng.random() < CORRECT_SHARE
            record = AnswerRecord(
                uid=self.uid,
                session_id=self.session_id,
                index=index,
                question_id=question_id,
                message_id=uuid.uuid4().hex,
                answer=RIGHT if correct else rng.choice(OPTIONS[1:]),
                intended_correct=correct,
                started_at_ms=started_at_ms,
                on_schedule=on_schedule,
            )
            self.records[question_id] = record
            self.by_message_id[record.message_id] = record
            record.sent_at_ms = int(time.time() * 1000)
            await self.send(self._answer_frame(record), record.message_id)
            self.ledger.answered[(self.session_id, index)] += 1


def _parse_ms(text: str) -> int:
    from vocabquiz.protocol import parse_timestamp_ms

    return parse_timestamp_ms(text)


# -- duplicated commands ------------------------------------------------------------------


class Duplicator:
    """Sees every command on quiz-commands (its own pull subscription) and publishes each
    one of the ledger's sessions `copies` more times with the same data and attributes."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        copies: int,
        late_share: float,
        rng: random.Random,
        sessions: set[str],
    ) -> None:
        from google.cloud import pubsub_v1  # type: ignore[attr-defined,unused-ignore]

        self.loop = loop
        self.copies = copies
        self.late_share = late_share
        self.rng = rng
        self.sessions = sessions
        self.publisher = pubsub_v1.PublisherClient(
            batch_settings=pubsub_v1.types.BatchSettings(max_messages=100, max_latency=0.001)
        )
        self.subscriber = pubsub_v1.SubscriberClient()
        self.topic = self.publisher.topic_path(PROJECT_ID, COMMANDS_TOPIC)
        self.path = self.subscriber.subscription_path(
            PROJECT_ID, f"{COMMANDS_TOPIC}-ledger-{uuid.uuid4().hex[:8]}"
        )
        self.seen: set[tuple[bytes, tuple[tuple[str, str], ...]]] = set()
        # Client message id -> the connections that published it (more than one: a frame
        # whose ACK died with its gateway, published by it and again after the resend).
        self.connections: defaultdict[str, set[str]] = defaultdict(set)
        self.lock = threading.Lock()
        self.originals = 0
        self.published = 0
        self.failed = 0
        self.late = 0
        self.pending = 0
        self._future: Any = None

    def start(self) -> None:
        from google.cloud import pubsub_v1  # type: ignore[attr-defined,unused-ignore]

        self.subscriber.create_subscription(name=self.path, topic=self.topic, ack_deadline_seconds=30)
        self._future = self.subscriber.subscribe(
            self.path, self._on_message, flow_control=pubsub_v1.types.FlowControl(max_messages=2000)
        )

    def stop(self) -> None:
        if self._future is not None:
            self._future.cancel()
            with contextlib.suppress(Exception):
                self._future.result(timeout=5)
        with contextlib.suppress(Exception):
            self.subscriber.delete_subscription(subscription=self.path, timeout=10)

    def _on_message(self, message: Any) -> None:
        """A message is a command or the gateway's batch of one session's commands: the
        whole message is published again (as Pub/Sub redelivers it), and counted per command."""
        attributes = dict(message.attributes)
        key = (bytes(message.data), tuple(sorted(attributes.items())))
        try:
            commands, _ = commands_from_message(bytes(message.data), attributes)
        except (ValueError, KeyError, TypeError):
            commands = []
        ours = [c for c in commands if c.session_id in self.sessions]
        with self.lock:
            fresh = key not in self.seen and bool(ours)
            if fresh:
                for command in ours:
                    self.connections[str(command.frame.get("message_id"))].add(command.connection_id)
                self.seen.add(key)
                self.originals += len(ours)
                delays = [0.0] + [self._delay() for _ in range(self.copies - 1)]
                self.pending += len(delays[: self.copies])
        if fresh:
            for delay in delays[: self.copies]:
                self.loop.call_soon_threadsafe(
                    self._schedule, delay, bytes(message.data), attributes, len(ours)
                )
        message.ack()

    def _delay(self) -> float:
        if self.rng.random() < self.late_share:
            self.late += 1
            return self.rng.uniform(6, 10)  # long after the question closed
        return self.rng.uniform(0, 1.5)

    def _schedule(self, delay: float, data: bytes, attributes: dict[str, str], commands: int) -> None:
        self.loop.call_later(delay, self._publish, data, attributes, commands)

    def _publish(self, data: bytes, attributes: dict[str, str], commands: int) -> None:
        future = self.publisher.publish(self.topic, data, **attributes)

        def done(f: Any) -> None:
            with self.lock:
                self.pending -= 1
                if f.exception() is None:
                    self.published += commands
                else:
                    self.failed += 1

        future.add_done_callback(done)


# -- the run ------------------------------------------------------------------------------


@dataclass
class FaultLog:
    on_command_kills: int = 0
    firestore_freezes: int = 0
    pubsub_freezes: int = 0
    gateway_kills: int = 0
    flush_task_copies: int = 0
    flush_direct_calls: int = 0
    events: list[str] = field(default_factory=list)


class Ledger:
    def __init__(self, stack: Stack, options: Options) -> None:
        self.stack = stack
        self.options = options
        self.rng = random.Random(options.seed)
        self.faults = FaultLog()
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
        try:
            quiz_id = await asyncio.to_thread(_seed_quiz, questions, options.time_limit_s)
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
            chaos = asyncio.create_task(self._chaos(gateway_child, gateway_id, questions))
            flushes = asyncio.create_task(self._duplicate_flushes())
            try:
                await asyncio.gather(
                    *(self._host_session(host, sid, questions) for sid in self.sessions),
                    *(
                        bot.play(questions, random.Random(options.seed * 1000 + bot.index))
                        for bot in self.bots
                    ),
                )
            finally:
                for task in (chaos, flushes):
                    task.cancel()
                await asyncio.gather(chaos, flushes, return_exceptions=True)
            await asyncio.gather(
                *(asyncio.wait_for(b.ended_event.wait(), 60) for b in self.bots), return_exceptions=True
            )
            await self._settle(duplicator)
            report = await asyncio.to_thread(self._check, questions, duplicator)
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

    async def _host_session(self, host: Host, session_id: str, questions: int) -> None:
        bots = [b for b in self.bots if b.session_id == session_id]
        await self._host_call(host, "POST", f"/api/v1/sessions/{session_id}/start")
        self.opened[session_id] = 0
        for index in range(questions):
            deadline = time.monotonic() + self.options.score_timeout_s
            while self.answered[(session_id, index)] < len(bots) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            pending = [b.records[q].done.wait() for b in bots for q in _qid(b, index)]
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

    # -- faults ---------------------------------------------------------------------------

    def _progress(self, questions: int) -> float:
        if not self.opened or len(self.opened) < len(self.sessions):
            return 0.0
        return min(self.opened.values()) / questions

    async def _at(self, fraction: float, questions: int) -> None:
        while self._progress(questions) < fraction:
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.8)  # answers in flight

    async def _chaos(self, gateway_child: Any, gateway_id: str, questions: int) -> None:
        chaos = self.options.chaos
        log = self.faults
        if "kill" in chaos:
            await self._at(0.12, questions)
            self._note("SIGKILL on_command, restart")
            await asyncio.to_thread(self.stack.restart, "on_command")
            log.on_command_kills += 1
        if "freeze" in chaos:
            await self._at(0.3, questions)
            self._note(f"SIGSTOP firestore for {self.options.freeze_s:.0f} s")
            async with self._frozen("firestore"):
                await asyncio.sleep(self.options.freeze_s)
            log.firestore_freezes += 1
            await self._at(0.45, questions)
            self._note(f"SIGSTOP pubsub for {self.options.freeze_s:.0f} s")
            async with self._frozen("pubsub"):
                await asyncio.sleep(self.options.freeze_s)
            log.pubsub_freezes += 1
        if "gateway" in chaos:
            # Pub/Sub frozen first, so frames are in flight, not yet acknowledged, when the
            # gateway dies: its players resend them elsewhere under the same message_id.
            await self._at(0.6, questions)
            self._note(f"SIGSTOP pubsub; 1 s later SIGKILL gateway {gateway_id}; SIGCONT pubsub 2 s after")
            async with self._frozen("pubsub"):
                await asyncio.sleep(1.0)
                os.killpg(gateway_child.process.pid, signal.SIGKILL)
                await asyncio.to_thread(gateway_child.process.wait)
                await asyncio.sleep(2.0)
            log.pubsub_freezes += 1
            log.gateway_kills += 1
            await asyncio.to_thread(_delete_gateway_subscription, gateway_id)
        if "kill" in chaos and "freeze" in chaos:
            await self._at(0.75, questions)
            self._note("SIGKILL on_command during a Firestore freeze, restart")
            async with self._frozen("firestore"):
                await asyncio.to_thread(self.stack.restart, "on_command")
                await asyncio.sleep(1)
            log.on_command_kills += 1
            log.firestore_freezes += 1

    def _note(self, what: str) -> None:
        self.faults.events.append(f"{self._elapsed()} {what}")
        self.say(f"fault: {what}")

    @contextlib.asynccontextmanager
    async def _frozen(self, name: str) -> AsyncIterator[None]:
        """The emulator's whole process group (the gcloud wrapper and its JVM) stopped."""
        pgid = self.stack.child(name).process.pid
        os.killpg(pgid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.killpg(pgid, signal.SIGCONT)

    async def _duplicate_flushes(self) -> None:
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
                    self.faults.flush_task_copies += await asyncio.to_thread(copy_pending)
                session_id = self.rng.choice(self.sessions)
                body = {"session_id": session_id, "window": int(time.time() * 10) - 5, "snapshot": False}
                for _ in range(2):
                    with contextlib.suppress(httpx.HTTPError):
                        await http.post(flush_url, json=body)
                        self.faults.flush_direct_calls += 1

    def _elapsed(self) -> str:
        return f"{time.monotonic() - self.t0:6.1f}s"

    async def _settle(self, duplicator: Duplicator | None) -> None:
        """Wait for held-back copies to go out and for Firestore to stop changing."""
        deadline = time.monotonic() + 120
        while duplicator is not None and duplicator.pending > 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        previous = None
        stable = 0
        while time.monotonic() < deadline and stable < 3:
            await asyncio.sleep(1.0)
            current = await asyncio.to_thread(self._fingerprint)
            stable = stable + 1 if current == previous else 0
            previous = current

    def _fingerprint(self) -> tuple[int, int]:
        db = _firestore()
        answers = scores = 0
        for session_id in self.sessions:
            ref = db.collection("sessions").document(session_id)
            answers += sum(1 for _ in ref.collection("answers").select([]).stream())
            scores += sum(
                int(d.get("score")) for d in ref.collection("participants").select(["score"]).stream()
            )
        return answers, scores

    # -- checker --------------------------------------------------------------------------

    def _check(self, questions: int, duplicator: Duplicator | None) -> Report:
        db = _firestore()
        report = Report(sessions=len(self.sessions), players=len(self.bots), questions=questions)
        records = {(r.uid, r.session_id, r.question_id): r for b in self.bots for r in b.records.values()}
        by_full_message_id = {f"{r.uid}/{r.message_id}": r for r in records.values()}
        counts = report.counts
        counts["answers sent"] = len(records)
        counts["acknowledged"] = sum(r.acked for r in records.values())
        counts["resent after reconnect (ACK lost or score unseen)"] = sum(
            r.resent > 0 for r in records.values()
        )
        if duplicator is not None:
            counts["  ... of which published by both gateways"] = sum(
                len(duplicator.connections.get(r.message_id, ())) > 1 for r in records.values()
            )
        counts["in doubt (never acknowledged)"] = sum(not r.acked for r in records.values())
        counts["refused with ERROR"] = sum(r.error is not None for r in records.values())
        docs: dict[tuple[str, str, str], dict[str, Any]] = {}
        participants: dict[tuple[str, str], dict[str, Any]] = {}
        timings: dict[tuple[str, str], int] = {}
        for session_id in self.sessions:
            ref = db.collection("sessions").document(session_id)
            session = ref.get().to_dict() or {}
            for qid, timing in (session.get("timings") or {}).items():
                timings[(session_id, qid)] = int(timing["started_at_ms"])
            for doc in ref.collection("answers").stream():
                data = doc.to_dict() or {}
                docs[(data["uid"], session_id, data["question_id"])] = data | {"doc_id": doc.id}
            for doc in ref.collection("participants").stream():
                participants[(session_id, doc.id)] = doc.to_dict() or {}
        counts["answer documents"] = len(docs)

        lost = unexpected = in_doubt_scored = missing_frame = 0
        doc_oracle = bot_verdict = bot_timing = conflicting = repeated_frames = 0
        for key, record in records.items():
            doc = docs.get(key)
            matches = doc is not None and doc.get("message_id") == f"{record.uid}/{record.message_id}"
            if record.acked and record.error is None and not matches:
                lost += 1
                report.examples.setdefault("lost", []).append(_describe(record, doc))
            if not record.acked and matches:
                in_doubt_scored += 1
            if matches and not record.scores:
                missing_frame += 1
                report.examples.setdefault("score frame missing", []).append(_describe(record, doc))
            verdicts = {(s["points_earned"], s["is_correct"], s["new_score"]) for s in record.scores}
            if len(verdicts) > 1:
                conflicting += 1
                report.examples.setdefault("conflicting verdicts", []).append(_describe(record, doc))
            repeated_frames += len(record.score_message_ids) - len(set(record.score_message_ids))
            if record.scores:
                first = record.scores[0]
                if first["is_correct"] != record.intended_correct or (
                    doc is not None and first["points_earned"] != doc["points"]
                ):
                    bot_verdict += 1
                    report.examples.setdefault("bot verdict", []).append(_describe(record, doc))
                if record.on_schedule and record.resent == 0:
                    expected = oracle_points(
                        record.intended_correct, record.sent_at_ms - record.started_at_ms
                    )
                    # The gateway stamps its receive time a little after the bot's send.
                    if first["points_earned"] not in (
                        expected,
                        expected - 1 if record.intended_correct else 0,
                    ):
                        bot_timing += 1
                        report.examples.setdefault("bot timing", []).append(_describe(record, doc))
        for key, doc in docs.items():
            owner = by_full_message_id.get(doc.get("message_id", ""))
            if owner is None or (owner.uid, owner.session_id, owner.question_id) != key:
                unexpected += 1
                report.examples.setdefault("unexpected", []).append(str(doc))
            started = timings.get((key[1], key[2]))
            correct = doc["answer"].strip().lower() == RIGHT
            if (
                doc["is_correct"] != correct
                or started is None
                or doc["time_taken_ms"] != doc["received_at_ms"] - started
                or doc["points"] != oracle_points(correct, doc["time_taken_ms"])
            ):
                doc_oracle += 1
                report.examples.setdefault("document oracle", []).append(str(doc))

        duplicated = score_oracle = bot_score = standings = 0
        per_uid_docs: defaultdict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for (uid, session_id, _), doc in docs.items():
            per_uid_docs[(session_id, uid)].append(doc)
        for bot in self.bots:
            participant = participants.get((bot.session_id, bot.uid), {})
            mine = per_uid_docs[(bot.session_id, bot.uid)]
            score = int(participant.get("score", -1))
            if score != sum(d["points"] for d in mine) or participant.get("answered_count") != len(mine):
                duplicated += 1
                report.examples.setdefault("duplicated", []).append(
                    f"{bot.uid}: score {score}, answered {participant.get('answered_count')}, "
                    f"documents {len(mine)} worth {sum(d['points'] for d in mine)}"
                )
            if score != sum(
                oracle_points(d["answer"].strip().lower() == RIGHT, d["time_taken_ms"]) for d in mine
            ):
                score_oracle += 1
            seen = [r.scores[0] for r in sorted(bot.records.values(), key=lambda r: r.index) if r.scores]
            running, chain_ok = 0, True
            for s in seen:
                running += s["points_earned"]
                chain_ok = chain_ok and s["new_score"] == running
            if score != sum(s["points_earned"] for s in seen) or not chain_ok:
                bot_score += 1
                pairs = [(s["points_earned"], s["new_score"]) for s in seen]
                report.examples.setdefault("bot score", []).append(
                    f"{bot.uid}: stored {score}, bot saw {pairs}"
                )
            if bot.ended is not None:
                final = {e["user_id"]: e["score"] for e in bot.ended["standings"]}
                if final.get(bot.uid) != score:
                    standings += 1
        counts["lost"] = lost
        counts["duplicated"] = duplicated
        counts["unexpected"] = unexpected
        counts["in doubt, scored once"] = in_doubt_scored
        counts["document verdict != oracle"] = doc_oracle
        counts["final score != oracle(documents)"] = score_oracle
        counts["final score != bots' SCORE_UPDATED"] = bot_score
        counts["bot verdict != stored verdict"] = bot_verdict
        counts["points outside the bot-clock oracle"] = bot_timing
        counts["conflicting SCORE_UPDATED for one answer"] = conflicting
        counts["acknowledged, scored, no SCORE_UPDATED"] = missing_frame
        counts["SESSION_ENDED standings != stored score"] = standings

        versions: Counter[str] = Counter()
        for bot in self.bots:
            first_socket: dict[int, int] = {}  # version -> the socket it first came on
            highest: dict[int, int] = {}  # socket -> the highest version it brought
            for version, socket_no in bot.versions:
                if version in first_socket:
                    same = first_socket[version] == socket_no
                    versions["seen twice" if same else "seen twice after reconnect"] += 1
                elif version < highest.get(socket_no, -1):
                    versions["going back"] += 1
                elif version < max(highest.values(), default=-1):
                    versions["going back after reconnect"] += 1
                first_socket.setdefault(version, socket_no)
                highest[socket_no] = max(highest.get(socket_no, -1), version)
        for name in ("seen twice", "going back", "seen twice after reconnect", "going back after reconnect"):
            counts[f"leaderboard version {name}"] = versions[name]
        counts["leaderboard frames"] = sum(len(b.versions) for b in self.bots)
        counts["SCORE_UPDATED repeats (same message_id)"] = repeated_frames
        counts["SCORE_UPDATED new_score lower than one seen before"] = sum(
            sum(1 for i, score in enumerate(b.new_scores) if score < max(b.new_scores[:i], default=0))
            for b in self.bots
        )
        counts["bots reconnected"] = sum(b.reconnects > 0 for b in self.bots)
        latencies = sorted(r.scored_after_ms for r in records.values() if r.scored_after_ms is not None)
        for q in (50, 95, 99):
            report.score_latency_ms[f"p{q}"] = (
                round(latencies[min(len(latencies) - 1, len(latencies) * q // 100)]) if latencies else -1
            )
        report.score_latency_ms["max"] = round(latencies[-1]) if latencies else -1
        counts["questions waiting > score timeout"] = self.slow_questions
        other = Counter[str]()
        for bot in self.bots:
            other.update(bot.other_errors)
        report.other_errors = dict(other)

        faults = report.faults
        if duplicator is not None:
            faults["commands seen"] = duplicator.originals
            faults["copies published"] = duplicator.published
            faults["copies held back 6-10 s"] = duplicator.late
            faults["copies failed"] = duplicator.failed
        faults["on_command 500s injected"] = self._logged("on_command", "injected fault")
        faults["on_command SIGKILL + restart"] = self.faults.on_command_kills
        faults["Firestore frozen"] = self.faults.firestore_freezes
        faults["Pub/Sub frozen"] = self.faults.pubsub_freezes
        faults["gateway SIGKILL"] = self.faults.gateway_kills
        faults["flush tasks copied"] = self.faults.flush_task_copies
        faults["flush called directly"] = self.faults.flush_direct_calls
        report.fault_events = list(self.faults.events)
        report.tracebacks = {name: self._logged(name, "Traceback") for name in LOGGED}
        return report


def _qid(bot: Bot, index: int) -> list[str]:
    return [r.question_id for r in bot.records.values() if r.index == index]


def _describe(record: AnswerRecord, doc: dict[str, Any] | None) -> str:
    return (
        f"{record.uid} {record.session_id}/{record.question_id} mid={record.message_id} acked={record.acked} "
        f"resent={record.resent} error={record.error} scores={record.scores[:2]} doc={doc}"
    )


# Each answer acknowledged to a client scored exactly once, as both oracles say.
ANSWER_INVARIANTS = (
    "lost",
    "duplicated",
    "unexpected",
    "document verdict != oracle",
    "final score != oracle(documents)",
    "final score != bots' SCORE_UPDATED",
    "bot verdict != stored verdict",
    "points outside the bot-clock oracle",
    "conflicting SCORE_UPDATED for one answer",
    "acknowledged, scored, no SCORE_UPDATED",
    "SESSION_ENDED standings != stored score",
)
# Each client sees every leaderboard version at most once, and never an older one.
LEADERBOARD_INVARIANTS = ("leaderboard version seen twice", "leaderboard version going back")
MUST_BE_ZERO = ANSWER_INVARIANTS + LEADERBOARD_INVARIANTS


@dataclass
class Report:
    sessions: int
    players: int
    questions: int
    counts: dict[str, int] = field(default_factory=dict)
    faults: dict[str, int] = field(default_factory=dict)
    fault_events: list[str] = field(default_factory=list)
    examples: dict[str, list[str]] = field(default_factory=dict)
    other_errors: dict[str, int] = field(default_factory=dict)
    tracebacks: dict[str, int] = field(default_factory=dict)
    score_latency_ms: dict[str, int] = field(default_factory=dict)  # answer sent -> SCORE_UPDATED
    seconds: float = 0.0

    def violations(self, keys: tuple[str, ...] = MUST_BE_ZERO) -> dict[str, int]:
        return {k: self.counts.get(k, 0) for k in keys if self.counts.get(k, 0)}

    def table(self) -> str:
        lines = [
            f"ledger: {self.sessions} session(s), {self.players} players, {self.questions} questions each, "
            f"{self.seconds:.0f} s",
            f"{'':48}{'count':>8}",
        ]
        lines += [
            f"{k:48}{v:8}{'  <-- must be 0' if k in MUST_BE_ZERO and v else ''}"
            for k, v in self.counts.items()
        ]
        lines.append(f"answer -> own SCORE_UPDATED (ms): {self.score_latency_ms}")
        lines.append("faults injected")
        lines += [f"  {k:46}{v:8}" for k, v in self.faults.items()]
        lines += [f"  {e}" for e in self.fault_events]
        if self.other_errors:
            lines.append(f"other ERROR frames: {self.other_errors}")
        lines.append(f"tracebacks in logs: {self.tracebacks}")
        for kind, examples in self.examples.items():
            lines.append(f"examples of {kind}:")
            lines += [f"  {e[:400]}" for e in examples[:3]]
        return "\n".join(lines)


# -- helpers ------------------------------------------------------------------------------


def _firestore() -> Any:
    from google.cloud import firestore

    return firestore.Client(project=PROJECT_ID)


def _seed_quiz(questions: int, time_limit_s: int) -> str:
    from vocabquiz.adapters.store import Store
    from vocabquiz.domain.quizfile import quiz_from_dict

    quiz = quiz_from_dict(
        {
            "id": f"ledger-{uuid.uuid4().hex[:8]}",
            "title": "Ledger quiz",
            "questions": [
                {
                    "id": f"q{i}",
                    "kind": "choice",
                    "text": f"Question {i}",
                    "options": OPTIONS,
                    "accepted": [RIGHT],
                    "time_limit_s": time_limit_s,
                }
                for i in range(questions)
            ],
        }
    )
    Store(_firestore()).save_quiz(quiz)
    return quiz.id


def _delete_gateway_subscription(gateway_id: str) -> None:
    """A SIGKILLed gateway cannot delete its own quiz-events subscription."""
    from google.cloud import pubsub_v1  # type: ignore[attr-defined,unused-ignore]

    subscriber = pubsub_v1.SubscriberClient()
    with contextlib.suppress(Exception):
        subscriber.delete_subscription(
            subscription=subscriber.subscription_path(PROJECT_ID, f"{EVENTS_TOPIC}-gw-{gateway_id}"),
            timeout=10,
        )


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
    """One ledger run on a running stack (its on_command is restarted with QUIZ_FAULTS for
    the run, and restarted without them afterwards)."""
    return await Ledger(stack, options).run()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    defaults = Options()
    parser.add_argument("--answers", type=int, default=defaults.answers)
    parser.add_argument("--players", type=int, default=defaults.players, help="per session")
    parser.add_argument("--max-questions", type=int, default=defaults.max_questions, help="per session")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--copies", type=int, default=defaults.copies, help="extra publishes per command")
    parser.add_argument("--fail-after-commit", type=float, default=defaults.fail_after_commit)
    parser.add_argument("--freeze", type=float, default=defaults.freeze_s, help="seconds per emulator freeze")
    parser.add_argument(
        "--chaos",
        default=",".join(sorted(CHAOS)),
        help=f"comma-separated, from {','.join(sorted(CHAOS))}, or 'none'",
    )
    parser.add_argument("--json", type=Path, help="write the report here")
    args = parser.parse_args()
    chaos = frozenset() if args.chaos == "none" else frozenset(args.chaos.split(","))
    if chaos - CHAOS:
        parser.error(f"unknown chaos: {', '.join(sorted(chaos - CHAOS))}")
    options = Options(
        answers=args.answers,
        players=args.players,
        max_questions=args.max_questions,
        seed=args.seed,
        copies=args.copies,
        fail_after_commit=args.fail_after_commit,
        freeze_s=args.freeze,
        chaos=chaos,
    )
    started = time.monotonic()
    print("Starting a local stack ...", flush=True)
    with running_stack() as stack:
        print(f"  stack up in {time.monotonic() - started:.0f} s (logs: {stack.log_dir})", flush=True)
        report = asyncio.run(Ledger(stack, options).run())
    print(report.table())
    if args.json:
        args.json.write_text(json.dumps(asdict(report), indent=2, default=str))
    violations = report.violations()
    if violations:
        print(f"FAILED: {violations}")
        sys.exit(1)
    print("OK: every acknowledged answer scored exactly once")


if __name__ == "__main__":
    main()
