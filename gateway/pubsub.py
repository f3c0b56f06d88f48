"""The gateway's two Pub/Sub ends: publishing commands, and this instance's own
subscription to `quiz-events` (created at start, deleted at shutdown)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol

from google.api_core import exceptions as gexc
from google.cloud import pubsub_v1  # type: ignore[attr-defined,unused-ignore]
from google.cloud.pubsub_v1.subscriber.message import Message
from google.pubsub_v1 import types as pubsub_types

log = logging.getLogger("quiz.gateway.pubsub")

# (data, attributes, publish time in epoch seconds)
OnEvent = Callable[[bytes, dict[str, str], float], None]
# Why a stream ended on its own (None: it ended without saying).
OnLost = Callable[[BaseException | None], None]


class Publisher(Protocol):
    """The gateway's port to `quiz-commands` (CommandPublisher; tests use an in-memory one)."""

    async def publish(self, data: bytes, attributes: dict[str, str]) -> object: ...

    def ready(self) -> bool: ...


class Subscription(Protocol):
    """The gateway's port to `quiz-events` (EventSubscription; tests use an in-memory one)."""

    streaming: bool

    def start(self, loop: asyncio.AbstractEventLoop, on_event: OnEvent, on_lost: OnLost) -> None: ...

    def resume(self) -> None: ...

    def stop(self) -> None: ...


class CommandPublisher:
    def __init__(self, project_id: str, topic: str) -> None:
        # Default batching waits 10 ms for company; a player's answer should not.
        self.client = pubsub_v1.PublisherClient(
            batch_settings=pubsub_v1.types.BatchSettings(max_messages=500, max_latency=0.001)
        )
        self.topic_path = self.client.topic_path(project_id, topic)

    async def publish(self, data: bytes, attributes: dict[str, str]) -> str:
        """Resolve once Pub/Sub has stored the message; returns its server id."""
        future = self.client.publish(self.topic_path, data, **attributes)
        return str(await asyncio.wrap_future(future))

    def ready(self) -> bool:
        try:
            self.client.api.get_topic(topic=self.topic_path, timeout=2)
        except gexc.GoogleAPICallError:
            return False
        return True


class EventSubscription:
    """One subscription per gateway instance: every instance sees every event and
    delivers the ones whose sockets it holds. A stream that ends on its own (its
    subscription deleted, an error no retry of the client library fixes) is reported to
    `on_lost`; `resume` then streams again."""

    def __init__(self, project_id: str, topic: str, gateway_id: str) -> None:
        self.client = pubsub_v1.SubscriberClient()
        self.topic_path = self.client.topic_path(project_id, topic)
        self.path = self.client.subscription_path(project_id, f"{topic}-gw-{gateway_id}")
        self.streaming = False
        self._future: pubsub_v1.subscriber.futures.StreamingPullFuture | None = None
        # resume and stop exclude each other: a resume that a stop overtook would
        # recreate the subscription stop just deleted.
        self._lock = threading.Lock()
        self._stopping = False

    def start(self, loop: asyncio.AbstractEventLoop, on_event: OnEvent, on_lost: OnLost) -> None:
        """Create the subscription and stream from it; raises when either fails."""
        self._loop, self._on_event, self._on_lost = loop, on_event, on_lost
        self.client.create_subscription(request=self._subscription())
        self._subscribe()
        log.info("event subscription started", extra={"json_fields": {"subscription": self.path}})

    def resume(self) -> None:
        """Stream again after a loss, creating the subscription again if it is gone.
        Blocking; raises when Pub/Sub refuses (the caller tries again)."""
        with self._lock:
            if self._stopping:
                return
            # AlreadyExists: the stream ended for another reason, the subscription is still there.
            with contextlib.suppress(gexc.AlreadyExists):
                self.client.create_subscription(request=self._subscription(), timeout=10)
            self._subscribe()
        log.info("event subscription resumed", extra={"json_fields": {"subscription": self.path}})

    def _subscription(self) -> pubsub_types.Subscription:
        return pubsub_types.Subscription(
            name=self.path,
            topic=self.topic_path,
            ack_deadline_seconds=10,
            enable_message_ordering=True,
            # If this instance dies without cleaning up, Pub/Sub deletes the
            # subscription after a day idle (the shortest expiry it allows).
            expiration_policy=pubsub_types.ExpirationPolicy(ttl={"seconds": 24 * 3600}),
            message_retention_duration={"seconds": 600},
        )

    def _subscribe(self) -> None:
        loop, on_event = self._loop, self._on_event
        # Sockets live on the event loop. Events queue here and the loop drains them in
        # one wake-up per burst: waking it once per event costs a syscall each.
        queued: deque[tuple[bytes, dict[str, str], float]] = deque()
        wake_pending = threading.Event()

        def drain() -> None:
            wake_pending.clear()  # first: an event queued from now on wakes the loop again
            while queued:
                on_event(*queued.popleft())

        def callback(message: Message) -> None:
            # Ack at once: an event missed by a socket that dropped is recovered by
            # REJOIN, not by replay.
            queued.append((message.data, dict(message.attributes), message.publish_time.timestamp()))
            message.ack()
            if not wake_pending.is_set():
                wake_pending.set()
                loop.call_soon_threadsafe(drain)

        self._future = self.client.subscribe(
            self.path, callback, flow_control=pubsub_v1.types.FlowControl(max_messages=2000)
        )
        self.streaming = True
        self._future.add_done_callback(self._ended)

    def _ended(self, future: Future[Any]) -> None:
        """The stream is over (on the client library's thread)."""
        self.streaming = False
        if self._stopping:
            return
        error = future.exception() if not future.cancelled() else None
        self._loop.call_soon_threadsafe(self._on_lost, error)

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
        if self._future is not None:
            self._future.cancel()
            # A cancelled future raises; we only wait for the stream to wind down.
            with contextlib.suppress(Exception):
                self._future.result(timeout=5)
        try:
            self.client.delete_subscription(subscription=self.path, timeout=5)
        except gexc.GoogleAPICallError as exc:
            log.warning("could not delete subscription", extra={"json_fields": {"error": str(exc)}})
        log.info("event subscription deleted", extra={"json_fields": {"subscription": self.path}})
