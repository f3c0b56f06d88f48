"""A session's room in the gateway: made when its first socket here enters, carrying the
session's leaderboard pacing, and dropped with everything in it when the last socket
leaves or disconnects, so a long-lived instance keeps nothing for sessions it served."""

from __future__ import annotations

from gateway.rooms import Rooms
from vocabquiz.protocol import ServerType, encode_frame, server_frame

NOW_S = 5_000.0
GAP_S = 0.1


def _board(version: int) -> bytes:
    payload = {"session_id": "S1", "version": version, "leaderboard": [], "ranks": {}}
    return encode_frame(server_frame(ServerType.LEADERBOARD_UPDATED, payload)).encode()


def _rooms(*uids: str) -> Rooms[str]:
    rooms: Rooms[str] = Rooms()
    for uid in uids:
        rooms.connect(f"c-{uid}", uid, f"sock-{uid}")
    return rooms


def test_room_is_made_when_the_first_socket_of_its_session_enters() -> None:
    rooms = _rooms("alice", "bob")
    assert rooms.room("S1") is None
    rooms.enter("S1", ["sock-alice"], 0)
    room = rooms.room("S1")
    assert room is not None and set(room.sockets) == {"sock-alice"}
    rooms.enter("S1", ["sock-bob"], 0)
    assert rooms.room("S1") is room and set(room.sockets) == {"sock-alice", "sock-bob"}


def test_room_and_its_board_state_are_dropped_when_the_last_socket_leaves() -> None:
    rooms = _rooms("alice", "bob")
    rooms.enter("S1", ["sock-alice", "sock-bob"], 0)
    room = rooms.room("S1")
    assert room is not None
    room.board.offer(_board(3), "t3", NOW_S, GAP_S)
    rooms.leave("S1", ["sock-alice"])
    assert rooms.room("S1") is room and room.board.holding
    rooms.leave("S1", ["sock-bob"])
    assert rooms.room("S1") is None
    assert not rooms.members  # no entry left for the session
    assert rooms.connections_of("bob") == 1  # the socket stays connected


def test_room_is_dropped_when_its_last_socket_disconnects() -> None:
    rooms = _rooms("alice")
    rooms.enter("S1", ["sock-alice"], 0)
    rooms.enter("S2", ["sock-alice"], 0)
    rooms.disconnect("c-alice", "alice")
    assert rooms.room("S1") is None and rooms.room("S2") is None
    assert not rooms.members and not rooms.by_uid and not rooms.by_id


def test_room_made_again_after_its_drop_starts_with_no_board_history() -> None:
    rooms = _rooms("alice")
    rooms.enter("S1", ["sock-alice"], 0)
    first = rooms.room("S1")
    assert first is not None
    first.board.offer(_board(9), None, NOW_S, GAP_S)
    first.board.release()
    rooms.leave("S1", ["sock-alice"])
    rooms.enter("S1", ["sock-alice"], 0)
    again = rooms.room("S1")
    assert again is not None and again is not first
    assert again.board.offer(_board(1), None, NOW_S, GAP_S) == 0.0
    assert again.board.release() is not None  # version 1 shows: the old room's 9 went with it


def test_long_lived_instance_keeps_no_room_for_the_sessions_it_served() -> None:
    rooms = _rooms("alice", "bob")
    for n in range(1_000):
        session_id = f"S{n}"
        rooms.enter(session_id, ["sock-alice", "sock-bob"], n)
        room = rooms.room(session_id)
        assert room is not None
        room.board.offer(_board(n), None, NOW_S + n, GAP_S)
        room.board.release()
        room.board.sent(NOW_S + n)
        rooms.leave(session_id, ["sock-alice"])
        if n % 2:
            rooms.leave(session_id, ["sock-bob"])
    rooms.disconnect("c-bob", "bob")
    assert not rooms.members


def test_leaving_a_session_one_is_not_in_leaves_its_room_alone() -> None:
    rooms = _rooms("alice", "bob")
    rooms.enter("S1", ["sock-alice"], 0)
    rooms.leave("S1", ["sock-bob"])
    rooms.leave("S2", ["sock-alice"])
    room = rooms.room("S1")
    assert room is not None and set(room.sockets) == {"sock-alice"}
    assert rooms.room("S2") is None


def test_a_socket_keeps_when_it_first_entered_a_room_until_it_leaves() -> None:
    rooms = _rooms("alice")
    rooms.enter("S1", ["sock-alice"], 5)
    rooms.enter("S1", ["sock-alice"], 9)  # a late copy of its SESSION_JOINED
    assert rooms.entered_ns("S1", "sock-alice") == 5
    assert rooms.entered_ns("S2", "sock-alice") is None
    rooms.leave("S1", ["sock-alice"])
    rooms.enter("S1", ["sock-alice"], 12)
    assert rooms.entered_ns("S1", "sock-alice") == 12
