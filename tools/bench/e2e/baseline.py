"""The stack a Python user would otherwise pick: one python-socketio process (aiohttp,
uvloop like the gateway) that keeps the game in memory. Same rules of play, same frames,
same 100 ms leaderboard batching, so the bench's swarm plays it unchanged and the cost
of the serverless split is a ratio.

What it leaves out, on purpose (each is something the real system pays for): durable
state, token verification (it reads the uid from the token unchecked), exactly-once
delivery, more than one process, and a per-socket `your_rank` in leaderboards (one
`emit` to the room per board).

    python -m bench.e2e.baseline PORT
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import uuid
from dataclasses import dataclass, field
from typing import Any

from vocabquiz.protocol import format_timestamp, now_ms

POINTS = 10
MAX_TIME_BONUS = 5
BONUS_STEP_MS = 2_000
GRACE_MS = 500
TOP_N = 100
FLUSH_WINDOW_MS = 100


@dataclass
class Player:
    uid: str
    username: str
    score: int = 0
    reached_at_ms: int = 0  # when the score was reached: ties list the earlier first


@dataclass
class Question:
    question_id: str
    text: str
    options: list[str]
    accepted: str
    time_limit_ms: int


@dataclass
class Game:
    """One session's state and rules, pure: no I/O, clock passed in."""

    session_id: str
    questions: list[Question]
    players: dict[str, Player] = field(default_factory=dict)
    answered: set[tuple[str, str]] = field(default_factory=set)
    current: int = -1
    started_at_ms: int = 0
    deadline_ms: int = 0
    dirty: bool = False

    def join(self, uid: str, username: str) -> Player:
        return self.players.setdefault(uid, Player(uid, username))

    def open_question(self, index: int, now: int) -> Question:
        self.current, self.started_at_ms = index, now
        question = self.questions[index]
        self.deadline_ms = now + question.time_limit_ms
        return question

    def score(
        self, uid: str, question_id: str, answer: str, received_ms: int
    ) -> tuple[Player, int, bool, int]:
        """(player, points, correct, time taken); ValueError names the refusal's code."""
        player = self.players.get(uid)
        if player is None:
            raise ValueError("NOT_JOINED")
        if self.current < 0 or self.questions[self.current].question_id != question_id:
            raise ValueError("INVALID_QUESTION")
        if received_ms > self.deadline_ms + GRACE_MS:
            raise ValueError("QUESTION_CLOSED")
        if (uid, question_id) in self.answered:
            raise ValueError("ALREADY_ANSWERED")
        self.answered.add((uid, question_id))
        taken_ms = max(0, received_ms - self.started_at_ms)
        correct = answer.strip().casefold() == self.questions[self.current].accepted.casefold()
        points = POINTS + max(0, MAX_TIME_BONUS - taken_ms // BONUS_STEP_MS) if correct else 0
        if points:
            player.score += points
            player.reached_at_ms = received_ms
        self.dirty = True
        return player, points, correct, taken_ms

    def ranked(self) -> list[tuple[int, Player]]:
        """Score descending, ties share a rank (1, 2, 2, 4), earlier to the score first."""
        ordered = sorted(self.players.values(), key=lambda p: (-p.score, p.reached_at_ms, p.uid))
        out: list[tuple[int, Player]] = []
        for i, player in enumerate(ordered):
            rank = out[-1][0] if out and out[-1][1].score == player.score else i + 1
            out.append((rank, player))
        return out

    def leaderboard(self, version: int) -> dict[str, Any]:
        ranked = self.ranked()
        return {
            "session_id": self.session_id,
            "version": version,
            "leaderboard": [
                {"rank": r, "user_id": p.uid, "username": p.username, "score": p.score}
                for r, p in ranked[:TOP_N]
            ],
            "total_participants": len(ranked),
        }


def frame(kind: str, payload: dict[str, Any], at_ms: int | None = None) -> dict[str, Any]:
    return {
        "type": kind,
        "timestamp": format_timestamp(now_ms() if at_ms is None else at_ms),
        "message_id": uuid.uuid4().hex,
        "payload": payload,
    }


def uid_of(token: str) -> str:
    """The uid in an ID token, unchecked (see the module's note)."""
    claims = token.split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))["user_id"])


async def serve(port: int, reveal_pause_ms: int) -> None:
    import socketio
    from aiohttp import web

    sio = socketio.AsyncServer(async_mode="aiohttp", transports=["websocket"], logger=False)
    app = web.Application()
    sio.attach(app)
    games: dict[str, Game] = {}
    uids: dict[str, str] = {}  # sid -> uid

    @sio.event  # type: ignore[untyped-decorator,unused-ignore]
    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
        try:
            uids[sid] = uid_of(auth["token"])
        except (KeyError, TypeError, ValueError, IndexError):
            return False
        return True

    @sio.event  # type: ignore[untyped-decorator,unused-ignore]
    async def disconnect(sid: str, reason: Any = None) -> None:
        uids.pop(sid, None)

    @sio.on("frame")  # type: ignore[untyped-decorator,unused-ignore]
    async def on_frame(sid: str, data: dict[str, Any]) -> None:
        received = now_ms()
        payload, uid = data.get("payload", {}), uids[sid]
        game = games.get(str(payload.get("session_id")))
        if game is None:
            await sio.emit("frame", frame("ERROR", {"code": "INVALID_SESSION"}), to=sid)
            return
        await sio.emit("frame", frame("ACK", {"message_id": data.get("message_id")}), to=sid)
        if data["type"] == "JOIN_SESSION":
            player = game.join(uid, payload["username"])
            await sio.enter_room(sid, game.session_id)
            joined = {"session_id": game.session_id, "user_id": uid, "score": player.score}
            await sio.emit("frame", frame("SESSION_JOINED", joined), to=sid)
            count = {"user_id": uid, "username": player.username, "participant_count": len(game.players)}
            await sio.emit("frame", frame("USER_JOINED", count), room=game.session_id)
        elif data["type"] == "SUBMIT_ANSWER":
            try:
                player, points, correct, taken = game.score(
                    uid, payload["question_id"], payload["answer"], received
                )
            except ValueError as refusal:
                await sio.emit("frame", frame("ERROR", {"code": str(refusal)}), to=sid)
                return
            scored = {
                "user_id": uid,
                "question_id": payload["question_id"],
                "new_score": player.score,
                "points_earned": points,
                "is_correct": correct,
                "time_taken_ms": taken,
            }
            await sio.emit("frame", frame("SCORE_UPDATED", scored), to=sid)

    async def flush_leaderboards() -> None:
        """Every window, one LEADERBOARD_UPDATED to each session that scored in it."""
        flushed = 0
        while True:
            await asyncio.sleep((FLUSH_WINDOW_MS - now_ms() % FLUSH_WINDOW_MS + 1) / 1000)
            window = now_ms() // FLUSH_WINDOW_MS - 1  # the one that just ended
            if window <= flushed:
                continue
            flushed = window
            for game in list(games.values()):
                if game.dirty:
                    game.dirty = False
                    board = frame("LEADERBOARD_UPDATED", game.leaderboard(window))
                    await sio.emit("frame", board, room=game.session_id)

    async def run_session(game: Game) -> None:
        room = game.session_id
        for index, question in enumerate(game.questions):
            game.open_question(index, now_ms())
            public = {"question_id": question.question_id, "text": question.text, "options": question.options}
            started = {
                "session_id": room,
                "index": index,
                "count": len(game.questions),
                "question": public,
                "started_at": format_timestamp(game.started_at_ms),
                "deadline_ms": game.deadline_ms,
            }
            await sio.emit("frame", frame("QUESTION_STARTED", started, game.started_at_ms), room=room)
            await asyncio.sleep((question.time_limit_ms + GRACE_MS) / 1000)
            ended = {"session_id": room, "index": index, "accepted": [question.accepted]}
            await sio.emit("frame", frame("QUESTION_ENDED", ended), room=room)
            if index + 1 < len(game.questions):
                await asyncio.sleep(reveal_pause_ms / 1000)
        await sio.emit("frame", frame("SESSION_ENDED", {"session_id": room}), room=room)

    async def create_session(request: web.Request) -> web.Response:
        body = await request.json()
        session_id = uuid.uuid4().hex[:12]
        questions = [
            Question(q["id"], q["text"], q["options"], q["accepted"][0], int(q["time_limit_s"] * 1000))
            for q in body["questions"]
        ]
        games[session_id] = Game(session_id, questions)
        return web.json_response({"session_id": session_id})

    running: set[asyncio.Task[None]] = set()

    async def start_session(request: web.Request) -> web.Response:
        task = asyncio.create_task(run_session(games[request.match_info["session_id"]]))
        running.add(task)
        task.add_done_callback(running.discard)
        return web.json_response({"started": True})

    app.router.add_post("/sessions", create_session)
    app.router.add_post("/sessions/{session_id}/start", start_session)
    flusher = asyncio.create_task(flush_leaderboards())
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
    print(f"baseline listening on {port}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        flusher.cancel()
        await runner.cleanup()


def main() -> None:
    port, reveal_pause_ms = int(sys.argv[1]), int(sys.argv[2])
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(port, reveal_pause_ms))
    else:
        uvloop.run(serve(port, reveal_pause_ms))


if __name__ == "__main__":
    main()
