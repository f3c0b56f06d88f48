"""The gateway's asyncio server: accept a socket once the handshake's checks pass, feed
its frames to the core and relay the commands the core lets through to `quiz-commands`;
events from `quiz-events` go out through the fan-out. The decisions live in
gateway.handshake, gateway.core and gateway.rooms; this module does their I/O."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Coroutine
from http import HTTPStatus
from typing import Any
from wsgiref.simple_server import WSGIServer

import firebase_admin
from prometheus_client import start_http_server
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.protocol import State

from gateway.commands import Commands, Drained, InFlight, PublishReplyLost
from gateway.config import GatewayConfig
from gateway.connection import RESTART_CLOSE, Connection
from gateway.core import Client, FrameLimits, Publish, Refused
from gateway.fanout import FanOut
from gateway.handshake import Handshake, HandshakeRefused, forget_token, select_subprotocol
from gateway.metrics import Metrics
from gateway.pubsub import CommandPublisher, EventSubscription, Publisher, Subscription
from gateway.rooms import Rooms
from gateway.static import WEB_ROOT, StaticFiles
from vocabquiz.faults import Dice
from vocabquiz.protocol import ClientFrame, ErrorCode, encode_frame, error_frame
from vocabquiz.protocol.types import ServerFrame

log = logging.getLogger("quiz.gateway")
RESUME_BACKOFF_S = (0.5, 5.0)  # first and longest wait between attempts to resubscribe
# How much of a frame whose handling failed its log line shows: a client's text, kept short.
FRAME_PREFIX_BYTES = 64


class Gateway:
    def __init__(
        self,
        config: GatewayConfig,
        publisher: Publisher | None = None,
        subscription: Subscription | None = None,
    ) -> None:
        self.config = config
        self.rooms: Rooms[Connection] = Rooms()
        self.publisher = publisher or CommandPublisher(config.project_id, config.commands_topic)
        self.subscription = subscription or EventSubscription(
            config.project_id, config.events_topic, config.gateway_id
        )
        self.metrics = Metrics()
        self.commands = Commands(
            config.gateway_id, self.publisher, config.command_batch_gap_s, self.metrics, Dice(config.faults)
        )
        self.fanout = FanOut(config, self.rooms, self.metrics)
        self.handshake = Handshake(
            config.allowed_origins,
            config.max_connections_per_user,
            app_check_enforced=config.app_check_enforced,
        )
        self.limits = FrameLimits(config.rate_per_s, config.rate_burst)
        self.closing: set[asyncio.Task[None]] = set()
        self.port: int | None = None  # bound, once serving
        self.metrics_port: int | None = None  # bound, once serving (if served)
        self._metrics_server: WSGIServer | None = None
        # The commands topic's answer to the last background check (/health/ready reads it).
        self.commands_reachable = False
        self.in_flight = InFlight()
        self.draining = False  # SIGTERM: no frame relayed from now on
        self._stop = asyncio.Event()
        self._resuming: asyncio.Task[None] | None = None  # the events stream, after a loss
        self.static = StaticFiles(
            WEB_ROOT,
            {
                "api_url": config.public_api_url,
                "project_id": config.project_id,
                "firebase_api_key": config.firebase_api_key,
                "auth_emulator_url": config.auth_emulator_url,
                "firebase_app_id": config.firebase_app_id,
                "app_check_site_key": config.app_check_site_key,
            },
        )
        if not firebase_admin._apps:
            firebase_admin.initialize_app(options={"projectId": config.project_id})

    # -- handshake ------------------------------------------------------------------

    async def process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        # /metrics is not here: it is served on 127.0.0.1 only (`serve_metrics`).
        if request.path in ("/health/live", "/health"):
            return connection.respond(HTTPStatus.OK, "ok\n")
        if request.path == "/health/ready":
            # Not while the events stream is down (a socket opened now would hear nothing),
            # nor while draining, nor while the commands topic did not answer the last check.
            ready = self.subscription.streaming and not self.draining and self.commands_reachable
            return connection.respond(
                HTTPStatus.OK if ready else HTTPStatus.SERVICE_UNAVAILABLE, f"{ready}\n"
            )
        if request.path.split("?")[0] != "/ws":
            found = self.static.response(request.path)
            return found or connection.respond(HTTPStatus.NOT_FOUND, "Not found\n")
        try:
            self.handshake.check_origin(request.headers)
            if self.handshake.app_check_enforced:
                await asyncio.to_thread(self.handshake.check_app, request.headers)
            token = self.handshake.token(request.headers)
            uid = await asyncio.to_thread(self.handshake.verify, token)
            forget_token(request.headers)
            self.handshake.check_sockets(self.rooms.connections_of(uid))
        except HandshakeRefused as refused:
            self.metrics.refusals.labels(refused.reason).inc()
            fields = {"status": int(refused.status), "reason": refused.reason}
            if refused.detail:
                fields["detail"] = refused.detail  # the log's alone: the client gets `message`
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
        log.info("socket opened", extra={"json_fields": connection.ids()})
        client: Client | None = None
        try:
            async for raw in connection:
                received_at_ms = self.commands.clock_ms()
                if client is None:
                    client = Client(self.limits, _monotonic_us())
                await self.relay(connection, client, raw, received_at_ms)
        except ConnectionClosed:
            pass  # an abnormal close (1006, 1007, 1009) is the client's, not a crash of ours
        finally:
            self.metrics.connections.dec()
            sessions = self.rooms.sessions_of(connection)
            self.rooms.disconnect(connection.connection_id, connection.uid)
            if sessions and not connection.closed_to_reconnect:
                # Closed without LEAVE_SESSION (a tab closed, a phone gone): tell the
                # sessions. Not when this gateway closed it with 1012: that player is reconnecting.
                self._in_background(self.commands.publish_disconnected(connection, sessions))
            log.info("socket closed", extra={"json_fields": connection.ids(code=connection.close_code)})

    async def relay(self, conn: Connection, client: Client, raw: str | bytes, received_at_ms: int) -> None:
        """Feed one frame to the core and do what it says. A frame costs its socket no more
        than itself: whatever fails in its handling, its client gets an ERROR (INTERNAL) and
        the socket reads on, where an exception out of here would close it with 1011."""
        if conn.state is not State.OPEN or self.draining:
            # Closing, or about to: frames still coming are read (so the close can complete)
            # and dropped. Never published, never acknowledged: the client sends them again.
            return
        message_id: str | None = None  # the frame's, once the core has read it
        try:
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
            message_id = frame.message_id
            self.metrics.frames_in.labels(frame.type.value).inc()
            if isinstance(verdict, Publish):
                await self._publish(conn, client, frame, received_at_ms)
            else:
                await self._send(conn, verdict.reply)
        except ConnectionClosed:
            raise  # the socket is gone: no one to answer (handle's loop ends)
        except Exception:  # noqa: BLE001 - a bug of ours, met by one frame: that frame's alone
            await self._frame_failed(conn, raw, message_id)

    async def _frame_failed(self, conn: Connection, raw: str | bytes, message_id: str | None) -> None:
        """One line with the traceback and no more of the frame than its start (a client's
        text); the client gets INTERNAL, echoing the frame's message_id when it was read."""
        self.metrics.refusals.labels("internal").inc()
        data = raw.encode() if isinstance(raw, str) else raw
        start = data[:FRAME_PREFIX_BYTES].decode(errors="replace")
        fields = conn.ids(frame_bytes=len(data), frame_start=start, message_id=message_id)
        log.exception(
            "frame handling failed: the frame dropped, the socket kept", extra={"json_fields": fields}
        )
        failed = error_frame(ErrorCode.INTERNAL, "This message could not be handled", message_id=message_id)
        await self._send(conn, failed)

    async def _publish(
        self, conn: Connection, client: Client, frame: ClientFrame, received_at_ms: int
    ) -> None:
        """Publish a command, then acknowledge it (or tell the client to send it again).
        Awaited inline: a Task per command (and asyncio.wait on it) cost a quarter of a
        command's CPU and three more trips through the loop's ready queue, in which the
        command could miss its batch (the batcher already holds a future per command)."""
        self.in_flight.add()
        try:
            try:
                await self.commands.publish(conn, frame, received_at_ms)
            except (PublishReplyLost, Drained):
                # A fault run acting as if Pub/Sub's reply never came, or SIGTERM gave up
                # on it: no ACK, the client sends it again.
                return
            except Exception as error:  # noqa: BLE001 - whatever failed, the frame was not accepted
                log.error("publish failed", extra={"json_fields": conn.ids(error=str(error))})
                failed = error_frame(
                    ErrorCode.INTERNAL, "Not accepted: send it again", message_id=frame.message_id
                )
                await self._send(conn, failed)
                return
            await self._send(conn, client.accepted(frame.message_id))
        finally:
            self.in_flight.done()

    async def _send(self, conn: Connection, frame: ServerFrame) -> None:
        self.metrics.frames_out.labels(frame["type"]).inc()
        await conn.send(encode_frame(frame))

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self.closing.add(task)
        task.add_done_callback(self.closing.discard)

    # -- lifecycle ------------------------------------------------------------------

    async def run(self) -> None:
        """Serve until SIGTERM (how Cloud Run stops an instance) or SIGINT."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop)
        await self.serve()

    def stop(self) -> None:
        self._stop.set()

    async def serve(self, ready: asyncio.Event | None = None) -> None:
        """Serve until `stop`, then close every socket with 1012 and delete the subscription."""
        self.subscription.start(asyncio.get_running_loop(), self.fanout.deliver, self._events_lost)
        ready_checks = asyncio.create_task(self._check_commands_topic())
        self.serve_metrics()
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
            self.port = server.sockets[0].getsockname()[1]
            log.info(
                "gateway listening",
                extra={"json_fields": {"port": self.port, "gateway_id": self.config.gateway_id}},
            )
            if ready is not None:
                ready.set()
            await self._stop.wait()
            await self._drain()
            server.close(close_connections=True, code=RESTART_CLOSE[0], reason=RESTART_CLOSE[1])
            await server.wait_closed()
        if self._resuming is not None:
            self._resuming.cancel()
        ready_checks.cancel()
        await asyncio.to_thread(self.subscription.stop)
        # Last: the sidecar scrapes once more as the instance shuts down.
        if self._metrics_server is not None:
            await asyncio.to_thread(self._metrics_server.shutdown)
            self._metrics_server.server_close()

    def serve_metrics(self) -> None:
        """Prometheus /metrics on 127.0.0.1: the sidecar in the same Cloud Run instance
        scrapes it over localhost; the internet reaches only the public port, which has no
        /metrics. prometheus_client serves it from its own thread, so a scrape still answers
        while the event loop is busy."""
        if self.config.metrics_port is None:
            return
        self._metrics_server, _ = start_http_server(
            self.config.metrics_port, addr="127.0.0.1", registry=self.metrics.registry
        )
        self.metrics_port = self._metrics_server.server_port
        log.info("metrics listening", extra={"json_fields": {"host": "127.0.0.1", "port": self.metrics_port}})

    async def _check_commands_topic(self) -> None:
        """Ask whether the commands topic answers, every `ready_check_interval_s`: the
        answer /health/ready gives comes from here, so no probe calls Pub/Sub's admin API."""
        while True:
            try:
                reachable = await asyncio.to_thread(self.publisher.ready)
            except Exception as exc:  # noqa: BLE001 - not reachable, whatever the reason; asked again
                log.warning("commands topic check failed", extra={"json_fields": {"error": str(exc)}})
                reachable = False
            if reachable != self.commands_reachable:
                fields = {"reachable": reachable}
                log.info("commands topic reachability changed", extra={"json_fields": fields})
            self.commands_reachable = reachable
            await asyncio.sleep(self.config.ready_check_interval_s)

    async def _drain(self) -> None:
        """SIGTERM: no frame is relayed from now on, and the commands in flight get their
        ACK (or ERROR) before the sockets close, for up to `drain_timeout_s`. A player then
        resends only frames this gateway never published (or, past the timeout, could not
        confirm)."""
        self.draining = True
        fields = {"in_flight": len(self.in_flight), "timeout_s": self.config.drain_timeout_s}
        log.info("gateway stopping: draining, then closing sockets with 1012", extra={"json_fields": fields})
        if not await self.in_flight.settled(self.config.drain_timeout_s):
            fields["in_flight"] = len(self.in_flight)
            log.warning("drain timed out: closing with commands in flight", extra={"json_fields": fields})
            self.commands.abandon()

    # -- the events stream lost ---------------------------------------------------------

    def _events_lost(self, error: BaseException | None) -> None:
        """The events stream ended on its own (its subscription deleted by an operator or
        expired, an error no retry fixes) while the sockets stay open: subscribe again."""
        if self._stop.is_set():
            return
        self.metrics.events_streams_lost.inc()
        log.warning("events stream lost: subscribing again", extra={"json_fields": {"error": str(error)}})
        self._resuming = asyncio.create_task(self._resume_events())

    async def _resume_events(self) -> None:
        delay_s = RESUME_BACKOFF_S[0]
        while True:
            try:
                await asyncio.to_thread(self.subscription.resume)
                break
            except Exception as exc:  # noqa: BLE001 - tried again until Pub/Sub takes it
                fields = {"error": str(exc), "retry_in_s": delay_s}
                log.warning("events stream not resumed yet", extra={"json_fields": fields})
                await asyncio.sleep(delay_s)
                delay_s = min(delay_s * 2, RESUME_BACKOFF_S[1])
        # The events published meanwhile are lost: every socket reconnects and REJOINs,
        # which gives its player the session as it is now.
        log.info("events stream resumed: closing sockets with 1012", extra={"json_fields": {}})
        for conn in list(self.rooms.by_id.values()):
            self._in_background(conn.close(*RESTART_CLOSE))


def _monotonic_us() -> int:
    """The clock the core's limits count in."""
    return time.monotonic_ns() // 1000
