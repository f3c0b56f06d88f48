"""Parsing and validation of Cloud Tasks resource names.

Formats (from the v2 API reference):
  projects/PROJECT_ID/locations/LOCATION_ID
  projects/PROJECT_ID/locations/LOCATION_ID/queues/QUEUE_ID
  projects/PROJECT_ID/locations/LOCATION_ID/queues/QUEUE_ID/tasks/TASK_ID
PROJECT_ID may hold letters, digits, hyphens, colons and periods; QUEUE_ID
letters, digits and hyphens (at most 100); TASK_ID letters, digits, hyphens
and underscores (at most 500). Anything else is INVALID_ARGUMENT.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tasks_emulator.errors import InvalidArgument

_PROJECT = r"[A-Za-z0-9.:-]{1,100}"
_LOCATION = r"[A-Za-z0-9_-]{1,100}"
_QUEUE = r"[A-Za-z0-9-]{1,100}"
_TASK = r"[A-Za-z0-9_-]{1,500}"

_LOCATION_RE = re.compile(rf"projects/({_PROJECT})/locations/({_LOCATION})")
_QUEUE_RE = re.compile(rf"projects/({_PROJECT})/locations/({_LOCATION})/queues/({_QUEUE})")
_TASK_RE = re.compile(rf"projects/({_PROJECT})/locations/({_LOCATION})/queues/({_QUEUE})/tasks/({_TASK})")


@dataclass(frozen=True)
class QueueName:
    project: str
    location: str
    queue_id: str

    @property
    def parent(self) -> str:
        return f"projects/{self.project}/locations/{self.location}"

    def __str__(self) -> str:
        return f"{self.parent}/queues/{self.queue_id}"


@dataclass(frozen=True)
class TaskName:
    queue: QueueName
    task_id: str

    def __str__(self) -> str:
        return f"{self.queue}/tasks/{self.task_id}"


def parse_location(name: str) -> str:
    """Validate a ``projects/P/locations/L`` parent and return it unchanged."""
    if not _LOCATION_RE.fullmatch(name):
        raise InvalidArgument(
            f"Invalid resource field value in the request: parent {name!r} "
            "(expected projects/PROJECT_ID/locations/LOCATION_ID)"
        )
    return name


def parse_queue(name: str) -> QueueName:
    m = _QUEUE_RE.fullmatch(name)
    if not m:
        raise InvalidArgument(
            f"Invalid queue name {name!r} (expected "
            "projects/PROJECT_ID/locations/LOCATION_ID/queues/QUEUE_ID, "
            "QUEUE_ID of letters, digits and hyphens, at most 100 characters)"
        )
    return QueueName(m[1], m[2], m[3])


def parse_task(name: str) -> TaskName:
    m = _TASK_RE.fullmatch(name)
    if not m:
        raise InvalidArgument(
            f"Invalid task name {name!r} (expected "
            "projects/PROJECT_ID/locations/LOCATION_ID/queues/QUEUE_ID/tasks/TASK_ID, "
            "TASK_ID of letters, digits, hyphens and underscores, at most 500 characters)"
        )
    return TaskName(QueueName(m[1], m[2], m[3]), m[4])
