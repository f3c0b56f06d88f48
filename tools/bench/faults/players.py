"""The ledger's players and the record of what each was told: one bot per socket that
answers on a schedule its own clock can check (well inside the time, or around the
deadline + grace, or around the host's early reveal), keeps every frame it has not seen
acknowledged and sends it again when no ACK comes, and after its gateway dies or drops it
reconnects to another and sends them again."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from websockets.exceptions import ConnectionClosed, InvalidHandshake

from bench.faults.options import (
    CORRECT_SHARE,
    DEADLINE,
    NORMAL,
    OPTIONS,
    REVEAL,
    RIGHT,
    early_reveal_ms,
    kind_of,
)
from bots.client import GameSocket, board_version_of, client_frame
from vocabquiz.domain.scoring import GRACE_MS
from vocabquiz.protocol import parse_timestamp_ms
from vocabquiz.protocol.frames import decode_server_frame, expand_presence

if TYPE_CHECKING:
    from bench.faults.ledger import Ledger


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
    kind: str = NORMAL
    deadline_ms: int = 0
    sent_at_ms: int = 0
    last_sent_at_ms: int = 0  # the last resend's time (0: never resent)
    acked_at_ms: int = 0  # when its first ACK arrived: the gateway had received a copy by then
    settled_at_ms: int = 0  # when its first SCORE_UPDATED or ERROR arrived
    scored_after_ms: float | None = None  # the bot's first SCORE_UPDATED, after sending
    acked: bool = False
    resent: int = 0
    error: str | None = None
    scores: list[dict[str, Any]] = field(default_factory=list)
    score_message_ids: list[str] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event, repr=False)


ACK_TIMEOUT_S = 2.0  # no ACK by then: the frame is sent again (same message_id)


class Bot:
    """One player on one socket, reconnecting to another gateway when its own dies."""

    def __init__(self, ledger: Ledger, index: int, uid: str, token: str, session_id: str, url: str) -> None:
        self.ledger, self.index, self.name = ledger, index, f"ledger{index}"
        self.uid, self.token, self.session_id, self.url = uid, token, session_id, url
        self.socket: GameSocket | None = None
        self.reader: asyncio.Task[None] | None = None
        self.closing = False
        self.connected = asyncio.Event()
        self.joined = asyncio.Event()
        self.records: dict[str, AnswerRecord] = {}  # by question id
        self.by_message_id: dict[str, AnswerRecord] = {}
        self.outbox: dict[str, tuple[str, float]] = {}  # message_id -> (frame, sent), until ACKed
        self.started: dict[int, dict[str, Any]] = {}
        self.new_start = asyncio.Event()  # a QUESTION_STARTED came
        self.skipped: list[int] = []  # questions whose QUESTION_STARTED never came, a later one did
        self.versions: list[tuple[int, int]] = []  # (version, socket number)
        self.ended: dict[str, Any] | None = None
        self.ended_event = asyncio.Event()
        self.reconnects = 0
        self.ack_timeouts = 0  # frames sent again because no ACK came
        self.dropped = 0  # sockets this bot dropped itself, REJOINing at once elsewhere
        self.question_ended_at: dict[int, int] = {}  # index -> when its QUESTION_ENDED came
        self.frame_ids: Counter[str] = Counter()  # event frames by message_id (leaderboards aside)
        self.new_scores: list[int] = []  # every SCORE_UPDATED's new_score, as it arrived
        self.frame_counts: Counter[str] = Counter()
        self.other_errors: Counter[str] = Counter()

    def question_ids(self, index: int) -> list[str]:
        return [r.question_id for r in self.records.values() if r.index == index]

    # -- socket ---------------------------------------------------------------------------

    async def connect(self, give_up_s: float | None = 60) -> None:
        """A socket on this bot's gateway; after a few refusals (it is going away), another's.
        A player who was in the game (`give_up_s` None) keeps trying, however loaded the
        machine: a bot that gave up would leave its question unanswered."""
        started = time.monotonic()
        for attempt in itertools.count(1):
            try:
                socket = await GameSocket.open(self.url, self.token)
                break
            except (OSError, InvalidHandshake, TimeoutError):
                if give_up_s is not None and time.monotonic() - started > give_up_s:
                    raise
                if attempt == 60:
                    self.other_errors["reconnect still failing after 60 attempts"] += 1
                await asyncio.sleep(0.5)
                if attempt % 3 == 0:
                    self.url = self.ledger.pick_gateway(self.url)
        self.socket = socket
        self.reader = asyncio.create_task(self._read(socket))
        self.connected.set()

    async def _read(self, socket: GameSocket) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for text in socket.texts():
                version = board_version_of(text)  # ~10 boards a second: the version only
                if version is not None:
                    self.frame_counts["LEADERBOARD_UPDATED"] += 1
                    self.versions.append((version, self.reconnects))
                    continue
                frame = decode_server_frame(text)
                if frame["type"] not in ("ACK", "ERROR", "PONG"):
                    self.frame_ids[
                        f"socket {self.reconnects}: {frame['type']} {frame.get('message_id')}"
                    ] += 1
                for each in expand_presence(frame) if frame["type"] == "PRESENCE_UPDATED" else [frame]:
                    self.on_frame(each)
        if not self.closing and socket is self.socket:
            self.connected.clear()
            self.ledger.spawn(self._reconnect())

    async def _reconnect(self) -> None:
        """Another gateway, REJOIN, then everything not yet acknowledged (same message ids)
        and every answer whose score this bot has not seen (the function replays it)."""
        self.reconnects += 1
        self.url = self.ledger.pick_gateway(self.url)
        self.joined.clear()
        await self.connect(give_up_s=None)
        while not self.joined.is_set():
            await self._send_now(client_frame("REJOIN", {"session_id": self.session_id}, uuid.uuid4().hex))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.joined.wait(), 15)
        for message_id, (data, _) in list(self.outbox.items()):
            await self._resend(message_id, data)
        for record in self.records.values():
            if record.acked and not record.scores and record.error is None:
                await self._resend(record.message_id, self._answer_frame(record))

    async def _resend(self, message_id: str, data: str) -> None:
        record = self.by_message_id.get(message_id)
        if record is not None:
            record.resent += 1
            record.last_sent_at_ms = int(time.time() * 1000)
        if message_id in self.outbox:
            self.outbox[message_id] = (data, time.monotonic())
        await self._send_now(data)

    async def resend_unacknowledged(self) -> None:
        """A frame with no ACK after ACK_TIMEOUT_S is sent again, as a client would: its
        publish's reply may have been lost. Runs until cancelled."""
        while True:
            await asyncio.sleep(ACK_TIMEOUT_S / 4)
            if not self.connected.is_set() or not self.joined.is_set():
                continue  # a reconnect sends the whole outbox anyway
            due = time.monotonic() - ACK_TIMEOUT_S
            for message_id, (data, sent) in list(self.outbox.items()):
                if sent < due:
                    self.ack_timeouts += 1
                    await self._resend(message_id, data)

    async def drop_and_rejoin(self) -> None:
        """The socket dropped under the player (no close handshake): the gateway publishes
        the disconnect while the player is already REJOINing at another gateway."""
        socket = self.socket
        if socket is None or not self.connected.is_set():
            return
        self.dropped += 1
        socket.ws.transport.abort()

    async def _send_now(self, data: str) -> None:
        socket = self.socket
        if socket is None:
            return
        with contextlib.suppress(ConnectionClosed):
            await socket.send(data)  # a frame lost here is still in the outbox: resent on reconnect

    def _answer_frame(self, record: AnswerRecord) -> str:
        payload = {"session_id": self.session_id, "question_id": record.question_id, "answer": record.answer}
        return client_frame("SUBMIT_ANSWER", payload, record.message_id)

    async def send(self, data: str, message_id: str) -> None:
        self.outbox[message_id] = (data, time.monotonic())
        await self.connected.wait()
        await self._send_now(data)

    async def close(self) -> None:
        self.closing = True
        if self.socket is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.socket.close(), 5)
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
                record.acked_at_ms = record.acked_at_ms or int(time.time() * 1000)
        elif kind == "SCORE_UPDATED":
            self.new_scores.append(int(payload.get("new_score", -1)))
            record = self.records.get(payload.get("question_id", ""))
            if record is not None:
                if not record.scores:
                    record.scored_after_ms = time.time() * 1000 - record.sent_at_ms
                record.settled_at_ms = record.settled_at_ms or int(time.time() * 1000)
                record.scores.append(payload)
                record.score_message_ids.append(frame.get("message_id", ""))
                record.done.set()
            else:
                self.other_errors["SCORE_UPDATED for no answer of ours"] += 1
        elif kind == "ERROR":
            record = self.by_message_id.get(frame.get("message_id", ""))
            if record is not None:
                record.error = payload.get("code")
                record.settled_at_ms = record.settled_at_ms or int(time.time() * 1000)
                record.done.set()
                self.outbox.pop(record.message_id, None)
            else:
                self.other_errors[str(payload.get("code"))] += 1
        elif kind == "QUESTION_STARTED":
            index = payload["index"]
            self.started.setdefault(index, payload)
            self.new_start.set()
        elif kind == "LEADERBOARD_UPDATED":
            self.versions.append((payload["version"], self.reconnects))
        elif kind == "QUESTION_ENDED":
            self.question_ended_at.setdefault(int(payload["index"]), int(time.time() * 1000))
        elif kind == "SESSION_JOINED":
            self.joined.set()
        elif kind == "SESSION_ENDED":
            self.ended = payload
            self.ended_event.set()

    async def _started(self, index: int) -> bool:
        """Whether question `index` started for this player (False: a later one did first)."""
        while True:
            if index in self.started:
                return True
            if self.started and max(self.started) > index:
                return False
            self.new_start.clear()
            await asyncio.wait_for(self.new_start.wait(), 600)

    # -- play -----------------------------------------------------------------------------

    async def join(self) -> None:
        message_id = uuid.uuid4().hex
        payload = {"session_id": self.session_id, "username": self.name}
        await self.send(client_frame("JOIN_SESSION", payload, message_id), message_id)
        await asyncio.wait_for(self.joined.wait(), 60)

    async def play(self, questions: int, rng: random.Random, seed: int, close_race: bool) -> None:
        for index in range(questions):
            if not await self._started(index):
                # Never told this question started, but a later one did: a player moves on
                # to the question in front of them, as the page does; counted, not answered.
                self.skipped.append(index)
                self.ledger.answered[(self.session_id, index)] += 1
                continue
            started = self.started[index]
            question_id = started["question"]["question_id"]
            started_at_ms = parse_timestamp_ms(started["started_at"])
            kind = kind_of(question_id, close_race)
            if kind == DEADLINE:  # either side of the deadline + grace
                target_ms = int(started["deadline_ms"]) + GRACE_MS + rng.uniform(-350, 350)
            elif kind == REVEAL:  # either side of the host's early reveal
                reveal_ms = early_reveal_ms(seed, self.session_id, index)
                target_ms = started_at_ms + reveal_ms + rng.uniform(-600, 600)
            else:
                # Some questions earn the full bonus, some one point less; sends keep clear
                # of the 2 s steps so that a bot's own clock can check the server's verdict.
                bucket = 1 if index % 5 == 4 else 0
                target_ms = started_at_ms + bucket * 2000 + rng.uniform(300, 1700)
            delay_s = (target_ms - time.time() * 1000) / 1000
            if delay_s > 0:  # else late (QUESTION_STARTED came late): sent now, checked by its send time
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
                kind=kind,
                deadline_ms=int(started["deadline_ms"]),
            )
            self.records[question_id] = record
            self.by_message_id[record.message_id] = record
            # As the README asks of clients: after a reconnect, nothing before SESSION_JOINED
            # (one player's commands are not kept in order across Pub/Sub).
            await self.joined.wait()
            record.sent_at_ms = int(time.time() * 1000)
            await self.send(self._answer_frame(record), record.message_id)
            self.ledger.answered[(self.session_id, index)] += 1
