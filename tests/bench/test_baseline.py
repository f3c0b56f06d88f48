"""The socketio baseline's in-memory game plays by the quiz's rules."""

from __future__ import annotations

import base64
import json

import pytest

from bench.e2e.baseline import Game, Question, uid_of
from bots.tokens import unsigned_id_token


def _game() -> Game:
    game = Game("s1", [Question("q0", "?", ["right", "wrong"], "right", 10_000)])
    for uid in ("a", "b", "c", "d"):
        game.join(uid, f"player {uid}")
    game.open_question(0, now=1_000)
    return game


def test_a_fast_right_answer_earns_points_and_the_time_bonus() -> None:
    game = _game()
    player, points, correct, taken = game.score("a", "q0", " RIGHT ", received_ms=1_500)
    assert (points, correct, taken, player.score) == (15, True, 500, 15)
    assert game.dirty


def test_a_slow_right_answer_earns_less_and_a_wrong_one_nothing() -> None:
    game = _game()
    assert game.score("a", "q0", "right", received_ms=7_000)[1] == 12
    assert game.score("b", "q0", "wrong", received_ms=1_100)[1] == 0


@pytest.mark.parametrize(
    ("uid", "question_id", "received_ms", "code"),
    [
        ("zz", "q0", 1_100, "NOT_JOINED"),
        ("a", "q9", 1_100, "INVALID_QUESTION"),
        ("a", "q0", 11_501, "QUESTION_CLOSED"),
    ],
)
def test_refusals_name_their_code(uid: str, question_id: str, received_ms: int, code: str) -> None:
    with pytest.raises(ValueError, match=code):
        _game().score(uid, question_id, "right", received_ms)


def test_only_the_first_answer_counts() -> None:
    game = _game()
    game.score("a", "q0", "wrong", 1_100)
    with pytest.raises(ValueError, match="ALREADY_ANSWERED"):
        game.score("a", "q0", "right", 1_200)


def test_ties_share_a_rank_and_the_earlier_player_is_listed_first() -> None:
    game = _game()
    game.score("b", "q0", "right", 1_200)
    game.score("a", "q0", "right", 1_300)
    game.score("c", "q0", "right", 4_000)
    board = game.leaderboard(version=7)
    assert board["version"] == 7 and board["total_participants"] == 4
    assert [(e["user_id"], e["rank"], e["score"]) for e in board["leaderboard"]] == [
        ("b", 1, 15),
        ("a", 1, 15),
        ("c", 3, 14),
        ("d", 4, 0),
    ]


def test_the_baseline_reads_the_uid_from_a_token_without_checking_it() -> None:
    assert uid_of(unsigned_id_token("bot-7")) == "bot-7"
    claims = base64.urlsafe_b64encode(json.dumps({"user_id": "x"}).encode()).decode().rstrip("=")
    assert uid_of(f"e30.{claims}.") == "x"
