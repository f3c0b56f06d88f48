"""The gateway gives each socket the shared leaderboard with its own `your_rank`, by
splicing bytes: the board the functions publish is never decoded on the hot path."""

from __future__ import annotations

import json

import pytest

from vocabquiz.domain.leaderboard import leaderboard_payload, rank_participants
from vocabquiz.domain.model import Participant
from vocabquiz.protocol import ServerType, encode_frame, server_frame
from vocabquiz.protocol.boards import PARSE_RANKS_FROM, rank_lookup, split_board, with_rank

TRICKY = 'Eve,"ranks":{"x":1}}}'  # a name that spells the splice point, escaped in JSON


def _board() -> dict[str, object]:
    players = [
        Participant(uid="u1", username="Ann", score=30, score_reached_at_ms=1),
        Participant(uid="u2", username=TRICKY, score=20, score_reached_at_ms=2),
        Participant(uid="u3", username="Bob", score=20, score_reached_at_ms=3),
    ]
    payload = leaderboard_payload("S1", 7, rank_participants(players))
    return server_frame(ServerType.LEADERBOARD_UPDATED, payload, message_id="lb-1", at_ms=0)


def _spliced(data: bytes, uid: str, recipients: int = 1) -> dict[str, object]:
    shared, ranks = split_board(data)
    return dict(json.loads(with_rank(shared, rank_lookup(ranks, recipients)(uid))))


def _expected(your_rank: int | None) -> dict[str, object]:
    frame = _board()
    payload = {k: v for k, v in frame["payload"].items() if k != "ranks"}  # type: ignore[attr-defined]
    return frame | {"payload": payload | {"your_rank": your_rank}}


@pytest.mark.parametrize("recipients", [1, PARSE_RANKS_FROM])  # ranks searched, or parsed
@pytest.mark.parametrize(("uid", "rank"), [("u1", 1), ("u2", 2), ("u3", 2), ("u", None), ("outsider", None)])
def test_board_as_the_functions_encode_it_is_spliced_per_player(
    uid: str, rank: int | None, recipients: int
) -> None:
    data = encode_frame(_board()).encode()
    assert data.endswith(b"}}}")  # payload last, ranks last in it
    assert _spliced(data, uid, recipients) == _expected(rank)


def test_board_with_the_payload_first_is_re_encoded_alike() -> None:
    """A board from functions deployed before payload-last (a rolling deploy)."""
    frame = _board()
    older = {"type": frame["type"], "payload": frame["payload"]} | frame
    data = json.dumps(older, separators=(",", ":")).encode()
    assert not data.endswith(b"}}}")
    assert _spliced(data, "u2") == _expected(2)
