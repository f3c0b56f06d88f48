"""Publishing events to `quiz-events` (the EventPublisher port; its twin is in memory.py)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from google.cloud import pubsub_v1  # type: ignore[attr-defined,unused-ignore]
from opentelemetry.trace import SpanKind

from vocabquiz.observability import tracing
from vocabquiz.protocol.envelope import ATTR_BUNDLE, ATTR_SESSION_ID, Event, encode_bundle

# One Pub/Sub message: (ordering key, data, attributes). An event's frame id rides in its
# frame only: the gateway reads it from the frame's bytes (gateway/repeats.py), bundled or not.
Message = tuple[str, bytes, dict[str, str]]


def messages_for(events: Sequence[Event]) -> list[Message]:
    """The messages that carry `events`: an ordered event on its session's key, an
    unordered one without a key, and a session's per-user frames (a batch's scores)
    bundled into one message the gateway splits."""
    messages: list[Message] = []
    bundles: defaultdict[str, list[tuple[str, bytes]]] = defaultdict(list)
    for event in events:
        if event.bundleable:
            assert event.target_uid is not None
            bundles[event.session_id].append((event.target_uid, event.data()))
        else:
            key = event.session_id if event.ordered else ""
            messages.append((key, event.data(), event.attributes()))
    for session_id, frames in bundles.items():
        messages.append(("", encode_bundle(frames), {ATTR_SESSION_ID: session_id, ATTR_BUNDLE: "1"}))
    return messages


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
            self._publish(messages_for(events), tracing.inject(carrier))

    def _publish(self, messages: list[Message], trace_attributes: dict[str, str]) -> None:
        # Each event carries this span's trace context: the gateway's fan-out continues it.
        futures = [
            (
                key,
                self.client.publish(
                    self.topic_path, data, ordering_key=key, **attributes, **trace_attributes
                ),
            )
            for key, data, attributes in messages
        ]
        for ordering_key, future in futures:
            try:
                future.result(timeout=30)
            except Exception:
                # A failed ordered publish pauses its key until resumed; the caller's
                # retry (redelivery) publishes again.
                if ordering_key:
                    self.client.resume_publish(self.topic_path, ordering_key)
                raise
