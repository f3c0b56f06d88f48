"""Fixtures for the Cloud Tasks emulator tests.

The emulator runs as a real subprocess (``python -m tasks_emulator``) in its
own process group, driven by the stock google-cloud-tasks client; tasks are
delivered to an in-process HTTP receiver that records every request and can
be told to fail or stall.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from google.cloud import tasks_v2

from tasks_emulator.client import make_client
from tests.tasks_emulator.harness import (
    LOCATION,
    EmulatorProcess,
    QueueFactory,
    Receiver,
    queue_with,
    run_emulator,
    serve_receiver,
)


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    log_path = tmp_path_factory.mktemp("tasks_emulator") / "emulator.log"
    with run_emulator(log_path, "--log-level", "DEBUG") as running:
        yield running


@pytest.fixture(scope="session")
def client(emulator: EmulatorProcess) -> tasks_v2.CloudTasksClient:
    return make_client(emulator.address)


@pytest.fixture(scope="session")
def receiver() -> Iterator[Receiver]:
    rec, server = serve_receiver()
    yield rec
    server.shutdown()
    server.server_close()


@pytest.fixture
def make_queue(client: tasks_v2.CloudTasksClient) -> QueueFactory:
    """Create a queue with a fresh name; keyword arguments as for ``queue_with``."""

    def create(**settings: Any) -> str:
        name = f"{LOCATION}/queues/q-{uuid.uuid4().hex[:16]}"
        return client.create_queue(parent=LOCATION, queue=queue_with(name, **settings)).name

    return create
