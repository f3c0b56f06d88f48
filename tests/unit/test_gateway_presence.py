"""Presence pacing in the gateway: a lone arrival goes out unchanged at once; a few in one
gap go out one by one at its end; a crowd becomes one PRESENCE_UPDATED per gap that lists
every arrival and departure in order; the pacing goes with the session's room."""

from __future__ import annotations

import json

from gateway.presence import SINGLES_PER_GAP, STORM_PER_S, PresencePacer, is_presence
from gateway.rooms import Rooms
from vocabquiz.protocol import encode_frame, server_frame
from vocabquiz.protocol.frames import ServerType, expand_presence

GAP_S = 0.1


def _presence(kind: ServerType, uid: str, count: int) -> bytes:
    payload = {"user_id": uid, "username": uid.upper(), "participant_count": count}
    return encode_frame(server_frame(kind, payload)).encode()


def test_lone_arrival_goes_out_unchanged_at_once() -> None:
    pacer = PresencePacer()
    joined = _presence(ServerType.USER_JOINED, "u1", 1)
    assert is_presence(joined)
    assert pacer.offer(joined, 10.0, GAP_S) == ([joined], None)
    assert pacer.offer(_presence(ServerType.USER_JOINED, "u2", 2), 10.2, GAP_S)[1] is None  # a new gap


def test_few_arrivals_in_one_gap_go_out_one_by_one_at_its_end() -> None:
    pacer = PresencePacer()
    frames = [_presence(ServerType.USER_JOINED, f"u{n}", n) for n in range(1 + SINGLES_PER_GAP)]
    pacer.offer(frames[0], 10.0, GAP_S)
    assert pacer.offer(frames[1], 10.01, GAP_S) == ([], 10.0 + GAP_S)
    for frame in frames[2:]:
        assert pacer.offer(frame, 10.02, GAP_S) == ([], None)  # the release is arranged already
    assert pacer.release(10.1) == frames[1:]


def test_crowd_in_one_gap_becomes_one_frame_listing_every_change_in_order() -> None:
    pacer = PresencePacer()
    pacer.offer(_presence(ServerType.USER_JOINED, "u0", 1), 10.0, GAP_S)
    held = [_presence(ServerType.USER_JOINED, f"u{n}", n + 1) for n in range(1, SINGLES_PER_GAP + 1)]
    held.append(_presence(ServerType.USER_LEFT, "u2", SINGLES_PER_GAP))
    for frame in held:
        pacer.offer(frame, 10.05, GAP_S)
    (merged,) = pacer.release(10.1)
    frame = json.loads(merged)
    assert frame["type"] == "PRESENCE_UPDATED" and frame["payload"]["participant_count"] == SINGLES_PER_GAP
    assert [f["payload"] | {"type": f["type"]} for f in expand_presence(frame)] == [
        json.loads(h)["payload"] | {"type": json.loads(h)["type"]} for h in held
    ]


def test_in_a_storm_every_gap_sends_one_presence_frame() -> None:
    pacer = PresencePacer()
    sent: list[bytes] = []
    now = 10.0
    for n in range(60):  # 30 joins a second for 2 s: 2 or 3 in each gap
        now = 10.0 + n / 30
        sent += pacer.offer(_presence(ServerType.USER_JOINED, f"u{n}", n + 1), now, GAP_S)[0]
        if int((now - 10.0) / GAP_S) != int((now + 1 / 30 - 10.0) / GAP_S):
            sent += pacer.release(now)
    sent += pacer.release(now + GAP_S)
    # One a gap (20 gaps), plus the few sent alone before the storm is recognised.
    assert len(sent) <= 60 / 30 / GAP_S + STORM_PER_S
    merged = [json.loads(f) for f in sent if json.loads(f)["type"] == "PRESENCE_UPDATED"]
    assert merged and sum(len(f["payload"]["changes"]) for f in merged) + len(sent) - len(merged) == 60


def test_held_presence_goes_with_the_room_when_its_last_socket_leaves() -> None:
    rooms: Rooms[str] = Rooms()
    rooms.enter("S1", ["c1"], 0)
    room = rooms.room("S1")
    assert room is not None
    room.presence.offer(_presence(ServerType.USER_JOINED, "u1", 1), 10.0, GAP_S)
    room.presence.offer(_presence(ServerType.USER_JOINED, "u2", 2), 10.01, GAP_S)
    rooms.leave("S1", ["c1"])
    assert rooms.room("S1") is None and rooms.members == {}
    rooms.enter("S1", ["c2"], 0)
    again = rooms.room("S1")
    assert again is not None and again.presence.release(10.2) == []


def test_leaderboards_and_scores_are_not_presence() -> None:
    assert not is_presence(encode_frame(server_frame(ServerType.LEADERBOARD_UPDATED, {})).encode())
