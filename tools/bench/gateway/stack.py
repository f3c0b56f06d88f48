"""The gateway under test and what it needs: the Pub/Sub emulator (own process group),
the two topics, a pull subscription on quiz-commands (to learn each socket's connection
id from its JOIN_SESSION), and a publisher shaped like the functions' (ordering keys)."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from google.api_core import exceptions as gexc
from google.cloud import pubsub_v1  # type: ignore[attr-defined,unused-ignore]

from bench.gateway.common import ROOT
from devstack.processes import Child, free_port, spawn, wait_for_port
from devstack.stack import COMMANDS_TOPIC, EVENTS_TOPIC, PROJECT_ID
from vocabquiz.protocol.envelope import commands_from_message

HOST = "127.0.0.1"
COMMANDS_PULL = "bench-commands"


class BenchStack:
    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.children: list[Child] = []
        self.pubsub_address = ""
        self.publisher: pubsub_v1.PublisherClient | None = None
        self.subscriber: pubsub_v1.SubscriberClient | None = None

    # -- processes ----------------------------------------------------------------------

    def start_emulator(self) -> Child:
        port = free_port()
        self.pubsub_address = f"{HOST}:{port}"
        argv = [
            "gcloud",
            "beta",
            "emulators",
            "pubsub",
            "start",
            f"--host-port={self.pubsub_address}",
            f"--project={PROJECT_ID}",
        ]
        child = spawn("pubsub", argv, dict(os.environ), self.log_dir, cwd=self.log_dir)
        self.children.append(child)
        wait_for_port(child, HOST, port, timeout_s=90)
        os.environ["PUBSUB_EMULATOR_HOST"] = self.pubsub_address
        os.environ["GOOGLE_CLOUD_PROJECT"] = PROJECT_ID
        self._provision()
        return child

    def _provision(self) -> None:
        self.publisher = pubsub_v1.PublisherClient(
            batch_settings=pubsub_v1.types.BatchSettings(max_messages=500, max_latency=0.001),
            publisher_options=pubsub_v1.types.PublisherOptions(enable_message_ordering=True),
        )
        self.subscriber = pubsub_v1.SubscriberClient()
        for topic in (COMMANDS_TOPIC, EVENTS_TOPIC):
            with contextlib.suppress(gexc.AlreadyExists):
                self.publisher.create_topic(name=self.publisher.topic_path(PROJECT_ID, topic))
        with contextlib.suppress(gexc.AlreadyExists):
            self.subscriber.create_subscription(
                name=self.subscriber.subscription_path(PROJECT_ID, COMMANDS_PULL),
                topic=self.publisher.topic_path(PROJECT_ID, COMMANDS_TOPIC),
                ack_deadline_seconds=60,
            )

    def start_gateway(self) -> tuple[Child, int]:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.endswith("_EMULATOR_HOST")}
        env.update(
            GOOGLE_CLOUD_PROJECT=PROJECT_ID,
            PUBSUB_EMULATOR_HOST=self.pubsub_address,
            # Any host:port: firebase-admin then accepts unsigned tokens and calls nothing.
            FIREBASE_AUTH_EMULATOR_HOST=f"{HOST}:{free_port()}",
            HOST=HOST,
            PORT=str(port),
            ALLOWED_ORIGINS="",
            PYTHONPATH=str(ROOT),
            PYTHONUNBUFFERED="1",
            # As deployed (terraform's trace_sample_ratio): a tenth of new traces recorded.
            TRACE_SAMPLE_RATIO="0.1",
        )
        child = spawn("gateway", [sys.executable, "-m", "gateway"], env, self.log_dir, cwd=ROOT)
        self.children.append(child)
        wait_for_port(child, HOST, port, timeout_s=60)
        return child, port

    def stop_child(self, child: Child) -> None:
        child.stop()
        if child in self.children:
            self.children.remove(child)

    def stop(self) -> None:
        for client in (self.publisher, self.subscriber):
            if client is not None:
                with contextlib.suppress(Exception):
                    (client.stop() if isinstance(client, pubsub_v1.PublisherClient) else client.close())
        for child in reversed(self.children):
            child.stop()
        self.children.clear()

    # -- Pub/Sub --------------------------------------------------------------------------

    def connection_ids(self, uids: set[str], timeout_s: float = 60) -> dict[str, str]:
        """uid -> connection id, from the JOIN_SESSION commands the gateway published."""
        assert self.subscriber is not None
        path = self.subscriber.subscription_path(PROJECT_ID, COMMANDS_PULL)
        found: dict[str, str] = {}
        deadline = time.monotonic() + timeout_s
        while not uids <= found.keys() and time.monotonic() < deadline:
            with contextlib.suppress(gexc.DeadlineExceeded):
                response = self.subscriber.pull(subscription=path, max_messages=1000, timeout=10)
                ack_ids = []
                for received in response.received_messages:
                    message = received.message
                    commands, _ = commands_from_message(message.data, dict(message.attributes))
                    found.update((command.uid, command.connection_id) for command in commands)
                    ack_ids.append(received.ack_id)
                if ack_ids:
                    self.subscriber.acknowledge(subscription=path, ack_ids=ack_ids)
        return found

    def publish(self, data: bytes, attributes: dict[str, str], ordering_key: str = "") -> object:
        assert self.publisher is not None
        topic = self.publisher.topic_path(PROJECT_ID, EVENTS_TOPIC)
        return self.publisher.publish(topic, data, ordering_key=ordering_key, **attributes)

    @staticmethod
    def wait_published(futures: Iterable[object], timeout_s: float = 60) -> None:
        for future in futures:
            future.result(timeout=timeout_s)  # type: ignore[attr-defined]
