"""The gateway's asyncio server: authenticate the handshake (gateway.handshake decides),
relay client frames to `quiz-commands`, and fan events from `quiz-events` out to this
instance's sockets."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
import uuid
from collections import OrderedDict
from contextlib import AbstractContextManager
from http import HTTPStatus
from typing import Any

import firebase_admin
from opentelemetry.trace import Span, SpanKind
from prometheus_client import CONTENT_TYPE_LATEST
from websockets.asyncio.server import Server, ServerConnection, broadcast, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.protocol import State

from gateway.batching import CommandBatcher
from gateway.config import GatewayConfig
from gateway.handshake import Handshake, HandshakeRefused, forget_token, select_subprotocol
from gateway.metrics import Metrics
from gateway.presence import PresencePacer, is_presence
from gateway.pubsub import CommandPublisher, EventSubscription
from gateway.rooms import Rooms
from gateway.static import WEB_ROOT, StaticFiles
from vocabquiz.observability import tracing
from vocabquiz.protocol import (
    ClientFrame,
    ClientType,
    ErrorCode,
    ProtocolError,
    ServerType,
    encode_frame,
    error_frame,
    format_timestamp,
    now_ms,
    parse_client_frame,
    server_frame,
)
from vocabquiz.protocol.boards import (
    board_version,
    frame_type,
    is_leaderboard,
    rank_lookup,
    split_board,
    with_rank,
)
from vocabquiz.protocol.envelope import (
    ATTR_BUNDLE,
    ATTR_CONNECTION_ID,
    ATTR_DISCONNECTED,
    ATTR_GATEWAY_ID,
    ATTR_RECEIVED_AT_MS,
    ATTR_ROOM,
    ATTR_SESSION_ID,
    ATTR_TARGET_CONNECTION,
    ATTR_TARGET_UID,
    ATTR_TRACEPARENT,
    ATTR_UID,
    ROOM_ENTER,
    ROOM_LEAVE,
    encode_command,
    split_bundle,
)

log = logging.getLogger("quiz.gateway")

ACCEPTED_IDS_KEPT = 256


class Connection(ServerConnection):
    """A socket plus what the gateway knows of it (set at the handshake)."""

    __slots__ = ("accepted_ids", "connection_id", "refill_at", "strikes", "struck_at", "tokens", "uid")

    def setup(self, uid: str, rate_burst: int) -> None:
        self.uid = uid
        self.connection_id = uuid.uuid4().hex
        self.tokens = float(rate_burst)
        self.refill_at = time.monotonic()
        self.accepted_ids: OrderedDict[str, None] | None = None  # made at the first publish
        # Refused frames, leaking away at the allowed rate: a client that stays over the
        # limit piles them up; one that briefly bursts does not.
        self.strikes = 0.0
        self.struck_at = self.refill_at


class Gateway:
    def __init__(self, config: GatewayConfig) -> None:
        self.config = config
        self.rooms: Rooms[Connection] = Rooms()
        self.publisher = CommandPublisher(config.project_id, config.commands_topic)
        self.batcher = CommandBatcher(self.publisher.publish, config.command_batch_gap_s)
        self.subscription = EventSubscription(config.project_id, config.events_topic, config.gateway_id)
        self.metrics = Metrics()
        self.closing: set[asyncio.Task[None]] = set()
        self.draining = False  # SIGTERM: sockets are closed to reconnect elsewhere
        self.boards_pending: dict[str, bytes] = {}
        self.boards_trace: dict[str, str] = {}  # the pending board's traceparent
        self.boards_sent_at: dict[str, float] = {}
        self.boards_version: dict[str, int] = {}
        self.presence = PresencePacer(config.leaderboard_gap_s)
        self.handshake = Handshake(config.allowed_origins, config.max_connections_per_user)
        self.static = StaticFiles(
            WEB_ROOT,
            {
                "api_url": config.public_api_url,
                "project_id": config.project_id,
                "firebase_api_key": config.firebase_api_key,
                "auth_emulator_url": config.auth_emulator_url,
            },
        )
        if not firebase_admin._apps:
            firebase_admin.initialize_app(options={"projectId": config.project_id})

    # -- handshake ------------------------------------------------------------------

    async def process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        if request.path in ("/health/live", "/health"):
            return connection.respond(HTTPStatus.OK, "ok\n")
        if request.path == "/metrics":
            body = self.metrics.render()
            headers = Headers({"Content-Type": CONTENT_TYPE_LATEST, "Content-Length": str(len(body))})
            return Response(HTTPStatus.OK, "OK", headers, body)
        if request.path == "/health/ready":
            ready = await asyncio.to_thread(self.publisher.ready)
            return connection.respond(
                HTTPStatus.OK if ready else HTTPStatus.SERVICE_UNAVAILABLE, f"{ready}\n"
            )
        if request.path.split("?")[0] != "/ws":
            found = self.static.response(request.path)
            return found or connection.respond(HTTPStatus.NOT_FOUND, "Not found\n")
        try:
            self.handshake.check_origin(request.headers)
            token = self.handshake.token(request.headers)
            uid = await asyncio.to_thread(self.handshake.verify, token)
            forget_token(request.headers)
            self.handshake.check_sockets(self.rooms.connections_of(uid))
        except HandshakeRefused as refused:
            self.metrics.refusals.labels(refused.reason).inc()
            fields = {"status": int(refused.status), "reason": refused.reason}
            log.info("handshake refused", extra={"json_fields": fields})
            return connection.respond(refused.status, refused.message + "\n")
        assert isinstance(connection, Connection)
        connection.setup(uid, self.config.rate_burst)
        return None

    # -- client frames --------------------------------------------------------------

    async def handle(self, connection: ServerConnection) -> None:
        assert isinstance(connection, Connection)
        self.rooms.connect(connection.connection_id, connection.uid, connection)
        self.metrics.connections.inc()
        log.info("socket opened", extra={"json_fields": _ids(connection)})
        try:
            async for raw in connection:
                await self.relay(connection, raw, now_ms())
        except ConnectionClosed:
            pass  # an abnormal close (1006, 1007, 1009) is the client's, not a crash of ours
        finally:
            self.metrics.connections.dec()
            sessions = self.rooms.sessions_of(connection)
            self.rooms.disconnect(connection.connection_id, connection.uid)
            if sessions and not self.draining:
                # Closed without LEAVE_SESSION (a tab closed, a phone gone): tell the
                # sessions. Not when draining: those players are reconnecting elsewhere.
                leaving = asyncio.create_task(self._publish_disconnected(connection, sessions))
                self.closing.add(leaving)
                leaving.add_done_callback(self.closing.discard)
            log.info("socket closed", extra={"json_fields": _ids(connection, code=connection.close_code)})

    async def relay(self, conn: Connection, raw: str | bytes, received_at_ms: int) -> None:
        if conn.state is not State.OPEN:
            return  # closing: frames still in flight are read (so the close can complete) and dropped
        if not self._take_token(conn):
            self.metrics.refusals.labels("rate_limited").inc()
            if self._strike(conn) > self.config.rate_burst:
                # Warned at every refused frame and still flooding: not a client that listens.
                # Close in the background and keep reading, or the close frame would wait
                # behind the unread flood.
                closing = asyncio.create_task(conn.close(1008, "Rate limit exceeded"))
                self.closing.add(closing)
                closing.add_done_callback(self.closing.discard)
                return
            await self._send(conn, error_frame(ErrorCode.RATE_LIMITED, "Too many messages: slow down"))
            return
        try:
            frame = parse_client_frame(raw)
        except ProtocolError as refusal:
            self.metrics.refusals.labels("invalid_message").inc()
            await self._send(conn, error_frame(refusal.code, refusal.message, message_id=refusal.message_id))
            return
        self.metrics.frames_in.labels(frame.type.value).inc()
        if frame.type is ClientType.PING:
            pong = server_frame(
                ServerType.PONG,
                {"server_time": format_timestamp(received_at_ms)},
                message_id=frame.message_id,
            )
            await self._send(conn, pong)
            return
        accepted = conn.accepted_ids
        if accepted is None or frame.message_id not in accepted:
            if not await self._publish(conn, frame, received_at_ms):
                return
            if accepted is None:
                conn.accepted_ids = accepted = OrderedDict()
            accepted[frame.message_id] = None
            if len(accepted) > ACCEPTED_IDS_KEPT:
                accepted.popitem(last=False)
        # Accepted = stored by Pub/Sub; a resend of an accepted id is acknowledged again.
        await self._send(conn, server_frame(ServerType.ACK, {"message_id": frame.message_id}))

    async def _publish(self, conn: Connection, frame: ClientFrame, received_at_ms: int) -> bool:
        """Publish a command in its own span, which continues the client's trace if the
        frame names one; its context rides in the attributes to on_command. False when
        Pub/Sub did not take it (the client is told to send it again)."""
        data = {"type": frame.type.value, "payload": frame.payload, "message_id": frame.message_id}
        with tracing.tracer().start_as_current_span(
            "publish quiz-commands",
            context=tracing.from_client_traceparent(frame.traceparent),
            kind=SpanKind.PRODUCER,
            attributes={"quiz.frame_type": frame.type.value},
        ):
            attributes = tracing.inject(self._stamps(conn, received_at_ms))
            session_id = frame.payload.get("session_id")
            try:
                await self._submit(str(session_id or ""), data, attributes)
            except Exception as exc:  # noqa: BLE001 - whatever failed, the frame was not accepted
                log.error("publish failed", extra={"json_fields": _ids(conn, error=str(exc))})
                failed = error_frame(
                    ErrorCode.INTERNAL, "Not accepted: send it again", message_id=frame.message_id
                )
                await self._send(conn, failed)
                return False
            self.metrics.publish_latency.observe((now_ms() - received_at_ms) / 1000)
            # One line per command a player sends (join, answer, leave...), with its trace:
            # where following an answer through the logs starts. Never one per frame sent.
            fields = _ids(conn, type=frame.type.value, message_id=frame.message_id, session_id=session_id)
            log.info("command accepted", extra={"json_fields": fields})
        return True

    async def _publish_disconnected(self, conn: Connection, sessions: list[str]) -> None:
        """A LEAVE_SESSION per session the closed socket was in, marked as a disconnect:
        the functions mark the player away only if this was still their connection."""
        attributes = self._stamps(conn, now_ms()) | {ATTR_DISCONNECTED: "1"}
        for session_id in sessions:
            frame = {
                "type": ClientType.LEAVE_SESSION.value,
                "payload": {"session_id": session_id},
                "message_id": uuid.uuid4().hex,
            }
            try:
                await self._submit(session_id, frame, attributes)
            except Exception as exc:  # noqa: BLE001 - the player then shows as present until they return
                log.warning("disconnect not published", extra={"json_fields": _ids(conn, error=str(exc))})

    async def _submit(self, session_id: str, frame: dict[str, Any], attributes: dict[str, str]) -> None:
        """A command to quiz-commands in its session's next batch; returns once stored."""
        await self.batcher.submit(session_id, encode_command(encode_frame(frame).encode(), attributes))

    def _stamps(self, conn: Connection, received_at_ms: int) -> dict[str, str]:
        """What the gateway vouches for on every command it publishes."""
        return {
            ATTR_UID: conn.uid,
            ATTR_RECEIVED_AT_MS: str(received_at_ms),
            ATTR_CONNECTION_ID: conn.connection_id,
            ATTR_GATEWAY_ID: self.config.gateway_id,
        }

    async def _send(self, conn: Connection, frame: dict[str, Any]) -> None:
        self.metrics.frames_out.labels(frame["type"]).inc()
        await conn.send(encode_frame(frame))

    def _strike(self, conn: Connection) -> float:
        now = time.monotonic()
        conn.strikes = max(0.0, conn.strikes - (now - conn.struck_at) * self.config.rate_per_s) + 1
        conn.struck_at = now
        return conn.strikes

    def _take_token(self, conn: Connection) -> bool:
        now = time.monotonic()
        conn.tokens = min(
            self.config.rate_burst, conn.tokens + (now - conn.refill_at) * self.config.rate_per_s
        )
        conn.refill_at = now
        if conn.tokens < 1:
            return False
        conn.tokens -= 1
        return True

    # -- events ---------------------------------------------------------------------

    def deliver(self, data: bytes, attributes: dict[str, str], published_s: float) -> None:
        """Fan one event out to this instance's sockets; runs on the event loop."""
        session_id = attributes.get(ATTR_SESSION_ID, "")
        if attributes.get(ATTR_BUNDLE) == "1":
            self._deliver_bundle(session_id, data, attributes, published_s)
            return
        room = attributes.get(ATTR_ROOM)
        recipients = self.rooms.recipients(
            session_id, attributes.get(ATTR_TARGET_UID), attributes.get(ATTR_TARGET_CONNECTION)
        )
        if room == ROOM_LEAVE:
            self.rooms.leave(session_id, recipients)
        if not recipients:
            return
        if room == ROOM_ENTER:
            self.rooms.enter(session_id, recipients)
        if is_leaderboard(data):
            self._pace_leaderboard(session_id, data, attributes.get(ATTR_TRACEPARENT))
            return
        if room is None and not attributes.get(ATTR_TARGET_UID) and is_presence(data):
            self._pace_presence(session_id, data, attributes)
            return
        self._broadcast(recipients, data, attributes, published_s)

    def _broadcast(
        self, recipients: list[Connection], data: bytes, attributes: dict[str, str], published_s: float
    ) -> None:
        recipients = [c for c in recipients if self._keeping_up(c)]
        kind = frame_type(data)
        with _fan_out_span(kind, attributes, len(recipients)):
            broadcast(recipients, data.decode())
        self.metrics.frames_out.labels(kind).inc(len(recipients))
        self.metrics.fanout_latency.observe(max(0.0, time.time() - published_s))

    def _pace_presence(self, session_id: str, data: bytes, attributes: dict[str, str]) -> None:
        loop = asyncio.get_running_loop()
        now_frames, release_at = self.presence.offer(session_id, data, loop.time())
        for frame in now_frames:
            self._broadcast(self.rooms.recipients(session_id, None, None), frame, attributes, time.time())
        if release_at is not None:
            loop.call_later(
                max(0.0, release_at - loop.time()), self._release_presence, session_id, attributes
            )

    def _release_presence(self, session_id: str, attributes: dict[str, str]) -> None:
        now = asyncio.get_running_loop().time()
        for frame in self.presence.release(session_id, now):
            self._broadcast(self.rooms.recipients(session_id, None, None), frame, attributes, time.time())
        self.presence.forget_idle(now)

    def _deliver_bundle(
        self, session_id: str, data: bytes, attributes: dict[str, str], published_s: float
    ) -> None:
        """Frames for several users of a session in one event (a batch's scores): each
        goes to its own user's sockets here, if this instance holds any."""
        sent: dict[str, int] = {}
        frames = split_bundle(data)
        first_type = frame_type(frames[0][1]) if frames else "bundle"
        with _fan_out_span(first_type, attributes, 0) as span:
            for uid, frame in frames:
                recipients = [c for c in self.rooms.recipients(session_id, uid, None) if self._keeping_up(c)]
                if recipients:
                    broadcast(recipients, frame, text=True)
                    kind = frame_type(frame)
                    sent[kind] = sent.get(kind, 0) + len(recipients)
            span.set_attribute("quiz.recipients", sum(sent.values()))
        for kind, count in sent.items():
            self.metrics.frames_out.labels(kind).inc(count)
        if sent:
            self.metrics.fanout_latency.observe(max(0.0, time.time() - published_s))

    def _pace_leaderboard(self, session_id: str, data: bytes, traceparent: str | None) -> None:
        """Conflate bursts: a backlog upstream or a batch from the subscription must not
        reach players as a flurry. At most one leaderboard per session per gap, the newest
        by version (boards travel unordered: an older one arriving late is dropped)."""
        pending = self.boards_pending.get(session_id)
        if pending is not None and board_version(pending) > board_version(data):
            return
        self.boards_pending[session_id] = data
        if traceparent:
            self.boards_trace[session_id] = traceparent
        else:
            self.boards_trace.pop(session_id, None)
        if pending is None:
            loop = asyncio.get_running_loop()
            due = self.boards_sent_at.get(session_id, 0.0) + self.config.leaderboard_gap_s
            loop.call_later(max(0.0, due - loop.time()), self._send_leaderboard, session_id)

    def _send_leaderboard(self, session_id: str) -> None:
        data = self.boards_pending.pop(session_id)
        traceparent = self.boards_trace.pop(session_id, None)
        version = board_version(data)
        if version <= self.boards_version.get(session_id, -1):
            return  # flushes can publish out of window order: never show an older board
        self.boards_version[session_id] = version
        recipients = [c for c in self.rooms.recipients(session_id, None, None) if self._keeping_up(c)]
        if recipients:
            self.boards_sent_at[session_id] = asyncio.get_running_loop().time()
            # The fan-out continues the trace of the flush that published this board (of
            # the answer that asked for it): one span however many sockets get it.
            carrier = {ATTR_TRACEPARENT: traceparent} if traceparent else {}
            with _fan_out_span(ServerType.LEADERBOARD_UPDATED.value, carrier, len(recipients)):
                self._deliver_leaderboard(data, recipients)
        else:
            self.boards_sent_at.pop(session_id, None)

    def _deliver_leaderboard(self, data: bytes, recipients: list[Connection]) -> None:
        """Each socket gets the board with its own `your_rank` in place of `ranks`. The
        functions encode the payload last and `ranks` last in it, so this only slices and
        splices bytes: the board is never decoded here."""
        shared, ranks = split_board(data)
        rank_of = rank_lookup(ranks, len(recipients))
        frames: dict[int | None, bytes] = {}  # ties share a rank, and so a frame
        for conn in recipients:
            rank = rank_of(conn.uid)
            frame = frames.get(rank)
            if frame is None:
                frame = frames[rank] = with_rank(shared, rank)
            broadcast([conn], frame, text=True)
        self.metrics.frames_out.labels(ServerType.LEADERBOARD_UPDATED.value).inc(len(recipients))

    def _keeping_up(self, conn: Connection) -> bool:
        """A socket whose unsent backlog passes the limit is closed, not waited for."""
        transport = conn.transport
        if transport is None or transport.get_write_buffer_size() <= self.config.send_buffer_limit_bytes:
            return True
        self.metrics.slow_sockets_dropped.inc()
        self.rooms.disconnect(conn.connection_id, conn.uid)  # no more events for it
        log.warning(
            "slow socket closed",
            extra={"json_fields": {"uid": conn.uid, "connection_id": conn.connection_id}},
        )
        transport.abort()
        return False

    # -- lifecycle ------------------------------------------------------------------

    async def run(self, ready: asyncio.Event | None = None) -> None:
        loop = asyncio.get_running_loop()
        self.subscription.start(loop, self.deliver)
        stop = loop.create_future()

        def request_stop() -> None:
            if not stop.done():
                stop.set_result(None)

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, request_stop)
        server: Server
        async with serve(
            self.handle,
            self.config.host,
            self.config.port,
            create_connection=Connection,
            process_request=self.process_request,
            select_subprotocol=select_subprotocol,
            compression=None,  # permessage-deflate costs ~45 KiB per socket
            max_size=self.config.max_frame_bytes,
            ping_interval=self.config.ping_interval_s,
            ping_timeout=self.config.ping_interval_s,
        ) as server:
            log.info(
                "gateway listening",
                extra={"json_fields": {"port": self.config.port, "gateway_id": self.config.gateway_id}},
            )
            if ready is not None:
                ready.set()
            await stop
            log.info("gateway stopping: closing sockets with 1012")
            self.draining = True
            server.close(close_connections=True, code=1012, reason="Service restarting")
            await server.wait_closed()
        await asyncio.to_thread(self.subscription.stop)


def _fan_out_span(frame_type: str, carrier: dict[str, str], recipients: int) -> AbstractContextManager[Span]:
    """One span per event fanned out, never one per socket, in the trace the event carries."""
    return tracing.tracer().start_as_current_span(
        f"fan-out {frame_type}",
        context=tracing.extract(carrier),
        kind=SpanKind.CONSUMER,
        attributes={"quiz.recipients": recipients},
    )


def _ids(conn: Connection, **more: Any) -> dict[str, Any]:
    """A socket's ids for a lifecycle log line (built then: a dict kept per socket costs memory)."""
    return {"uid": conn.uid, "connection_id": conn.connection_id, **more}
