"""One swarm player: reads every frame, stamps it on arrival, keeps only what the measures
need, answers each question after a human-like pause, and reports plain data."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import random
import re
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from bots.client import GameSocket, board_version_of
from bots.swarm.plan import SOCKETIO, Plan
from bots.swarm.socketio import SocketIOSocket
from bots.tokens import unsigned_id_token
from vocabquiz.protocol import parse_timestamp_ms

CORRECT_SHARE = 0.7
FLUSH_WINDOW_MS = 100
# A leaderboard's stamp sits in its first bytes, whichever server sent it.
_TIMESTAMP = re.compile(r'"timestamp":\s*"([^"]+)"')


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
    """A bot's connection: the game's (bots.client.GameSocket) or the baseline's."""

    async def send_frame(self, frame_type: str, payload: dict[str, Any], message_id: str) -> str: ...
    def texts(self) -> AsyncIterator[str]: ...
    async def close(self) -> None: ...


async def open_socket(plan: Plan, uid: str) -> Socket:
    token = unsigned_id_token(uid, expires_in_s=3 * 3600)
    if plan.transport == SOCKETIO:
        return await SocketIOSocket.open(plan.ws_url, token)
    return await GameSocket.open(plan.ws_url, token, plan.origin)


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
            async for text in self.socket.texts():
                self.on_frame(text, time.time())
        self.ended.set()

    def on_frame(self, text: str, at: float) -> None:
        version = board_version_of(text)
        if version is not None:
            stamp = _TIMESTAMP.search(text, 0, 200)
            if version >= 0 and stamp:
                self.boards.append((at, version, stamp.group(1)))
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

    async def join(self) -> None:
        payload = {"session_id": self.session_id, "username": bot_name(self.number)}
        await self.socket.send_frame("JOIN_SESSION", payload, uuid.uuid4().hex)

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
                "SUBMIT_ANSWER",
                {
                    "session_id": self.session_id,
                    "question_id": qid,
                    "answer": "right" if right else rng.choice(["wrong", "other", "none"]),
                },
                answer.message_id,
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
