"""Presence pacing in the gateway: a lone arrival goes out unchanged at once; a few in one
gap go out one by one at its end; a crowd becomes one PRESENCE_UPDATED per gap that lists
every arrival and departure in order; nothing is kept for idle sessions."""

from __future__ import annotations

import json

from gateway.presence import SINGLES_PER_GAP, STORM_PER_S, PresencePacer, is_presence
from vocabquiz.protocol import encode_frame, server_frame
from vocabquiz.protocol.frames import ServerType, expand_presence

GAP_S = 0.1


def _presence(kind: ServerType, uid: str, count: int) -> bytes:
    payload = {"user_id": uid, "username": uid.upper(), "participant_count": count}
    return encode_frame(server_frame(kind, payload)).encode()


def test_lone_arrival_goes_out_unchanged_at_once() -> None:
    pacer = PresencePacer(GAP_S)
    joined = _presence(ServerType.USER_JOINED, "u1", 1)
    assert is_presence(joined)
    assert pacer.offer("S1", joined, now=10.0) == ([joined], None)
    assert pacer.offer("S1", _presence(ServerType.USER_JOINED, "u2", 2), now=10.2)[1] is None  # a new gap


def test_few_arrivals_in_one_gap_go_out_one_by_one_at_its_end() -> None:
    pacer = PresencePacer(GAP_S)
    frames = [_presence(ServerType.USER_JOINED, f"u{n}", n) for n in range(1 + SINGLES_PER_GAP)]
    pacer.offer("S1", frames[0], now=10.0)
    assert pacer.offer("S1", frames[1], now=10.01) == ([], 10.0 + GAP_S)
    for frame in frames[2:]:
        assert pacer.offer("S1", frame, now=10.02) == ([], None)  # the release is arranged already
    assert pacer.release("S1", now=10.1) == frames[1:]


def test_crowd_in_one_gap_becomes_one_frame_listing_every_change_in_order() -> None:
    pacer = PresencePacer(GAP_S)
    pacer.offer("S1", _presence(ServerType.USER_JOINED, "u0", 1), now=10.0)
    held = [_presence(ServerType.USER_JOINED, f"u{n}", n + 1) for n in range(1, SINGLES_PER_GAP + 1)]
    held.append(_presence(ServerType.USER_LEFT, "u2", SINGLES_PER_GAP))
    for frame in held:
        pacer.offer("S1", frame, now=10.05)
    (merged,) = pacer.release("S1", now=10.1)
    frame = json.loads(merged)
    assert frame["type"] == "PRESENCE_UPDATED" and frame["payload"]["participant_count"] == SINGLES_PER_GAP
    assert [f["payload"] | {"type": f["type"]} for f in expand_presence(frame)] == [
        json.loads(h)["payload"] | {"type": json.loads(h)["type"]} for h in held
    ]


def test_in_a_storm_every_gap_sends_one_presence_frame() -> None:
    pacer = PresencePacer(GAP_S)
    sent: list[bytes] = []
    now = 10.0
    for n in range(60):  # 30 joins a second for 2 s: 2 or 3 in each gap
        now = 10.0 + n / 30
        sent += pacer.offer("S1", _presence(ServerType.USER_JOINED, f"u{n}", n + 1), now=now)[0]
        if int((now - 10.0) / GAP_S) != int((now + 1 / 30 - 10.0) / GAP_S):
            sent += pacer.release("S1", now=now)
    sent += pacer.release("S1", now=now + GAP_S)
    # One a gap (20 gaps), plus the few sent alone before the storm is recognised.
    assert len(sent) <= 60 / 30 / GAP_S + STORM_PER_S
    merged = [json.loads(f) for f in sent if json.loads(f)["type"] == "PRESENCE_UPDATED"]
    assert merged and sum(len(f["payload"]["changes"]) for f in merged) + len(sent) - len(merged) == 60


def test_idle_sessions_leave_no_state() -> None:
    pacer = PresencePacer(GAP_S)
    pacer.offer("S1", _presence(ServerType.USER_JOINED, "u1", 1), now=10.0)
    pacer.forget_idle(now=10.5)
    assert "S1" in pacer._sessions  # within the storm window: its arrivals still count
    pacer.forget_idle(now=11.1)
    assert pacer._sessions == {}
    assert pacer.release("S1", now=11.2) == []


def test_leaderboards_and_scores_are_not_presence() -> None:
    assert not is_presence(encode_frame(server_frame(ServerType.LEADERBOARD_UPDATED, {})).encode())
