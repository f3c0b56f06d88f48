"""A bot swarm: N players in S sessions play Q questions and measure what players feel,
from worker processes of their own (load from loopback only).

    python -m bots.swarm --players 200 --sessions 1 --questions 3   # against `make run`

`make bench` (tools/bench/e2e) drives the same swarm up a ladder of player counts, against the
local stack and against an in-memory python-socketio server. Bots speak the quiz
protocol over a bare WebSocket (`gateway`) or over Socket.IO (`socketio`, frames as the
payload of a "frame" event), stamp every frame with the wall clock on arrival, and decode
only what they measure: a leaderboard is matched by its first bytes, never parsed.

Per answer: sent, ACK, own SCORE_UPDATED (and the server stamps in them: the gateway's
receive time, the function's commit time), first LEADERBOARD_UPDATED of a window at or
after the commit; per question: QUESTION_STARTED arrival per player; per session: when
each leaderboard version first arrived.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing
import os
import queue
import random
import re
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Origin

from bots.tokens import unsigned_id_token
from vocabquiz.protocol import parse_timestamp_ms

GATEWAY, SOCKETIO = "gateway", "socketio"
CORRECT_SHARE = 0.7
FLUSH_WINDOW_MS = 100
# A leaderboard's version and stamp sit in its first bytes, whichever server sent it.
_BOARD_VERSION = re.compile(r'"version":\s*(\d+)')
_TIMESTAMP = re.compile(r'"timestamp":\s*"([^"]+)"')
_SIO_FRAME = '42["frame",'


@dataclass(frozen=True)
class Plan:
    """What every worker process needs to play its slice of the players."""

    transport: str  # GATEWAY or SOCKETIO
    ws_url: str
    origin: str | None
    session_ids: list[str]
    questions: int
    time_limit_s: float
    seed: int
    run_id: str


def answer_delay_s(rng: random.Random, time_limit_s: float) -> float:
    """When a player answers: log-normal, median 2.5 s, most within 1.2-5 s (a few
    fast clickers, a long tail of ponderers), never after the deadline."""
    return min(max(0.3, rng.lognormvariate(math.log(2.5), 0.45)), time_limit_s - 0.7)


def bot_name(number: int) -> str:
    """A display name from digits and letters no filter reads as a word ("bot 455" is
    refused: 455 reads as "ass" in leetspeak)."""
    alphabet, code = "2689zqv", ""
    while True:
        number, digit = divmod(number, len(alphabet))
        code = alphabet[digit] + code
        if not number:
            return f"bot {code}"


@dataclass
class Answer:
    index: int
    sent: float
    message_id: str
    ack_at: float = math.nan
    ack_ts_ms: float = math.nan
    score_at: float = math.nan
    score_ts_ms: float = math.nan
    time_taken_ms: float = math.nan


class Socket(Protocol):
    async def send_frame(self, frame: dict[str, Any]) -> None: ...
    def frames(self) -> AsyncIterator[str]: ...
    async def close(self) -> None: ...


class GatewaySocket:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def send_frame(self, frame: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(frame, separators=(",", ":")))

    async def frames(self) -> AsyncIterator[str]:
        async for message in self.ws:
            yield message if isinstance(message, str) else message.decode()

    async def close(self) -> None:
        await self.ws.close()


class SocketIOSocket:
    """The few Engine.IO/Socket.IO packets a bot needs: open, namespace connect with the
    token, ping -> pong, and events named "frame" carrying one quiz frame each."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    @classmethod
    async def open(cls, ws: ClientConnection, token: str) -> SocketIOSocket:
        opening = await ws.recv()
        if not str(opening).startswith("0"):
            raise ConnectionError(f"not an Engine.IO open packet: {str(opening)[:60]}")
        await ws.send("40" + json.dumps({"token": token}))
        while not str(reply := await ws.recv()).startswith("40"):
            if str(reply).startswith("44"):
                raise ConnectionError(f"Socket.IO connect refused: {reply!s:.80}")
        return cls(ws)

    async def send_frame(self, frame: dict[str, Any]) -> None:
        await self.ws.send("42" + json.dumps(["frame", frame], separators=(",", ":")))

    async def frames(self) -> AsyncIterator[str]:
        async for message in self.ws:
            text = message if isinstance(message, str) else message.decode()
            if text.startswith(_SIO_FRAME):
                yield text[len(_SIO_FRAME) : -1]
            elif text == "2":
                await self.ws.send("3")

    async def close(self) -> None:
        await self.ws.close()


async def open_socket(plan: Plan, uid: str) -> Socket:
    token = unsigned_id_token(uid, expires_in_s=3 * 3600)
    if plan.transport == SOCKETIO:
        ws = await connect(plan.ws_url, compression=None, max_size=None, ping_interval=None)
        return await SocketIOSocket.open(ws, token)
    origin = Origin(plan.origin) if plan.origin else None
    ws = await connect(
        plan.ws_url,
        additional_headers={"Authorization": f"Bearer {token}"},
        origin=origin,
        compression=None,
        max_size=None,
    )
    return GatewaySocket(ws)


@dataclass
class Bot:
    """One player: reads every frame, stamps it, keeps only what the measures need."""

    number: int
    session_id: str
    socket: Socket
    joined: asyncio.Event = field(default_factory=asyncio.Event)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    started: dict[int, asyncio.Future[tuple[float, dict[str, Any]]]] = field(default_factory=dict)
    answers: dict[str, Answer] = field(default_factory=dict)  # by question id
    by_message: dict[str, Answer] = field(default_factory=dict)
    boards: list[tuple[float, int, str]] = field(default_factory=list)  # arrival, version, stamp
    errors: Counter[str] = field(default_factory=Counter)
    reader: asyncio.Task[None] | None = None
    refused: bool = False

    def question(self, index: int) -> asyncio.Future[tuple[float, dict[str, Any]]]:
        if index not in self.started:
            self.started[index] = asyncio.get_running_loop().create_future()
        return self.started[index]

    async def read(self) -> None:
        with contextlib.suppress(Exception):
            async for text in self.socket.frames():
                self.on_frame(text, time.time())
        self.ended.set()

    def on_frame(self, text: str, at: float) -> None:
        head = text[:40]
        if head.startswith('{"type":"LEADERBOARD_UPDATED"'):
            version, stamp = _BOARD_VERSION.search(text, 0, 400), _TIMESTAMP.search(text, 0, 200)
            if version and stamp:
                self.boards.append((at, int(version.group(1)), stamp.group(1)))
            return
        frame = json.loads(text)
        kind, payload = frame["type"], frame["payload"]
        if kind == "ACK":
            answer = self.by_message.get(payload["message_id"])
            if answer is not None:
                answer.ack_at, answer.ack_ts_ms = at, parse_timestamp_ms(frame["timestamp"])
        elif kind == "SCORE_UPDATED":
            answer = self.answers.get(payload["question_id"])
            if answer is not None and math.isnan(answer.score_at):
                answer.score_at, answer.score_ts_ms = at, parse_timestamp_ms(frame["timestamp"])
                answer.time_taken_ms = payload["time_taken_ms"]
        elif kind == "QUESTION_STARTED":
            future = self.question(payload["index"])
            if not future.done():
                future.set_result((at, payload))
        elif kind == "SESSION_JOINED":
            self.joined.set()
        elif kind == "SESSION_ENDED":
            self.ended.set()
        elif kind == "ERROR":
            self.errors[f"ERROR {payload['code']}"] += 1
            if not self.joined.is_set():  # refused at the door: sit the game out
                self.refused = True
                self.joined.set()

    async def play(self, plan: Plan, rng: random.Random, progress: Counter[str]) -> None:
        if self.refused:
            return
        for index in range(plan.questions):
            try:
                _, payload = await asyncio.wait_for(self.question(index), plan.time_limit_s + 180)
            except TimeoutError:
                self.errors["no QUESTION_STARTED"] += 1
                return
            await asyncio.sleep(answer_delay_s(rng, plan.time_limit_s))
            right = rng.random() < CORRECT_SHARE
            qid = payload["question"]["question_id"]
            answer = Answer(index, time.time(), uuid.uuid4().hex)
            self.answers[qid] = self.by_message[answer.message_id] = answer
            await self.socket.send_frame(
                {
                    "type": "SUBMIT_ANSWER",
                    "payload": {
                        "session_id": self.session_id,
                        "question_id": qid,
                        "answer": "right" if right else rng.choice(["wrong", "other", "none"]),
                    },
                    "message_id": answer.message_id,
                }
            )
            progress["sent"] += 1

    def results(self) -> dict[str, Any]:
        """Plain data for the parent: per answer, its times and its first leaderboard."""
        boards = sorted(self.boards)
        starts = {
            index: (future.result()[0], parse_timestamp_ms(future.result()[1]["started_at"]))
            for index, future in self.started.items()
            if future.done()
        }
        rows = []
        for answer in self.answers.values():
            row = {
                "session": self.session_id,
                "index": answer.index,
                "sent": answer.sent,
                "ack_at": answer.ack_at,
                "ack_ts_ms": answer.ack_ts_ms,
                "score_at": answer.score_at,
                "score_ts_ms": answer.score_ts_ms,
                "received_ms": starts[answer.index][1] + answer.time_taken_ms
                if answer.index in starts
                else math.nan,
                "board_at": math.nan,
                "board_ts_ms": math.nan,
            }
            if not math.isnan(answer.score_ts_ms):
                window = int(answer.score_ts_ms) // FLUSH_WINDOW_MS
                board = next((b for b in boards if b[1] >= window and b[0] >= answer.sent), None)
                if board is not None:
                    row["board_at"], row["board_ts_ms"] = board[0], parse_timestamp_ms(board[2])
            rows.append(row)
        versions = [b[1] for b in self.boards]
        if versions != sorted(set(versions)):
            self.errors["leaderboard versions repeated or out of order"] += 1
        return {
            "answers": rows,
            "starts": [(self.session_id, index, at) for index, (at, _) in starts.items()],
            "boards": [(self.session_id, version, at) for at, version, _ in self.boards],
            "errors": dict(self.errors),
        }


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
            await bot.socket.send_frame(
                {
                    "type": "JOIN_SESSION",
                    "payload": {"session_id": session_id, "username": bot_name(number)},
                    "message_id": uuid.uuid4().hex,
                }
            )
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


def make_quiz(questions: int, time_limit_s: int) -> dict[str, Any]:
    return {
        "id": f"swarm-{uuid.uuid4().hex[:8]}",
        "title": "Swarm quiz",
        "questions": [
            {
                "id": f"q{i}",
                "kind": "choice",
                "text": f"Question {i}",
                "options": ["right", "wrong", "other", "none"],
                "accepted": ["right"],
                "time_limit_s": time_limit_s,
            }
            for i in range(questions)
        ],
    }


async def create_sessions(
    api_url: str, host_uid: str, quiz: dict[str, Any], sessions: int, max_participants: int
) -> list[str]:
    """Upload the quiz and create the sessions through the host API (auto-advance on)."""
    headers = {"Authorization": f"Bearer {unsigned_id_token(host_uid)}"}
    async with httpx.AsyncClient(base_url=api_url, headers=headers, timeout=30) as http:
        (await http.post("/api/v1/quizzes", content=json.dumps(quiz))).raise_for_status()
        ids = []
        for _ in range(sessions):
            body = {"quiz_id": quiz["id"], "auto_advance": True, "max_participants": max_participants}
            response = await http.post("/api/v1/sessions", json=body)
            response.raise_for_status()
            ids.append(response.json()["session_id"])
        return ids


async def start_sessions(api_url: str, host_uid: str, session_ids: list[str]) -> None:
    headers = {"Authorization": f"Bearer {unsigned_id_token(host_uid)}"}
    async with httpx.AsyncClient(base_url=api_url, headers=headers, timeout=30) as http:
        for session_id in session_ids:
            (await http.post(f"/api/v1/sessions/{session_id}/start")).raise_for_status()


async def run_against_local_stack(args: argparse.Namespace) -> dict[str, Any]:
    from devstack.stack import load_endpoints

    e = load_endpoints()
    quiz = make_quiz(args.questions, args.time_limit)
    host_uid = f"swarm-host-{uuid.uuid4().hex[:8]}"
    session_ids = await create_sessions(
        e["sessions_api"].url, host_uid, quiz, args.sessions, args.players + 1
    )
    plan = Plan(
        GATEWAY,
        f"ws://{e['gateway'].address}/ws",
        f"http://127.0.0.1:{e['gateway'].port}",
        session_ids,
        args.questions,
        args.time_limit,
        args.seed,
        uuid.uuid4().hex[:8],
    )
    swarm = Swarm(plan, args.players, args.workers or max(1, -(-args.players // 500)))
    print(f"Joining {args.players} players to {args.sessions} session(s) ...", flush=True)
    swarm.start()
    try:
        await swarm.wait_joined()
        await start_sessions(e["sessions_api"].url, host_uid, session_ids)
        return await swarm.play(args.players * args.questions, show=lambda line: print(line, flush=True))
    finally:
        swarm.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--players", type=int, default=200)
    parser.add_argument("--sessions", type=int, default=1)
    parser.add_argument("--questions", type=int, default=3)
    parser.add_argument("--time-limit", type=int, default=10, help="seconds per question")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, help="bot processes (default: one per 500 players)")
    parser.add_argument("--json", type=Path, help="write every measurement here")
    args = parser.parse_args()
    raw = asyncio.run(run_against_local_stack(args))
    from bench.e2e.stats import summarise_swarm

    summary = summarise_swarm(raw)
    for name, value in summary.items():
        print(f"{name:40} {value}")
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "raw": raw}, indent=1))
    sys.exit(0)


if __name__ == "__main__":
    main()
