"""Pacing a session's presence frames (USER_JOINED, USER_LEFT): a join storm must not
become N² frames (300 players joining sent 45,000). Like leaderboards, a session's
presence frames are paced by the gap; unlike them, none is dropped. A frame with no other
in its gap goes out unchanged, at once; those that meet a busy gap wait for its end. Then
a few go out as they are while the session is calm, so a handful of players arriving
together each see the USER_JOINED the seed's protocol names; in a storm (more than
STORM_PER_S changes in the last second) they go out as one PRESENCE_UPDATED that lists
them in order: one presence frame per gap. Plain object, no I/O: the fan-out feeds it."""

from __future__ import annotations

import json
from collections import deque

from vocabquiz.protocol import encode_frame
from vocabquiz.protocol.frames import presence_update

PRESENCE_PREFIXES = (b'{"type":"USER_JOINED"', b'{"type":"USER_LEFT"')
SINGLES_PER_GAP = 4  # held frames that still go out one by one while the session is calm
STORM_PER_S = 10  # presence changes in the last second from which a session's are merged
STORM_WINDOW_S = 1.0


def is_presence(data: bytes) -> bool:
    return data.startswith(PRESENCE_PREFIXES)


class PresencePacer:
    """One session's presence pacing; its Room holds it, so it goes with the session's
    last socket here."""

    __slots__ = ("arrivals", "held", "sent_at")

    def __init__(self) -> None:
        self.sent_at = float("-inf")
        self.held: list[bytes] = []
        self.arrivals: deque[float] = deque()  # within the last STORM_WINDOW_S

    def offer(self, data: bytes, now: float, gap_s: float) -> tuple[list[bytes], float | None]:
        """(frames to send now, when to call `release`; None: no call to arrange, because
        nothing is held or one is arranged already)."""
        self.arrivals.append(now)
        self._forget(now)
        if not self.held and now >= self.sent_at + gap_s:
            self.sent_at = now
            return [data], None
        self.held.append(data)
        return [], self.sent_at + gap_s if len(self.held) == 1 else None

    def release(self, now: float) -> list[bytes]:
        """The frames held, as they go out at the end of the gap."""
        if not self.held:
            return []
        held, self.held, self.sent_at = self.held, [], now  # this send starts a new gap
        if len(held) == 1 or (len(held) <= SINGLES_PER_GAP and not self._storming(now)):
            return held
        return [encode_frame(presence_update([json.loads(frame) for frame in held])).encode()]

    def _storming(self, now: float) -> bool:
        self._forget(now)
        return len(self.arrivals) > STORM_PER_S

    def _forget(self, now: float) -> None:
        while self.arrivals and self.arrivals[0] <= now - STORM_WINDOW_S:
            self.arrivals.popleft()
