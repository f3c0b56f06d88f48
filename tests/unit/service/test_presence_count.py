"""participant_count on the memory twins: the players present (seated and connected), in
every frame that carries it, through join, leave, a closed socket, rejoin and kick; and
capacity, which counts seats, present or away."""

from __future__ import annotations

from typing import Any

from tests.unit.service.conftest import Table, frames_of
from vocabquiz.protocol import ErrorCode


def _session(table: Table, seats: int = 10) -> str:
    return table.game.create_session("vocab-101", "host", seats, False).id


def _join(table: Table, code: str, uid: str) -> list[tuple[str | None, dict[str, Any]]]:
    table.send(uid, table.frame("JOIN_SESSION", session_id=code, username=uid.title()))
    return table.take()


def _counts(events: list[tuple[str | None, dict[str, Any]]], frame_type: str) -> list[tuple[str, int]]:
    return [(f["user_id"], f["participant_count"]) for f in frames_of(events, frame_type)]


def test_a_player_who_leaves_is_no_longer_counted_by_the_frames_that_follow(table: Table) -> None:
    code = _session(table)
    assert _counts(_join(table, code, "ann"), "USER_JOINED") == [("ann", 1)]
    assert _counts(_join(table, code, "ben"), "USER_JOINED") == [("ben", 2)]

    table.send("ben", table.frame("LEAVE_SESSION", session_id=code))
    left = table.take()
    assert set(_counts(left, "USER_LEFT")) == {("ben", 1)}  # to the room, and to Ben's own socket

    joined = _join(table, code, "cal")
    assert _counts(joined, "USER_JOINED") == [("cal", 2)]
    assert _counts(joined, "SESSION_JOINED") == [("cal", 2)]


def test_a_closed_socket_counts_the_player_out_and_their_rejoin_counts_them_back(table: Table) -> None:
    code = _session(table)
    _join(table, code, "ann")
    _join(table, code, "ben")

    leave = table.frame("LEAVE_SESSION", session_id=code)
    table.send("ben", leave, connection_id="conn-ben", disconnected=True)
    assert _counts(table.take(), "USER_LEFT") == [("ben", 1)]

    table.send("ben", table.frame("REJOIN", session_id=code), connection_id="conn-ben-2")
    back = table.take()
    assert _counts(back, "USER_JOINED") == [("ben", 2)]
    assert _counts(back, "SESSION_JOINED") == [("ben", 2)]

    # The old socket's late disconnect changes nothing; the new one's counts him out.
    table.send("ben", leave, connection_id="conn-ben", disconnected=True)
    assert table.take() == []
    table.send("ben", leave, connection_id="conn-ben-2", disconnected=True)
    assert _counts(table.take(), "USER_LEFT") == [("ben", 1)]

    # Joining again (a reloaded page sends JOIN_SESSION) counts him back in too.
    assert _counts(_join(table, code, "ben"), "USER_JOINED") == [("ben", 2)]


def test_a_kicked_player_is_counted_out_once_whether_present_or_away(table: Table) -> None:
    code = _session(table)
    for uid in ("ann", "ben", "cal"):
        _join(table, code, uid)

    table.game.kick(code, "host", "ben")
    assert _counts(table.take(), "USER_LEFT") == [("ben", 2)]

    table.send("cal", table.frame("LEAVE_SESSION", session_id=code))
    assert set(_counts(table.take(), "USER_LEFT")) == {("cal", 1)}
    table.game.kick(code, "host", "cal")  # away already: still one present
    assert _counts(table.take(), "USER_LEFT") == [("cal", 1)]
    assert _counts(_join(table, code, "dan"), "SESSION_JOINED") == [("dan", 2)]


def test_the_hosts_view_counts_those_present_and_marks_who_is_away(table: Table) -> None:
    code = _session(table)
    for uid in ("ann", "ben", "cal"):
        _join(table, code, uid)
    table.send("ben", table.frame("LEAVE_SESSION", session_id=code))
    table.take()

    table.send("host", table.frame("WATCH_SESSION", session_id=code))
    (watching,) = frames_of(table.take(), "SESSION_JOINED", "host")
    assert watching["participant_count"] == 2
    away = {p["user_id"]: not p["connected"] for p in watching["participants"]}
    assert away == {"ann": False, "ben": True, "cal": False}


def test_capacity_counts_seats_so_a_player_who_left_keeps_theirs_until_kicked(table: Table) -> None:
    code = _session(table, seats=2)
    _join(table, code, "ann")
    _join(table, code, "ben")
    table.send("ben", table.frame("LEAVE_SESSION", session_id=code))
    table.take()

    refused = _join(table, code, "cal")
    assert [e["code"] for e in frames_of(refused, "ERROR", "cal")] == [ErrorCode.SESSION_FULL]
    assert _counts(_join(table, code, "ben"), "SESSION_JOINED") == [("ben", 2)]  # his seat kept

    table.game.kick(code, "host", "ben")
    table.take()
    assert _counts(_join(table, code, "cal"), "SESSION_JOINED") == [("cal", 2)]
