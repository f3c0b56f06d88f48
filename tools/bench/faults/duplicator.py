"""Copies, as Pub/Sub's at-least-once delivery makes them: every command of the ledger's
sessions published again, `copies` more times (new message ids, same data and
attributes), one copy at once and the others after a delay, a few long after their
question closed; and every event on quiz-events likewise (a copy at once or late, out of
order), which each socket must still see once."""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
import uuid
from collections import defaultdict
from typing import Any

from devstack.stack import COMMANDS_TOPIC, EVENTS_TOPIC, PROJECT_ID
from vocabquiz.protocol.envelope import ATTR_SESSION_ID, commands_from_message


class Duplicator:
    """Sees every message on `topic` (its own pull subscription) and publishes each one
    of the ledger's sessions `copies` more times with the same data and attributes."""

    topic_name = COMMANDS_TOPIC

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        copies: int,
        late_share: float,
        rng: random.Random,
        sessions: set[str],
    ) -> None:
        from google.cloud import pubsub_v1  # type: ignore[attr-defined,unused-ignore]

        self.loop, self.rng = loop, rng
        self.sessions, self.copies, self.late_share = sessions, copies, late_share
        self.publisher = pubsub_v1.PublisherClient(
            batch_settings=pubsub_v1.types.BatchSettings(max_messages=100, max_latency=0.001)
        )
        self.subscriber = pubsub_v1.SubscriberClient()
        self.topic = self.publisher.topic_path(PROJECT_ID, self.topic_name)
        self.path = self.subscriber.subscription_path(
            PROJECT_ID, f"{self.topic_name}-ledger-{uuid.uuid4().hex[:8]}"
        )
        self.seen: set[tuple[bytes, tuple[tuple[str, str], ...]]] = set()
        # Client message id -> the connections that published it (more than one: a frame
        # whose ACK died with its gateway, published by it and again after the resend).
        self.connections: defaultdict[str, set[str]] = defaultdict(set)
        self.lock = threading.Lock()
        self.originals = 0
        self.published = 0
        self.failed = 0
        self.late = 0
        self.pending = 0
        self._future: Any = None

    def start(self) -> None:
        from google.cloud import pubsub_v1  # type: ignore[attr-defined,unused-ignore]

        self.subscriber.create_subscription(name=self.path, topic=self.topic, ack_deadline_seconds=30)
        self._future = self.subscriber.subscribe(
            self.path, self._on_message, flow_control=pubsub_v1.types.FlowControl(max_messages=2000)
        )

    def stop(self) -> None:
        if self._future is not None:
            self._future.cancel()
            with contextlib.suppress(Exception):
                self._future.result(timeout=5)
        with contextlib.suppress(Exception):
            self.subscriber.delete_subscription(subscription=self.path, timeout=10)

    def _ours(self, data: bytes, attributes: dict[str, str]) -> int:
        """How many of the ledger's commands the message carries: a command, or the
        gateway's batch of one session's commands (the whole message is published again,
        as Pub/Sub redelivers it, and counted per command)."""
        try:
            commands, _ = commands_from_message(data, attributes)
        except (ValueError, KeyError, TypeError):
            return 0
        ours = [c for c in commands if c.session_id in self.sessions]
        with self.lock:
            for command in ours:
                self.connections[str(command.frame.get("message_id"))].add(command.connection_id)
        return len(ours)

    def _on_message(self, message: Any) -> None:
        attributes = dict(message.attributes)
        data = bytes(message.data)
        key = (data, tuple(sorted(attributes.items())))
        with self.lock:
            fresh = key not in self.seen
            self.seen.add(key)
        ours = self._ours(data, attributes) if fresh else 0
        if ours:
            with self.lock:
                self.originals += ours
                delays = [0.0] + [self._delay() for _ in range(self.copies - 1)]
                self.pending += len(delays[: self.copies])
            for delay in delays[: self.copies]:
                self.loop.call_soon_threadsafe(self._schedule, delay, data, attributes, ours)
        message.ack()

    def _delay(self) -> float:
        if self.rng.random() < self.late_share:
            self.late += 1
            return self.rng.uniform(6, 10)  # long after the question closed
        return self.rng.uniform(0, 1.5)

    def _schedule(self, delay: float, data: bytes, attributes: dict[str, str], commands: int) -> None:
        self.loop.call_later(delay, self._publish, data, attributes, commands)

    def _publish(self, data: bytes, attributes: dict[str, str], commands: int) -> None:
        future = self.publisher.publish(self.topic, data, **attributes)

        def done(f: Any) -> None:
            with self.lock:
                self.pending -= 1
                if f.exception() is None:
                    self.published += commands
                else:
                    self.failed += 1

        future.add_done_callback(done)


class EventDuplicator(Duplicator):
    """Every event of the ledger's sessions (a frame, or a bundle of a batch's scores)
    published again without its ordering key: a copy at once, or one that comes late and
    out of order. The gateway must hand each socket an event once."""

    topic_name = EVENTS_TOPIC

    def _ours(self, data: bytes, attributes: dict[str, str]) -> int:
        return int(attributes.get(ATTR_SESSION_ID) in self.sessions)

    def _delay(self) -> float:
        if self.rng.random() < self.late_share:
            self.late += 1
            return self.rng.uniform(2, 5)
        return self.rng.uniform(0, 0.3)
