"""Events from `quiz-events` to this instance's sockets: room bookkeeping, bundles split
per user, copies of an event dropped for the sockets that had it (gateway.repeats),
leaderboards and presence paced per session (by the core's pacers), and sockets that fall
behind closed rather than waited for."""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import AbstractContextManager

from opentelemetry.trace import Span, SpanKind
from websockets.asyncio.server import broadcast

from gateway.config import GatewayConfig
from gateway.connection import Connection
from gateway.metrics import Metrics
from gateway.presence import is_presence
from gateway.repeats import SentEvents, event_key, frame_message_id
from gateway.rooms import Room, Rooms
from vocabquiz.observability import tracing
from vocabquiz.protocol import ServerType
from vocabquiz.protocol.boards import boards_for, frame_type, is_leaderboard
from vocabquiz.protocol.envelope import (
    ATTR_BUNDLE,
    ATTR_ROOM,
    ATTR_SESSION_ID,
    ATTR_TARGET_CONNECTION,
    ATTR_TARGET_UID,
    ATTR_TRACEPARENT,
    ROOM_ENTER,
    ROOM_LEAVE,
    split_bundle,
)

log = logging.getLogger("quiz.gateway")


class FanOut:
    def __init__(self, config: GatewayConfig, rooms: Rooms[Connection], metrics: Metrics) -> None:
        self.rooms = rooms
        self.metrics = metrics
        self.board_gap_s = config.leaderboard_gap_s
        self.send_buffer_limit_bytes = config.send_buffer_limit_bytes
        self.sent = SentEvents()

    def deliver(self, data: bytes, attributes: dict[str, str], published_s: float) -> None:
        """Fan one event out to this instance's sockets; runs on the event loop."""
        session_id = attributes.get(ATTR_SESSION_ID, "")
        if attributes.get(ATTR_BUNDLE) == "1":
            self._deliver_bundle(session_id, data, attributes, published_s)
            return
        room = attributes.get(ATTR_ROOM)
        target_uid = attributes.get(ATTR_TARGET_UID, "")
        target_connection = attributes.get(ATTR_TARGET_CONNECTION, "")
        recipients = self.rooms.recipients(session_id, target_uid, target_connection)
        leaderboard = is_leaderboard(data)
        # Boards need no id: their pacer drops one no newer than the last it sent.
        message_id = frame_message_id(data) if recipients and not leaderboard else None
        sent_ns: int | None = None  # when a copy of this event last went out (None: it is new)
        now_ns = 0  # when it goes out, and when its recipients enter a room
        if message_id:
            now_ns = time.monotonic_ns()
            # A frame id the functions made names one event of the session wherever it
            # goes (a QUESTION_STARTED to the room, and again to a connection that joins);
            # a client's own id, echoed by an ERROR, is unique per client only.
            if frame_type(data) == ServerType.ERROR.value:
                key = event_key(message_id, session_id, target_uid, target_connection)
            else:
                key = event_key(message_id, session_id, "", "")
            recipients, sent_ns = self._not_had(key, session_id, recipients, now_ns)
        if room == ROOM_LEAVE:
            self.rooms.leave(session_id, recipients)
        if not recipients:
            return
        if room == ROOM_ENTER:
            self.rooms.enter(session_id, recipients, now_ns or time.monotonic_ns())
        if leaderboard:
            self._pace_leaderboard(session_id, data, attributes.get(ATTR_TRACEPARENT))
            return
        if room is None and not target_uid and is_presence(data):
            if sent_ns is None:
                self._pace_presence(session_id, data, attributes)
            elif not self._held(session_id, message_id):  # a copy: only to those who missed it
                self._broadcast(recipients, data, attributes, published_s)
            return
        self._broadcast(recipients, data, attributes, published_s)

    def _broadcast(
        self, recipients: list[Connection], data: bytes, attributes: dict[str, str], published_s: float
    ) -> None:
        recipients = [c for c in recipients if self._keeping_up(c)]
        kind = frame_type(data)
        with fan_out_span(kind, attributes, len(recipients)):
            broadcast(recipients, data.decode())
        self.metrics.frames_out.labels(kind).inc(len(recipients))
        self.metrics.fanout_latency.observe(max(0.0, time.time() - published_s))

    def _deliver_bundle(
        self, session_id: str, data: bytes, attributes: dict[str, str], published_s: float
    ) -> None:
        """Frames for several users of a session in one event (a batch's scores): each
        goes to its own user's sockets here, if this instance holds any."""
        sent: dict[str, int] = {}
        frames = split_bundle(data)
        first_type = frame_type(frames[0][1]) if frames else "bundle"
        now_ns = 0  # read at the first frame with recipients here: one clock read per bundle
        with fan_out_span(first_type, attributes, 0) as span:
            for uid, frame in frames:
                recipients = self.rooms.recipients(session_id, uid, None)
                message_id = frame_message_id(frame) if recipients else None
                if message_id:
                    now_ns = now_ns or time.monotonic_ns()
                    key = event_key(message_id, session_id, "", "")
                    recipients, _ = self._not_had(key, session_id, recipients, now_ns)
                recipients = [c for c in recipients if self._keeping_up(c)]
                if recipients:
                    broadcast(recipients, frame, text=True)
                    kind = frame_type(frame)
                    sent[kind] = sent.get(kind, 0) + len(recipients)
            span.set_attribute("quiz.recipients", sum(sent.values()))
        for kind, count in sent.items():
            self.metrics.frames_out.labels(kind).inc(count)
        if sent:
            self.metrics.fanout_latency.observe(max(0.0, time.time() - published_s))

    def _not_had(
        self, key: str, session_id: str, recipients: list[Connection], now_ns: int
    ) -> tuple[list[Connection], int | None]:
        """(the recipients that have not had the event `key`, when it last went out: None
        if it has not). All of them the first time; for a copy, the sockets that entered
        the session's room after it last went out (or, outside it, opened after): a player
        who reconnected, or joined after it."""
        sent_ns = self.sent.last_sent_ns(key, now_ns)
        if sent_ns is not None:
            self.metrics.repeated_events.inc()
            recipients = [c for c in recipients if self._since_ns(session_id, c) > sent_ns]
        if recipients:
            self.sent.sent(key, now_ns)
        return recipients, sent_ns

    def _held(self, session_id: str, message_id: str | None) -> bool:
        """Whether the session's presence pacer holds the frame `message_id`: it will reach
        every socket in the room, those that entered since it came too."""
        room = self.rooms.room(session_id)
        return room is not None and any(frame_message_id(f) == message_id for f in room.presence.held)

    def _since_ns(self, session_id: str, conn: Connection) -> int:
        entered = self.rooms.entered_ns(session_id, conn)
        return conn.opened_ns if entered is None else entered

    # -- presence: paced per session by gateway.presence --------------------------------

    def _pace_presence(self, session_id: str, data: bytes, attributes: dict[str, str]) -> None:
        room = self.rooms.room(session_id)
        if room is None:
            return
        loop = asyncio.get_running_loop()
        now_frames, release_at = room.presence.offer(data, loop.time(), self.board_gap_s)
        for frame in now_frames:
            self._broadcast(list(room.sockets), frame, attributes, time.time())
        if release_at is not None:
            # The room, not its id: a room dropped meanwhile takes its held frames with it.
            delay_s = max(0.0, release_at - loop.time())
            loop.call_later(delay_s, self._release_presence, session_id, room, attributes)

    def _release_presence(self, session_id: str, room: Room[Connection], attributes: dict[str, str]) -> None:
        # The held frames go out now, also to sockets that entered since they came: a copy
        # of one must not reach those again.
        now_ns = time.monotonic_ns()
        for held in room.presence.held:
            message_id = frame_message_id(held)
            if message_id:
                self.sent.sent(event_key(message_id, session_id, "", ""), now_ns)
        for frame in room.presence.release(asyncio.get_running_loop().time()):
            if room.sockets:
                self._broadcast(list(room.sockets), frame, attributes, time.time())

    # -- leaderboards: paced by the session room's BoardPacer ---------------------------

    def _pace_leaderboard(self, session_id: str, data: bytes, traceparent: str | None) -> None:
        room = self.rooms.room(session_id)
        if room is None:
            return  # no socket here is in the session (the board was for named sockets)
        loop = asyncio.get_running_loop()
        delay_s = room.board.offer(data, traceparent, loop.time(), self.board_gap_s)
        if delay_s is not None:
            # The room, not its id: a room dropped meanwhile takes its board with it.
            loop.call_later(delay_s, self._send_leaderboard, room)

    def _send_leaderboard(self, room: Room[Connection]) -> None:
        board = room.board.release()
        if board is None:
            return
        recipients = [c for c in list(room.sockets) if self._keeping_up(c)]
        if not recipients:
            room.board.sent(None)
            return
        room.board.sent(asyncio.get_running_loop().time())
        # The fan-out continues the trace of the flush that published this board (of the
        # answer that asked for it): one span however many sockets get it. Each socket
        # gets the board with its own `your_rank`, spliced in its bytes (protocol.boards).
        carrier = {ATTR_TRACEPARENT: board.traceparent} if board.traceparent else {}
        with fan_out_span(ServerType.LEADERBOARD_UPDATED.value, carrier, len(recipients)):
            frames = boards_for(board.data, [conn.uid for conn in recipients])
            for conn, frame in zip(recipients, frames, strict=True):
                broadcast([conn], frame, text=True)
            self.metrics.frames_out.labels(ServerType.LEADERBOARD_UPDATED.value).inc(len(recipients))

    def _keeping_up(self, conn: Connection) -> bool:
        """A socket whose unsent backlog passes the limit is closed, not waited for."""
        transport = conn.transport
        if transport is None or transport.get_write_buffer_size() <= self.send_buffer_limit_bytes:
            return True
        self.metrics.slow_sockets_dropped.inc()
        self.rooms.disconnect(conn.connection_id, conn.uid)  # no more events for it
        log.warning("slow socket closed", extra={"json_fields": conn.ids()})
        transport.abort()
        return False


def fan_out_span(kind: str, carrier: dict[str, str], recipients: int) -> AbstractContextManager[Span]:
    """One span per event fanned out, never one per socket, in the trace the event carries."""
    return tracing.tracer().start_as_current_span(
        f"fan-out {kind}",
        context=tracing.extract(carrier),
        kind=SpanKind.CONSUMER,
        attributes={"quiz.recipients": recipients},
    )
