"""Creating Cloud Tasks: named leaderboard flushes and question timers.

A task's name is derived from what it does and when, so Cloud Tasks' refusal of a
duplicate name (ALREADY_EXISTS) is what batches flushes and de-duplicates timers.
"""

from __future__ import annotations

import json

from google.api_core import exceptions as gexc
from google.cloud import tasks_v2
from google.protobuf import timestamp_pb2
from opentelemetry.trace import SpanKind

from vocabquiz.observability import tracing
from vocabquiz.service.config import Config
from vocabquiz.service.ports import TaskRequest


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
