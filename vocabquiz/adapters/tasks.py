"""Creating Cloud Tasks: named leaderboard flushes and question timers.

A task's name is derived from what it does and when, so Cloud Tasks' refusal of a
duplicate name (ALREADY_EXISTS) is what batches flushes and de-duplicates timers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from google.api_core import exceptions as gexc
from google.cloud import tasks_v2
from google.protobuf import timestamp_pb2
from opentelemetry.trace import SpanKind

from vocabquiz.adapters.naming import stable_hash, task_id
from vocabquiz.observability import tracing
from vocabquiz.service.config import Config


@dataclass(frozen=True, slots=True)
class TaskRequest:
    queue: str
    task_id: str
    url: str
    body: dict[str, Any]
    due_ms: int
    kind: str  # "lb", "snap", or a timer's action: for spans and logs


class TaskQueue(Protocol):
    def create(self, request: TaskRequest) -> bool:
        """Create the task; False when a task of that name exists or existed recently."""


FLUSH_KIND, SNAPSHOT_KIND = "lb", "snap"  # a flush task's kind: in its name, spans and logs


def flush_request(config: Config, session_id: str, window: int, snapshot: bool = False) -> TaskRequest:
    kind = SNAPSHOT_KIND if snapshot else FLUSH_KIND
    window_ms = config.snapshot_window_ms if snapshot else config.flush_window_ms
    queue = f"{config.flush_queue_prefix}-{stable_hash(session_id) % config.flush_queue_count}"
    return TaskRequest(
        queue=queue,
        task_id=task_id(kind, session_id, window),
        url=config.flush_url,
        body={"session_id": session_id, "window": window, "snapshot": snapshot},
        due_ms=(window + 1) * window_ms,
        kind=kind,
    )


def timer_request(config: Config, session_id: str, action: str, index: int, due_ms: int) -> TaskRequest:
    return TaskRequest(
        queue=config.timer_queue,
        task_id=task_id(action, session_id, index),
        url=config.timer_url,
        body={"session_id": session_id, "action": action, "index": index},
        due_ms=due_ms,
        kind=action,
    )


class CloudTasksQueue:
    def __init__(self, config: Config) -> None:
        if config.tasks_emulator_host:
            from tasks_emulator.client import make_client

            self.client = make_client(config.tasks_emulator_host)
        else:
            self.client = tasks_v2.CloudTasksClient()
        self.config = config

    def create(self, request: TaskRequest) -> bool:
        with tracing.tracer().start_as_current_span(
            f"create task {request.kind}",
            kind=SpanKind.PRODUCER,
            attributes={"cloud_tasks.queue": request.queue, "cloud_tasks.task_id": request.task_id},
        ) as span:
            created = self._create(request)
            span.set_attribute("cloud_tasks.already_exists", not created)
            return created

    def _create(self, request: TaskRequest) -> bool:
        parent = self.client.queue_path(self.config.project_id, self.config.tasks_location, request.queue)
        # The task's handler continues this trace: Cloud Tasks passes the headers through.
        headers = tracing.inject({"Content-Type": "application/json"})
        http = tasks_v2.HttpRequest(
            http_method=tasks_v2.HttpMethod.POST,
            url=request.url,
            headers=headers,
            body=json.dumps(request.body).encode(),
        )
        if self.config.tasks_service_account:
            http.oidc_token = tasks_v2.OidcToken(
                service_account_email=self.config.tasks_service_account, audience=request.url
            )
        due = timestamp_pb2.Timestamp()
        due.FromMilliseconds(request.due_ms)
        task = tasks_v2.Task(name=f"{parent}/tasks/{request.task_id}", http_request=http, schedule_time=due)
        try:
            self.client.create_task(parent=parent, task=task)
        except gexc.AlreadyExists:
            return False
        return True


class MemoryTaskQueue:
    def __init__(self) -> None:
        self.created: list[TaskRequest] = []
        self.names: set[tuple[str, str]] = set()

    def create(self, request: TaskRequest) -> bool:
        if (request.queue, request.task_id) in self.names:
            return False
        self.names.add((request.queue, request.task_id))
        self.created.append(request)
        return True
