"""Publishing events to `quiz-events`, and an in-memory twin for tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from google.cloud import pubsub_v1  # type: ignore[attr-defined,unused-ignore]
from opentelemetry.trace import SpanKind

from protocol import tracing
from protocol.envelope import Event


class EventPublisher(Protocol):
    def publish(self, events: Sequence[Event]) -> None:
        """Publish all events and return once Pub/Sub has accepted every one."""


class PubSubPublisher:
    def __init__(self, project_id: str, topic: str) -> None:
        # The default 10 ms batching window is a tenth of our latency budget: a frame
        # goes out at once, and a burst still batches on the client's own thread.
        self.client = pubsub_v1.PublisherClient(
            batch_settings=pubsub_v1.types.BatchSettings(max_messages=500, max_latency=0.001),
            publisher_options=pubsub_v1.types.PublisherOptions(enable_message_ordering=True),
        )
        self.topic_path = self.client.topic_path(project_id, topic)

    def publish(self, events: Sequence[Event]) -> None:
        if not events:
            return
        with tracing.tracer().start_as_current_span(
            "publish quiz-events",
            kind=SpanKind.PRODUCER,
            attributes={"messaging.system": "gcp_pubsub", "messaging.batch.message_count": len(events)},
        ):
            carrier: dict[str, str] = {}
            self._publish(events, tracing.inject(carrier))

    def _publish(self, events: Sequence[Event], trace_attributes: dict[str, str]) -> None:
        # Ordering key = session: every gateway instance sees a session's frames in the
        # order they were published. Each event carries this span's trace context: the
        # gateway's fan-out continues it.
        futures = [
            (
                event.session_id,
                self.client.publish(
                    self.topic_path,
                    event.data(),
                    ordering_key=event.session_id,
                    **event.attributes(),
                    **trace_attributes,
                ),
            )
            for event in events
        ]
        for ordering_key, future in futures:
            try:
                future.result(timeout=30)
            except Exception:
                # A failed ordered publish pauses its key until resumed; the caller's
                # retry (redelivery) publishes again.
                self.client.resume_publish(self.topic_path, ordering_key)
                raise


class MemoryPublisher:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def publish(self, events: Sequence[Event]) -> None:
        self.events.extend(events)
