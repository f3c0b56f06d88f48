"""Ranking: score descending, ties share a rank (1, 2, 2, 4), earlier to the score first."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from vocabquiz.domain.model import Participant

# A live LEADERBOARD_UPDATED carries the top 10 (what the player and host pages show) and
# each player's own rank; the final standings (SESSION_ENDED) carry the top 100. Ten times
# a second to every player, 100 entries would be ~9 KB a frame: nine tenths unseen, and
# at 1,000 players ~90 MB/s of egress from one gateway instead of ~10.
LIVE_TOP_N = 10
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


def leaderboard_row(r: Ranked) -> dict[str, object]:
    """One row of a live board or the final standings, as on the wire."""
    return {"rank": r.rank, "user_id": r.uid, "username": r.username, "score": r.score}


def rank_behind(players_ahead: int) -> int:
    """A score's competition rank, from how many players are strictly ahead of it: the
    rank `rank_participants` gives it (the store counts those ahead without reading all)."""
    return 1 + players_ahead


def leaderboard_payload(session_id: str, version: int, ranked: list[Ranked]) -> dict[str, object]:
    """The shared part of LEADERBOARD_UPDATED; the gateway replaces `ranks` (kept last:
    it splices there) with each socket's own `your_rank`."""
    return {
        "session_id": session_id,
        "version": version,
        "leaderboard": [leaderboard_row(r) for r in ranked[:LIVE_TOP_N]],
        "total_participants": len(ranked),
        "ranks": {r.uid: r.rank for r in ranked},
    }
