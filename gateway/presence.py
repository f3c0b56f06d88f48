"""Pacing a session's presence frames (USER_JOINED, USER_LEFT): a join storm must not
become N² frames (300 players joining sent 45,000). Like leaderboards, a session's
presence frames are paced by the gap; unlike them, none is dropped. A frame with no other
in its gap goes out unchanged, at once; those that meet a busy gap wait for its end. Then
a few go out as they are while the session is calm, so a handful of players arriving
together each see the USER_JOINED the seed's protocol names; in a storm (more than
STORM_PER_S changes in the last second) they go out as one PRESENCE_UPDATED that lists
them in order: one presence frame per gap. Plain object, no I/O: the server feeds it."""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field

from vocabquiz.protocol import encode_frame
from vocabquiz.protocol.frames import presence_update

PRESENCE_PREFIXES = (b'{"type":"USER_JOINED"', b'{"type":"USER_LEFT"')
SINGLES_PER_GAP = 4  # held frames that still go out one by one while the session is calm
STORM_PER_S = 10  # presence changes in the last second from which a session's are merged
STORM_WINDOW_S = 1.0


def is_presence(data: bytes) -> bool:
    return data.startswith(PRESENCE_PREFIXES)


@dataclass
class _Session:
    sent_at: float
    held: list[bytes] = field(default_factory=list)
    arrivals: deque[float] = field(default_factory=deque)  # within the last STORM_WINDOW_S

    def arrived(self, now: float) -> None:
        self.arrivals.append(now)
        self._forget(now)

    def storming(self, now: float) -> bool:
        self._forget(now)
        return len(self.arrivals) > STORM_PER_S

    def _forget(self, now: float) -> None:
        while self.arrivals and self.arrivals[0] <= now - STORM_WINDOW_S:
            self.arrivals.popleft()


class PresencePacer:
    def __init__(self, gap_s: float) -> None:
        self.gap_s = gap_s
        self._sessions: dict[str, _Session] = {}  # only sessions with recent presence

    def offer(self, session_id: str, data: bytes, now: float) -> tuple[list[bytes], float | None]:
        """(frames to send now, when to call `release` for this session; None: no call
        to arrange, because nothing is held or one is arranged already)."""
        session = self._sessions.setdefault(session_id, _Session(sent_at=now - self.gap_s))
        session.arrived(now)
        if not session.held and now >= session.sent_at + self.gap_s:
            session.sent_at = now
            return [data], None
        session.held.append(data)
        return [], session.sent_at + self.gap_s if len(session.held) == 1 else None

    def release(self, session_id: str, now: float) -> list[bytes]:
        """The frames held for this session, as they go out at the end of its gap."""
        session = self._sessions.get(session_id)
        if session is None or not session.held:
            return []
        held, session.held, session.sent_at = session.held, [], now  # this send starts a new gap
        if len(held) == 1 or (len(held) <= SINGLES_PER_GAP and not session.storming(now)):
            return held
        return [encode_frame(presence_update([json.loads(frame) for frame in held])).encode()]

    def forget_idle(self, now: float) -> None:
        """Drop sessions that hold nothing and had no presence for a while: no state for
        idle sessions."""
        quiet_since = now - max(self.gap_s, STORM_WINDOW_S)
        for session_id in [
            s
            for s, state in self._sessions.items()
            if not state.held and state.sent_at <= quiet_since and not state.storming(now)
        ]:
            del self._sessions[session_id]
