"""The gateway's asyncio server: accept a socket once the handshake's checks pass, feed
its frames to the core and relay the commands the core lets through to `quiz-commands`;
events from `quiz-events` go out through the fan-out. The decisions live in
gateway.handshake, gateway.core and gateway.rooms; this module does their I/O."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
import uuid
from collections.abc import Coroutine
from http import HTTPStatus
from typing import Any

import firebase_admin
from opentelemetry.trace import SpanKind
from prometheus_client import CONTENT_TYPE_LATEST
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.protocol import State

from gateway.batching import CommandBatcher
from gateway.config import GatewayConfig
from gateway.core import Client, FrameLimits, Publish, Refused
from gateway.fanout import FanOut
from gateway.handshake import Handshake, HandshakeRefused, forget_token, select_subprotocol
from gateway.metrics import Metrics
from gateway.pubsub import CommandPublisher, EventSubscription
from gateway.rooms import Rooms
from gateway.static import WEB_ROOT, StaticFiles
from vocabquiz.observability import tracing
from vocabquiz.protocol import ClientFrame, ClientType, ErrorCode, encode_frame, error_frame, now_ms
from vocabquiz.protocol.envelope import (
    ATTR_CONNECTION_ID,
    ATTR_DISCONNECTED,
    ATTR_GATEWAY_ID,
    ATTR_RECEIVED_AT_MS,
    ATTR_UID,
    encode_command,
)
from vocabquiz.protocol.types import ServerFrame

log = logging.getLogger("quiz.gateway")


class Connection(ServerConnection):
    """A socket plus who it is (set at the handshake). What the core keeps of its
    client lives in `handle`, from the first frame on: an idle socket holds none."""

    __slots__ = ("connection_id", "uid")

    def setup(self, uid: str) -> None:
        self.uid = uid
        self.connection_id = uuid.uuid4().hex


class Gateway:
    def __init__(self, config: GatewayConfig) -> None:
        self.config = config
        self.rooms: Rooms[Connection] = Rooms()
        self.publisher = CommandPublisher(config.project_id, config.commands_topic)
        self.batcher = CommandBatcher(self.publisher.publish, config.command_batch_gap_s)
        self.subscription = EventSubscription(config.project_id, config.events_topic, config.gateway_id)
        self.metrics = Metrics()
        self.fanout = FanOut(config, self.rooms, self.metrics)
        self.handshake = Handshake(config.allowed_origins, config.max_connections_per_user)
        self.limits = FrameLimits(config.rate_per_s, config.rate_burst)
        self.closing: set[asyncio.Task[None]] = set()
        self.draining = False  # SIGTERM: sockets are closed to reconnect elsewhere
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
        connection.setup(uid)
        return None

    # -- client frames --------------------------------------------------------------

    async def handle(self, connection: ServerConnection) -> None:
        assert isinstance(connection, Connection)
        self.rooms.connect(connection.connection_id, connection.uid, connection)
        self.metrics.connections.inc()
        log.info("socket opened", extra={"json_fields": _ids(connection)})
        client: Client | None = None
        try:
            async for raw in connection:
                received_at_ms = now_ms()
                if client is None:
                    client = Client(self.limits, _monotonic_us())
                await self.relay(connection, client, raw, received_at_ms)
        except ConnectionClosed:
            pass  # an abnormal close (1006, 1007, 1009) is the client's, not a crash of ours
        finally:
            self.metrics.connections.dec()
            sessions = self.rooms.sessions_of(connection)
            self.rooms.disconnect(connection.connection_id, connection.uid)
            if sessions and not self.draining:
                # Closed without LEAVE_SESSION (a tab closed, a phone gone): tell the
                # sessions. Not when draining: those players are reconnecting elsewhere.
                self._in_background(self._publish_disconnected(connection, sessions))
            log.info("socket closed", extra={"json_fields": _ids(connection, code=connection.close_code)})

    async def relay(self, conn: Connection, client: Client, raw: str | bytes, received_at_ms: int) -> None:
        """Feed one frame to the core and do what it says."""
        if conn.state is not State.OPEN:
            return  # closing: frames still in flight are read (so the close can complete) and dropped
        verdict = client.read(raw, _monotonic_us(), received_at_ms)
        if isinstance(verdict, Refused):
            self.metrics.refusals.labels(verdict.reason).inc()
            if verdict.close is not None:
                # In the background, reading on: the close frame would wait behind the unread flood.
                self._in_background(conn.close(*verdict.close))
            elif verdict.error is not None:
                await self._send(conn, verdict.error)
            return
        frame = verdict.frame
        self.metrics.frames_in.labels(frame.type.value).inc()
        if isinstance(verdict, Publish):
            if not await self._publish(conn, frame, received_at_ms):
                return
            await self._send(conn, client.accepted(frame.message_id))
        else:
            await self._send(conn, verdict.reply)

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

    async def _send(self, conn: Connection, frame: ServerFrame) -> None:
        self.metrics.frames_out.labels(frame["type"]).inc()
        await conn.send(encode_frame(frame))

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self.closing.add(task)
        task.add_done_callback(self.closing.discard)

    # -- lifecycle ------------------------------------------------------------------

    async def run(self, ready: asyncio.Event | None = None) -> None:
        loop = asyncio.get_running_loop()
        self.subscription.start(loop, self.fanout.deliver)
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


def _monotonic_us() -> int:
    """The clock the core's limits count in."""
    return time.monotonic_ns() // 1000


def _ids(conn: Connection, **more: Any) -> dict[str, Any]:
    """A socket's ids for a lifecycle log line (built then: a dict kept per socket costs memory)."""
    return {"uid": conn.uid, "connection_id": conn.connection_id, **more}
