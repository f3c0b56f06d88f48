"""Ranking: ties share a rank (1, 2, 2, 4); the earlier to a score is listed first."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from vocabquiz.domain.leaderboard import LIVE_TOP_N, leaderboard_payload, rank_behind, rank_participants
from vocabquiz.domain.model import Participant


def player(uid: str, score: int, reached_at_ms: int = 0) -> Participant:
    return Participant(uid, uid.upper(), score=score, score_reached_at_ms=reached_at_ms)


def test_ties_share_a_rank_and_the_next_rank_skips() -> None:
    ranked = rank_participants([player("a", 30), player("b", 20, 5), player("c", 20, 9), player("d", 10)])
    assert [(r.uid, r.rank) for r in ranked] == [("a", 1), ("b", 2), ("c", 2), ("d", 4)]


def test_equal_scores_are_ordered_by_who_reached_them_first() -> None:
    ranked = rank_participants([player("late", 15, 900), player("early", 15, 100)])
    assert [r.uid for r in ranked] == ["early", "late"]


def test_everyone_on_zero_shares_first_place() -> None:
    assert {r.rank for r in rank_participants([player("a", 0), player("b", 0)])} == {1}


def test_live_payload_carries_the_top_10_and_every_players_rank() -> None:
    ranked = rank_participants([player(f"p{i:03d}", i, 0) for i in range(250)])
    payload = leaderboard_payload("S1", 7, ranked)
    assert len(payload["leaderboard"]) == LIVE_TOP_N == 10  # type: ignore[arg-type]
    assert list(payload)[-1] == "ranks"  # last: the gateway splices there
    assert payload["total_participants"] == 250
    assert payload["ranks"]["p000"] == 250  # type: ignore[index]
    assert payload["leaderboard"][0] == {"rank": 1, "user_id": "p249", "username": "P249", "score": 249}  # type: ignore[index]
    assert payload["version"] == 7


@given(st.lists(st.integers(0, 50), max_size=30))
def test_rank_from_players_ahead_is_the_rank_of_the_full_ranking(scores: list[int]) -> None:
    players = [Participant(f"p{n}", f"P{n}", score=s) for n, s in enumerate(scores)]
    for r in rank_participants(players):
        assert rank_behind(sum(1 for p in players if p.score > r.score)) == r.rank
