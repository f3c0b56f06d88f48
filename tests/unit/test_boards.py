"""The field-order contract of vocabquiz/protocol/boards.py, held against the encoder the
functions publish with (domain.leaderboard payload, protocol server_frame + encode_frame,
envelope.Event.data): the gateway reads types and versions, and splices ranks, in bytes."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from vocabquiz.domain.leaderboard import leaderboard_payload, rank_participants
from vocabquiz.domain.model import Participant
from vocabquiz.protocol import ErrorCode, ServerType, error_frame, server_frame
from vocabquiz.protocol.boards import (
    PARSE_RANKS_FROM,
    RANKS_SPLICE,
    TYPE_PREFIX,
    board_version,
    frame_type,
    is_leaderboard,
    rank_lookup,
    split_board,
    with_rank,
)
from vocabquiz.protocol.envelope import RANKS_KEY, Event
from vocabquiz.protocol.frames import presence_update

UIDS = st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True)
NAMES = st.text(st.characters(codec="utf-8"), max_size=40)  # any text a player may type
FORGERIES = ['"version":999', ',"ranks":{"x":1}}}', "}}}", '"type":"ERROR"', '\\",\\"', "é\n\u2028"]


def _published_board(names: dict[str, str], version: int = 7) -> bytes:
    """A board exactly as flush_leaderboard publishes it."""
    players = [
        Participant(uid=uid, username=name, score=10 * (i % 3), score_reached_at_ms=i)
        for i, (uid, name) in enumerate(names.items())
    ]
    payload = leaderboard_payload("S1", version, rank_participants(players))
    frame = server_frame(ServerType.LEADERBOARD_UPDATED, payload, message_id=f"lb-S1-{version}")
    return Event("S1", frame).data()


def _own_board(data: bytes, uid: str, recipients: int) -> dict[str, Any]:
    shared, ranks = split_board(data)
    return dict(json.loads(with_rank(shared, rank_lookup(ranks, recipients)(uid))))


def test_published_board_starts_with_its_type_and_ends_with_its_ranks() -> None:
    data = _published_board({"u1": "Ann", "u2": "Bob"})
    frame = json.loads(data)
    assert data.startswith(TYPE_PREFIX + b"LEADERBOARD_UPDATED")  # contract 1
    assert next(iter(frame)) == "type" and list(frame)[-1] == "payload"  # contracts 1 and 2
    assert list(frame["payload"])[-1] == RANKS_KEY  # contract 3
    assert data.endswith(b"}}}") and data.rfind(RANKS_SPLICE) > 0
    assert b" " not in data.replace(b"Ann", b"").replace(b"Bob", b"")  # compact: no spaces


def test_published_board_has_no_version_key_before_its_payloads() -> None:
    frame = json.loads(_published_board({"u1": "Ann"}, version=42))
    keys = list(frame) + list(frame["payload"])
    assert keys.index("version") < keys.index("leaderboard")  # contract 4
    assert keys.count("version") == 1
    assert board_version(_published_board({"u1": "Ann"}, version=42)) == 42


def test_every_server_frame_the_protocol_builds_reads_its_type_from_the_front() -> None:
    frames = [server_frame(kind, {"session_id": "S1"}) for kind in ServerType]
    frames += [error_frame(ErrorCode.RATE_LIMITED, "slow down"), presence_update([])]
    for frame in frames:
        data = Event("S1", frame).data()
        assert frame_type(data) == frame["type"]
        assert is_leaderboard(data) == (frame["type"] == ServerType.LEADERBOARD_UPDATED)
        assert data.endswith(b"}}")  # contract 2: payload last


def test_names_that_spell_the_markers_change_neither_version_nor_splice() -> None:
    names = {f"u{i}": name for i, name in enumerate(FORGERIES)}
    data = _published_board(names, version=5)
    assert board_version(data) == 5
    assert frame_type(data) == ServerType.LEADERBOARD_UPDATED
    for uid in names:
        own = _own_board(data, uid, 1)
        assert own["payload"]["leaderboard"] == json.loads(data)["payload"]["leaderboard"]
        assert own["payload"]["your_rank"] == json.loads(data)["payload"]["ranks"][uid]


@settings(max_examples=150, deadline=None, database=None)
@given(
    names=st.dictionaries(UIDS, NAMES, min_size=1, max_size=12),
    version=st.integers(min_value=0, max_value=2**53),
    recipients=st.sampled_from([1, PARSE_RANKS_FROM]),
    outsider=UIDS,
)
def test_any_published_board_splices_to_the_decoded_board_with_each_players_rank(
    names: dict[str, str], version: int, recipients: int, outsider: str
) -> None:
    data = _published_board(names, version)
    decoded = json.loads(data)
    ranks = decoded["payload"].pop(RANKS_KEY)
    assert board_version(data) == version
    for uid in [*names, outsider]:
        expected = decoded | {"payload": decoded["payload"] | {"your_rank": ranks.get(uid)}}
        assert _own_board(data, uid, recipients) == expected


def test_frame_without_its_type_first_reads_as_unknown() -> None:
    assert frame_type(b'{"payload":{},"type":"PONG"}') == "unknown"
    assert frame_type(b'{"type":"') == "unknown"
    assert board_version(b'{"type":"PONG","payload":{}}') == -1
