"""The gateway's Prometheus metrics, served at /metrics on 127.0.0.1 only (server.serve_metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.connections = Gauge("quiz_gateway_connections", "Open WebSockets", registry=self.registry)
        self.frames_in = Counter(
            "quiz_gateway_frames_in_total",
            "Client frames received, by type",
            ["type"],
            registry=self.registry,
        )
        self.frames_out = Counter(
            "quiz_gateway_frames_out_total",
            "Frames written to sockets, by type",
            ["type"],
            registry=self.registry,
        )
        self.refusals = Counter(
            "quiz_gateway_refusals_total",
            "Handshakes and frames refused, by reason",
            ["reason"],
            registry=self.registry,
        )
        self.publish_latency = Histogram(
            "quiz_gateway_publish_latency_seconds",
            "Client frame received -> Pub/Sub confirmed the publish",
            buckets=LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self.fanout_latency = Histogram(
            "quiz_gateway_fanout_latency_seconds",
            "Event published by a function -> written to this instance's sockets",
            buckets=LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self.slow_sockets_dropped = Counter(
            "quiz_gateway_slow_sockets_dropped_total",
            "Sockets closed for falling behind",
            registry=self.registry,
        )
        self.events_streams_lost = Counter(
            "quiz_gateway_events_streams_lost_total",
            "Times the quiz-events stream ended on its own (its subscription deleted, an error no "
            "retry fixes): subscribed again, then every socket closed with 1012 to REJOIN",
            registry=self.registry,
        )
        self.repeated_events = Counter(
            "quiz_gateway_repeated_events_total",
            "Events that came again (Pub/Sub delivers at least once; a function that runs again "
            "publishes again): sent only to sockets opened since the event last went out",
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
