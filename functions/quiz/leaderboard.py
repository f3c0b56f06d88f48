"""Ranking: score descending, ties share a rank (1, 2, 2, 4), earlier to the score first."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from quiz.model import Participant

TOP_N = 100


@dataclass(frozen=True, slots=True)
class Ranked:
    rank: int
    uid: str
    username: str
    score: int


def rank_participants(participants: Iterable[Participant]) -> list[Ranked]:
    ordered = sorted(participants, key=lambda p: (-p.score, p.score_reached_at_ms, p.uid))
    ranked: list[Ranked] = []
    for position, p in enumerate(ordered, start=1):
        same_as_previous = ranked and ranked[-1].score == p.score
        rank = ranked[-1].rank if same_as_previous else position
        ranked.append(Ranked(rank, p.uid, p.username, p.score))
    return ranked


def leaderboard_payload(session_id: str, version: int, ranked: list[Ranked]) -> dict[str, object]:
    """The shared part of LEADERBOARD_UPDATED; `ranks` is stripped by the gateway."""
    return {
        "session_id": session_id,
        "version": version,
        "leaderboard": [
            {"rank": r.rank, "user_id": r.uid, "username": r.username, "score": r.score}
            for r in ranked[:TOP_N]
        ],
        "total_participants": len(ranked),
        "ranks": {r.uid: r.rank for r in ranked},
    }
