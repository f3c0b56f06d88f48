"""Commands from the sockets to `quiz-commands`: what the gateway vouches for on each (who
sent it, when it arrived, on which connection), its publish span, and the session batch
it rides in (gateway.batching). In a fault run (QUIZ_FAULTS, vocabquiz/faults.py) this is
where a stored batch's reply gets lost."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from opentelemetry.trace import SpanKind

from gateway.batching import CommandBatcher
from gateway.connection import Connection
from gateway.metrics import Metrics
from gateway.pubsub import Publisher
from vocabquiz.faults import Dice
from vocabquiz.observability import tracing
from vocabquiz.protocol import ClientFrame, ClientType, encode_frame, now_ms
from vocabquiz.protocol.envelope import (
    ATTR_CONNECTION_ID,
    ATTR_DISCONNECTED,
    ATTR_GATEWAY_ID,
    ATTR_RECEIVED_AT_MS,
    ATTR_SESSION_ID,
    ATTR_UID,
    encode_command,
)

log = logging.getLogger("quiz.gateway")


class PublishReplyLost(Exception):
    """Injected (QUIZ_FAULTS=lost_publish_reply): Pub/Sub stored the batch, and the
    gateway acts as if the reply never came. Its frames get no ACK; their clients send
    them again, and the functions must take the copy as the same command."""


class Drained(Exception):
    """SIGTERM's drain gave up waiting for this command's publish: no ACK (its client
    sends it again, after reconnecting), as with a lost reply."""


class InFlight:
    """How many commands have not had their ACK (or ERROR) yet: what a SIGTERM waits for
    before it closes the sockets. A count, not a Task per command: the publish is awaited
    inline, and the batcher already holds a future per command (it is what `abandon`
    gives up on)."""

    __slots__ = ("_count", "_none")

    def __init__(self) -> None:
        self._count = 0
        self._none = asyncio.Event()
        self._none.set()

    def __len__(self) -> int:
        return self._count

    def add(self) -> None:
        self._count += 1
        self._none.clear()

    def done(self) -> None:
        self._count -= 1
        if not self._count:
            self._none.set()

    async def settled(self, timeout_s: float) -> bool:
        """Whether every command in flight was answered within `timeout_s`."""
        try:
            await asyncio.wait_for(self._none.wait(), timeout_s)
        except TimeoutError:
            return False
        return True


class Commands:
    def __init__(
        self, gateway_id: str, publisher: Publisher, batch_gap_s: float, metrics: Metrics, dice: Dice
    ) -> None:
        self.gateway_id = gateway_id
        self.publisher = publisher
        self.batcher = CommandBatcher(self._publish_batch, batch_gap_s)
        self.metrics = metrics
        self.dice = dice
        # The clock of the gateway's receive stamps (skewed in a fault run).
        self.clock_ms = dice.clock_ms(now_ms)

    async def publish(self, conn: Connection, frame: ClientFrame, received_at_ms: int) -> None:
        """Publish a command in its own span, which continues the client's trace if the
        frame names one; its context rides in the attributes to on_command. Returns once
        Pub/Sub stored it; raises when it did not (the client is to send it again), and
        PublishReplyLost when a fault run acts as if it did not."""
        data = {"type": frame.type.value, "payload": frame.payload, "message_id": frame.message_id}
        with tracing.tracer().start_as_current_span(
            "publish quiz-commands",
            context=tracing.from_client_traceparent(frame.traceparent),
            kind=SpanKind.PRODUCER,
            attributes={"quiz.frame_type": frame.type.value},
        ):
            attributes = tracing.inject(self.stamps(conn, received_at_ms))
            session_id = frame.payload.get("session_id")
            await self._submit(str(session_id or ""), data, attributes)
            self.metrics.publish_latency.observe((self.clock_ms() - received_at_ms) / 1000)
            # One line per command a player sends (join, answer, leave...), with its trace:
            # where following an answer through the logs starts. Never one per frame sent.
            fields = conn.ids(type=frame.type.value, message_id=frame.message_id, session_id=session_id)
            log.info("command accepted", extra={"json_fields": fields})

    async def publish_disconnected(self, conn: Connection, sessions: list[str]) -> None:
        """A LEAVE_SESSION per session the closed socket was in, marked as a disconnect:
        the functions mark the player away only if this was still their connection."""
        attributes = self.stamps(conn, self.clock_ms()) | {ATTR_DISCONNECTED: "1"}
        for session_id in sessions:
            frame = {
                "type": ClientType.LEAVE_SESSION.value,
                "payload": {"session_id": session_id},
                "message_id": uuid.uuid4().hex,
            }
            try:
                await self._submit(session_id, frame, attributes)
            except PublishReplyLost:
                pass  # stored all the same
            except Exception as exc:  # noqa: BLE001 - the player then shows as present until they return
                log.warning("disconnect not published", extra={"json_fields": conn.ids(error=str(exc))})

    def stamps(self, conn: Connection, received_at_ms: int) -> dict[str, str]:
        """What the gateway vouches for on every command it publishes."""
        return {
            ATTR_UID: conn.uid,
            ATTR_RECEIVED_AT_MS: str(received_at_ms),
            ATTR_CONNECTION_ID: conn.connection_id,
            ATTR_GATEWAY_ID: self.gateway_id,
        }

    async def _submit(self, session_id: str, frame: dict[str, Any], attributes: dict[str, str]) -> None:
        """A command to quiz-commands in its session's next batch; returns once stored."""
        await self.batcher.submit(session_id, encode_command(encode_frame(frame).encode(), attributes))

    def abandon(self) -> None:
        """SIGTERM waited long enough: every command still waiting for its publish raises
        Drained, so that a publish that never resolves cannot hold the shutdown."""
        self.batcher.abandon(Drained())

    async def _publish_batch(self, data: bytes, attributes: dict[str, str]) -> None:
        await self.publisher.publish(data, attributes)
        if self.dice.roll("lost_publish_reply"):
            fields = {"session_id": attributes.get(ATTR_SESSION_ID)}
            log.warning("injected fault: a publish's reply lost", extra={"json_fields": fields})
            raise PublishReplyLost
