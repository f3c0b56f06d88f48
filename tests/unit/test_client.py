"""The one client's byte-level helpers, read back by websockets' own server protocol
(sans-I/O): what the gateway bench writes on the wire is what a server accepts."""

from __future__ import annotations

import pytest
from websockets.frames import Opcode
from websockets.http11 import Request
from websockets.server import ServerProtocol

from bots.client import board_version_of, masked_frame, server_frames, upgrade_request
from vocabquiz.protocol import ServerType, encode_frame, server_frame
from vocabquiz.protocol.frames import presence_update


def _server_reading(request: bytes) -> tuple[ServerProtocol, Request]:
    server = ServerProtocol()
    server.receive_data(request)
    (received,) = server.events_received()
    assert isinstance(received, Request)
    server.send_response(server.accept(received))
    return server, received


def test_upgrade_request_offers_the_game_subprotocol_with_the_token_and_an_origin() -> None:
    _, request = _server_reading(upgrade_request("127.0.0.1", 8000, token="abc", origin="http://web"))
    assert request.path == "/ws"
    assert request.headers["Sec-WebSocket-Protocol"] == "quiz.v1, bearer.abc"
    assert request.headers["Origin"] == "http://web"


@pytest.mark.parametrize("size", [0, 125, 126, 65_535, 65_536])
def test_masked_frame_of_any_length_reads_back_as_the_same_text(size: int) -> None:
    server, _ = _server_reading(upgrade_request("127.0.0.1", 8000))
    text = "x" * size
    server.receive_data(masked_frame(text.encode()))
    (frame,) = server.events_received()
    assert (frame.opcode, frame.data.decode()) == (Opcode.TEXT, text)


def test_board_version_is_read_from_a_boards_bytes_and_other_frames_have_none() -> None:
    board = encode_frame(server_frame(ServerType.LEADERBOARD_UPDATED, {"version": 42, "ranks": {}}))
    assert board_version_of(board) == 42
    assert board_version_of(encode_frame(server_frame(ServerType.PONG, {}))) is None


def test_a_presence_update_is_read_as_the_joins_and_leaves_it_lists() -> None:
    joined = server_frame(ServerType.USER_JOINED, {"user_id": "a", "username": "A", "participant_count": 1})
    left = server_frame(ServerType.USER_LEFT, {"user_id": "a", "username": "A", "participant_count": 0})
    frames = server_frames(encode_frame(presence_update([joined, left])))
    assert [(f["type"], f["payload"]["participant_count"]) for f in frames] == [
        ("USER_JOINED", 1),
        ("USER_LEFT", 0),
    ]
