"""The frames the benchmark sends: built with the project's own protocol and domain code,
so sizes and shapes match what the functions publish."""

from __future__ import annotations

import random

from vocabquiz.domain.leaderboard import leaderboard_payload, rank_participants
from vocabquiz.domain.model import Participant
from vocabquiz.protocol import ServerType, encode_frame, server_frame

# Counting markers: a frame is a hit when its payload starts with one of these.
STREAM_MARKER = '{"type":"QUESTION_STARTED"'
BOARD_MARKER = '{"type":"LEADERBOARD_UPDATED"'
SOCKETIO_MARKER = '42["quiz"'
LEADERBOARD_SIZE = 100  # players per session in (c)'s boards (its sockets and others)


def stream_message(session_id: str = "bench") -> str:
    """A QUESTION_STARTED frame (~450 bytes), the same for every server."""
    frame = server_frame(
        ServerType.QUESTION_STARTED,
        {
            "session_id": session_id,
            "index": 3,
            "count": 10,
            "question": {
                "question_id": "q4",
                "kind": "multiple_choice",
                "text": "Which word is closest in meaning to 'meticulous'?",
                "options": ["careless", "painstaking", "hurried", "generous"],
                "points": 1000,
                "time_limit_s": 20,
            },
            "started_at": "2025-11-16T10:30:00.123Z",
            "deadline": "2025-11-16T10:30:20.123Z",
            "deadline_ms": 1763289020123,
        },
        message_id=f"qs-{session_id}-3",
    )
    return encode_frame(frame)


def session_joined(session_id: str, uid: str) -> bytes:
    frame = server_frame(
        ServerType.SESSION_JOINED,
        {
            "session_id": session_id,
            "quiz_id": "vocab-101",
            "quiz_title": "Vocabulary 101",
            "status": "waiting",
            "participant_count": 1,
            "user_id": uid,
            "username": uid,
            "your_score": 0,
            "question_count": 10,
        },
    )
    return encode_frame(frame).encode()


def leaderboard_event(session_id: str, version: int, member_uids: list[str], seed: int) -> bytes:
    """LEADERBOARD_UPDATED as vocabquiz/service/game.py publishes it, for a session of 100 players:
    the live top 10 plus the `ranks` map (every player's rank) that the gateway swaps for
    each socket's own `your_rank`."""
    rng = random.Random(seed)
    uids = member_uids + [f"{session_id}-p{i:03d}" for i in range(LEADERBOARD_SIZE - len(member_uids))]
    participants = [
        Participant(
            uid=uid,
            username=f"Player {uid[-6:]}",
            score=rng.randrange(0, 10_000, 10),
            score_reached_at_ms=1763289000000 + rng.randrange(600_000),
        )
        for uid in uids
    ]
    payload = leaderboard_payload(session_id, version, rank_participants(participants))
    frame = server_frame(ServerType.LEADERBOARD_UPDATED, payload, message_id=f"lb-{session_id}-{version}")
    return encode_frame(frame).encode()
