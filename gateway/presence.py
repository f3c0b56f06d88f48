"""Pacing a session's presence frames (USER_JOINED, USER_LEFT): a join storm must not
become N² frames (300 players joining sent 45,000). Like leaderboards, a session's
presence frames are paced by the gap; unlike them, none is dropped. A frame with no other
in its gap goes out unchanged, at once; those that meet a busy gap wait for its end and
then go out as they are when they are few, or as one PRESENCE_UPDATED that lists them in
order. Plain object, no I/O: the server feeds it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from protocol import encode_frame
from protocol.frames import presence_update

PRESENCE_PREFIXES = (b'{"type":"USER_JOINED"', b'{"type":"USER_LEFT"')
# Frames held over one gap that still go out one by one: a few players arriving together
# see the frames the seed's protocol names (USER_JOINED each); a crowd, one list per gap.
SINGLES_PER_GAP = 4


def is_presence(data: bytes) -> bool:
    return data.startswith(PRESENCE_PREFIXES)


@dataclass
class _Session:
    sent_at: float
    held: list[bytes] = field(default_factory=list)


class PresencePacer:
    def __init__(self, gap_s: float) -> None:
        self.gap_s = gap_s
        self._sessions: dict[str, _Session] = {}  # only sessions with a gap running

    def offer(self, session_id: str, data: bytes, now: float) -> tuple[list[bytes], float | None]:
        """(frames to send now, when to call `release` for this session; None: no call
        to arrange, because nothing is held or one is arranged already)."""
        session = self._sessions.get(session_id)
        if session is None or (not session.held and now >= session.sent_at + self.gap_s):
            self._sessions[session_id] = _Session(now)
            return [data], None
        session.held.append(data)
        return [], session.sent_at + self.gap_s if len(session.held) == 1 else None

    def release(self, session_id: str, now: float) -> list[bytes]:
        """The frames held for this session, as they go out at the end of its gap."""
        session = self._sessions.pop(session_id, None)
        if session is None or not session.held:
            return []
        held = session.held
        self._sessions[session_id] = _Session(now)  # this send starts a new gap
        if len(held) <= SINGLES_PER_GAP:
            return held
        return [encode_frame(presence_update([json.loads(frame) for frame in held])).encode()]

    def forget_idle(self, now: float) -> None:
        """Drop sessions whose gap is over and hold nothing: no state for idle sessions."""
        for session_id in [
            s for s, state in self._sessions.items() if not state.held and now >= state.sent_at + self.gap_s
        ]:
            del self._sessions[session_id]
