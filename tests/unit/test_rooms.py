"""The gateway's bookkeeping of sockets, users and session rooms."""

from __future__ import annotations

from gateway.rooms import Rooms


def test_event_for_a_session_reaches_only_sockets_in_its_room() -> None:
    rooms: Rooms[str] = Rooms()
    rooms.connect("c1", "alice", "sock1")
    rooms.connect("c2", "bob", "sock2")
    rooms.enter("S1", ["sock1"], 0)
    assert rooms.recipients("S1", None, None) == ["sock1"]
    assert rooms.recipients("S2", None, None) == []


def test_event_for_a_user_reaches_their_sockets_in_that_session_only() -> None:
    rooms: Rooms[str] = Rooms()
    rooms.connect("c1", "alice", "tab1")
    rooms.connect("c2", "alice", "tab2")
    rooms.enter("S1", ["tab1"], 0)
    assert rooms.recipients("S1", "alice", None) == ["tab1"]


def test_reply_to_a_connection_reaches_it_before_it_joins_a_room() -> None:
    rooms: Rooms[str] = Rooms()
    rooms.connect("c1", "alice", "tab1")
    assert rooms.recipients("S1", "alice", "c1") == ["tab1"]


def test_disconnect_forgets_the_socket_everywhere() -> None:
    rooms: Rooms[str] = Rooms()
    rooms.connect("c1", "alice", "tab1")
    rooms.enter("S1", ["tab1"], 0)
    rooms.disconnect("c1", "alice")
    assert rooms.recipients("S1", None, None) == []
    assert rooms.connections_of("alice") == 0
    assert not rooms.members and not rooms.by_uid


def test_leaving_a_room_keeps_the_socket_connected() -> None:
    rooms: Rooms[str] = Rooms()
    rooms.connect("c1", "alice", "tab1")
    rooms.enter("S1", ["tab1"], 0)
    rooms.leave("S1", ["tab1"])
    assert rooms.recipients("S1", None, None) == []
    assert rooms.connections_of("alice") == 1
