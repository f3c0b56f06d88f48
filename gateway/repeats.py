"""Events that come again: Pub/Sub delivers quiz-events at least once, and a function that
runs again publishes its events again under the same frame ids, so a copy can arrive
late. The fan-out remembers when each event last went out, by its frame id and its
address, and sends a copy only to sockets opened since: none had it (a player who
reconnected and resent an answer gets its verdict replayed), and no socket gets an event
twice. Plain objects, no I/O; what is remembered is bounded in time (and, as a guard
only, in count).
"""

from __future__ import annotations

import json

# An event is remembered at least this long: past the events subscription's 10 s ack
# deadline (a copy Pub/Sub redelivers) and a function's retry publishing it again.
WINDOW_S = 60.0
# A guard on memory, not the way events are forgotten (that is their age): 10,000 players
# on one gateway send ~60,000 per-player events a minute at a question every 10 s, and a
# count-based limit (it was 10,000) forgot a question's id within one question.
MAX_IDS = 100_000  # per window: ~19 MB each (measured), ~40 MB at most in two windows
_MESSAGE_ID = b'"message_id":"'
_ID_WITHIN = 160  # bytes from a frame's start within which its id's key lies


class SentEvents:
    """When each event last went out, for one to two windows (two generations of a dict:
    no per-entry clock, and forgetting a window costs one swap). A window ends when it is
    `window_s` old, or (a guard) once it holds `max_ids` events."""

    __slots__ = ("_current", "_previous", "_started_ns", "max_ids", "window_ns")

    def __init__(self, window_s: float = WINDOW_S, max_ids: int = MAX_IDS) -> None:
        self.window_ns = int(window_s * 1e9)
        self.max_ids = max_ids
        self._current: dict[str, int] = {}
        self._previous: dict[str, int] = {}
        self._started_ns: int | None = None  # of the current generation

    def last_sent_ns(self, key: str, now_ns: int) -> int | None:
        """When the event `key` last went out (a monotonic clock), if it is remembered."""
        if self._started_ns is None or now_ns - self._started_ns >= self.window_ns:
            self._forget_a_window(now_ns)
        sent = self._current.get(key)
        return self._previous.get(key) if sent is None else sent

    def sent(self, key: str, now_ns: int) -> None:
        self._current[key] = now_ns
        if len(self._current) >= self.max_ids:
            self._forget_a_window(now_ns)

    def __len__(self) -> int:
        return len(self._current) + len(self._previous)

    def _forget_a_window(self, now_ns: int) -> None:
        self._previous, self._current, self._started_ns = self._current, {}, now_ns


def event_key(message_id: str, session_id: str, target_uid: str, target_connection: str) -> str:
    """An event's identity: its frame id where it goes. Client-chosen ids (an ERROR echoes
    the frame it refuses) are unique per client only, so the address is part of it."""
    return f"{message_id} {session_id} {target_uid} {target_connection}"


def frame_message_id(frame: bytes) -> str | None:
    """An encoded server frame's `message_id`, bundled or not: every server frame is built
    by protocol.server_frame, which puts it after `type` and `timestamp` (before the
    payload, whose own keys may be called `message_id` too: contract 4 in
    vocabquiz/protocol/boards.py), so its key lies within the first _ID_WITHIN bytes;
    the id itself may run past them. Read from the bytes: decoding every event to find it
    would cost more than fanning most of them out. None when the key is not there (a
    frame of another shape goes out each time: never wrongly dropped)."""
    start = frame.find(_MESSAGE_ID, 0, _ID_WITHIN)
    if start < 0:
        return None
    start += len(_MESSAGE_ID)
    end = frame.find(b'"', start)
    if end <= start:
        return None
    if frame[end - 1] == 0x5C:  # an escaped quote: no id the functions build, but decode it right
        message_id = json.loads(frame).get("message_id")
        return message_id if isinstance(message_id, str) and message_id else None
    return frame[start:end].decode()
