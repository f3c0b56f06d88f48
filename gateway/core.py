"""The gateway's sans-I/O core: what it decides about a client's frames (rate limit,
strikes, resend dedupe, PING) and about a session's leaderboards (pacing), as plain
objects the server feeds with bytes and clock readings. Nothing here touches a socket,
the event loop or Pub/Sub; the server does what these return (the shape of
python-websockets' protocol object under its asyncio layer)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from vocabquiz.limits import LeakyCount, TokenBucket
from vocabquiz.protocol import (
    ClientFrame,
    ClientType,
    ErrorCode,
    ProtocolError,
    ServerType,
    error_frame,
    format_timestamp,
    parse_client_frame,
    server_frame,
)
from vocabquiz.protocol.boards import board_version
from vocabquiz.protocol.types import ServerFrame

ACCEPTED_IDS_KEPT = 256  # a socket's accepted message ids remembered for resends
RATE_LIMIT_CLOSE = (1008, "Rate limit exceeded")


@dataclass(frozen=True, slots=True)
class FrameLimits:
    """Frames a socket may send: `rate_per_s` sustained, `burst` at once. A socket whose
    refused frames pile past `burst` (leaking away at `rate_per_s`) is closed."""

    rate_per_s: float
    burst: int


# What the server does with one client frame: one of the three below.


@dataclass(frozen=True, slots=True)
class Refused:
    """Counted under `reason`; answered with `error`, or the socket closed with `close`
    (code, reason) when the client does not listen to errors."""

    reason: str
    error: ServerFrame | None = None
    close: tuple[int, str] | None = None


@dataclass(frozen=True, slots=True)
class Answered:
    """Answered here, with nothing to publish: `reply` (a PONG, or the ACK of a resend)."""

    frame: ClientFrame
    reply: ServerFrame


@dataclass(frozen=True, slots=True)
class Publish:
    """A command for quiz-commands: publish it, then send `Client.accepted`'s ACK (or,
    if Pub/Sub did not take it, tell the client to send it again)."""

    frame: ClientFrame


Verdict = Refused | Answered | Publish


class Client:
    """One socket's client as the gateway judges its frames: a token bucket (a frame past
    it is RATE_LIMITED), strikes (a client still flooding after its warnings is closed),
    and the ids of frames Pub/Sub took (a resend is acknowledged again, not published
    twice). Made at the socket's first frame, so an idle socket costs nothing here."""

    __slots__ = ("_accepted", "_bucket", "_limits", "_strikes")

    def __init__(self, limits: FrameLimits, now_us: int) -> None:
        self._limits = limits
        self._bucket = TokenBucket(limits.rate_per_s, limits.burst, now_us)
        # Refused frames, leaking away at the allowed rate: a client that stays over the
        # limit piles them up; one that briefly bursts does not. Made at the first refusal.
        self._strikes: LeakyCount | None = None
        self._accepted: OrderedDict[str, None] | None = None  # made at the first publish

    def read(self, raw: str | bytes, now_us: int, received_at_ms: int) -> Verdict:
        """Judge one frame as it arrives (`now_us`: a monotonic clock; `received_at_ms`:
        the wall clock a PONG reports)."""
        if not self._bucket.take(now_us):
            if self._strike(now_us) > self._limits.burst:
                # Warned at every refused frame and still flooding: not a client that listens.
                return Refused("rate_limited", close=RATE_LIMIT_CLOSE)
            return Refused(
                "rate_limited", error_frame(ErrorCode.RATE_LIMITED, "Too many messages: slow down")
            )
        try:
            frame = parse_client_frame(raw)
        except ProtocolError as refusal:
            return Refused(
                "invalid_message", error_frame(refusal.code, refusal.message, message_id=refusal.message_id)
            )
        if frame.type is ClientType.PING:
            pong = server_frame(
                ServerType.PONG,
                {"server_time": format_timestamp(received_at_ms)},
                message_id=frame.message_id,
            )
            return Answered(frame, pong)
        if self._accepted is not None and frame.message_id in self._accepted:
            # Accepted = stored by Pub/Sub; a resend of an accepted id is acknowledged again.
            return Answered(frame, _ack(frame.message_id))
        return Publish(frame)

    def accepted(self, message_id: str) -> ServerFrame:
        """Pub/Sub stored the frame `message_id`: the ACK to send, and its id remembered."""
        accepted = self._accepted
        if accepted is None:
            accepted = self._accepted = OrderedDict()
        accepted[message_id] = None
        if len(accepted) > ACCEPTED_IDS_KEPT:
            accepted.popitem(last=False)
        return _ack(message_id)

    def _strike(self, now_us: int) -> float:
        if self._strikes is None:
            self._strikes = LeakyCount(self._limits.rate_per_s, now_us)
        return self._strikes.add(now_us)


def _ack(message_id: str) -> ServerFrame:
    return server_frame(ServerType.ACK, {"message_id": message_id})


@dataclass(frozen=True, slots=True)
class PacedBoard:
    """A leaderboard due at a session's sockets, with the trace of the flush that
    published it (the fan-out continues that trace)."""

    data: bytes
    traceparent: str | None


class BoardPacer:
    """A session's leaderboards on their way to its sockets: a backlog upstream or a
    batch from the subscription must not reach players as a flurry. At most one board per
    session per gap, the newest by version (boards travel unordered: an older one arriving
    late is dropped, and one older than the last sent is never shown). Part of the
    session's `rooms.Room`, so it lives exactly as long as a socket here is in the session.

    Times are the event loop's clock in seconds (the clock `call_later` counts in)."""

    __slots__ = ("_pending", "_pending_version", "_sent_at", "_traceparent", "_version")

    def __init__(self) -> None:
        self._pending: bytes | None = None
        self._pending_version = -1
        self._traceparent: str | None = None  # the pending board's
        self._sent_at = 0.0  # when the last board went out (0: none has, or none arrived)
        self._version = -1  # of the last board released

    @property
    def holding(self) -> bool:
        return self._pending is not None

    def offer(self, data: bytes, traceparent: str | None, now: float, gap_s: float) -> float | None:
        """Hold a board for this session. Returns the delay after which to call `release`,
        or None when none is to be arranged (one is already, or this board is older than
        the one held, and dropped)."""
        version = board_version(data)
        if self._pending is not None and self._pending_version > version:
            return None
        was_holding = self._pending is not None
        self._pending, self._pending_version = data, version
        self._traceparent = traceparent or None
        if was_holding:
            return None
        return max(0.0, self._sent_at + gap_s - now)

    def release(self) -> PacedBoard | None:
        """The board held, now due; None if it is no newer than the last released
        (flushes can publish out of window order). Tell `sent` whether anyone got it."""
        data, traceparent = self._pending, self._traceparent
        self._pending, self._traceparent = None, None
        if data is None or self._pending_version <= self._version:
            return None
        self._version = self._pending_version
        return PacedBoard(data, traceparent)

    def sent(self, now: float | None) -> None:
        """The released board went out at `now`; None: to no socket (the next goes at once)."""
        self._sent_at = 0.0 if now is None else now
