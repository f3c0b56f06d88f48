"""Queues, tasks and name tombstones: the emulator's whole state, with no I/O.

Every method takes ``now_us`` (wall-clock microseconds) instead of reading a
clock, so the dispatch rules can be unit-tested without sleeping.  The
dispatcher asks :meth:`Store.poll` what to do next and reports each attempt's
result to :meth:`Store.finish_attempt`; the gRPC layer calls the rest.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import replace

from tasks_emulator import policy
from tasks_emulator.errors import AlreadyExists, InvalidArgument, NotFound
from tasks_emulator.names import QueueName, TaskName
from tasks_emulator.policy import DispatchLimit
from tasks_emulator.records import (
    Attempt,
    Outcome,
    QueueRecord,
    QueueSpec,
    Started,
    TaskRecord,
    TaskSpec,
    Ticket,
    Tombstones,
    Verdict,
    Wait,
)

# CreateTask refuses a schedule_time further ahead than this (v2 reference:
# "schedule_time ... cannot be more than 30 days in the future").
MAX_SCHEDULE_AHEAD_US = 30 * 24 * 3600 * policy.US

# Cloud Tasks keeps the ID of a deleted or executed task reserved.  The v2
# CreateTaskRequest.task reference (googleapis cloudtasks.proto, as shipped in
# google-cloud-tasks 2.26) says "It can take up to 24 hours (or 9 days if the
# task's queue was created using a queue.yaml or queue.xml) for the task ID to
# be released"; older revisions said ~1 hour.  We default to the documented
# upper bound so a design that reuses names fails locally as it could in prod.
DEFAULT_TOMBSTONE_US = 24 * 3600 * policy.US


def _random_task_id() -> str:
    # Cloud Tasks generates long decimal ids; 63 random bits look the same.
    return str(random.getrandbits(63))


class Store:
    def __init__(
        self,
        tombstone_us: int = DEFAULT_TOMBSTONE_US,
        new_task_id: Callable[[], str] = _random_task_id,
    ) -> None:
        self._queues: dict[str, QueueRecord] = {}
        self.tombstones = Tombstones(tombstone_us)
        self._new_task_id = new_task_id
        self._instances = 0

    def _next_instance(self) -> int:
        self._instances += 1
        return self._instances

    # ---- queues -----------------------------------------------------------

    def create_queue(self, spec: QueueSpec, now_us: int) -> QueueRecord:
        key = str(spec.name)
        if key in self._queues:
            raise AlreadyExists(f"Queue {key} already exists")
        record = QueueRecord(spec, self._next_instance(), DispatchLimit(spec.rate, now_us))
        self._queues[key] = record
        return record

    def update_queue(self, spec: QueueSpec, now_us: int) -> QueueRecord:
        """UpdateQueue: replace the settable fields, creating the queue if absent."""
        record = self._queues.get(str(spec.name))
        if record is None:
            return self.create_queue(spec, now_us)
        record.spec = spec
        record.bucket.reconfigure(spec.rate)
        return record

    def find_queue(self, name: QueueName) -> QueueRecord | None:
        return self._queues.get(str(name))

    def get_queue(self, name: QueueName) -> QueueRecord:
        record = self._queues.get(str(name))
        if record is None:
            raise NotFound(f"Requested entity was not found. Queue {name} does not exist")
        return record

    def list_queues(self, parent: str) -> list[QueueRecord]:
        return sorted(
            (q for q in self._queues.values() if q.spec.name.parent == parent),
            key=lambda q: str(q.spec.name),
        )

    def delete_queue(self, name: QueueName, now_us: int) -> None:
        record = self.get_queue(name)
        for task_name in record.tasks:
            self.tombstones.bury(task_name, now_us)
        del self._queues[str(name)]

    def purge_queue(self, name: QueueName, now_us: int) -> QueueRecord:
        record = self.get_queue(name)
        for task_name in record.tasks:
            self.tombstones.bury(task_name, now_us)
        record.tasks.clear()
        record.ready.clear()
        record.purge_us = now_us
        return record

    def set_paused(self, name: QueueName, paused: bool) -> QueueRecord:
        record = self.get_queue(name)
        record.paused = paused
        return record

    # ---- tasks ------------------------------------------------------------

    def create_task(self, queue: QueueName, spec: TaskSpec, now_us: int) -> TaskRecord:
        record = self.get_queue(queue)
        if spec.schedule_us is not None and spec.schedule_us > now_us + MAX_SCHEDULE_AHEAD_US:
            raise InvalidArgument("Task.schedule_time cannot be more than 30 days in the future")
        schedule_us = now_us if spec.schedule_us is None else max(now_us, spec.schedule_us)
        if spec.task_id is None:
            name = self._fresh_name(queue, record, now_us)
        else:
            name = TaskName(queue, spec.task_id)
            key = str(name)
            if key in record.tasks:
                raise AlreadyExists(f"Requested entity already exists: task {key} exists")
            if self.tombstones.holds(key, now_us):
                raise AlreadyExists(
                    f"Requested entity already exists: the name of task {key} was used by a "
                    "task that was recently deleted or executed"
                )
        task = TaskRecord(
            name=name,
            spec=replace(spec, task_id=name.task_id),
            schedule_us=schedule_us,
            create_us=now_us,
            instance=self._next_instance(),
        )
        record.tasks[str(name)] = task
        heapq.heappush(record.ready, (task.schedule_us, task.instance, str(name)))
        return task

    def _fresh_name(self, queue: QueueName, record: QueueRecord, now_us: int) -> TaskName:
        while True:
            name = TaskName(queue, self._new_task_id())
            key = str(name)
            if key not in record.tasks and not self.tombstones.holds(key, now_us):
                return name

    def get_task(self, name: TaskName) -> TaskRecord:
        record = self._queues.get(str(name.queue))
        task = record.tasks.get(str(name)) if record else None
        if task is None:
            raise NotFound(f"Requested entity was not found. Task {name} does not exist")
        return task

    def list_tasks(self, queue: QueueName) -> list[TaskRecord]:
        record = self.get_queue(queue)
        return sorted(record.tasks.values(), key=lambda t: (t.schedule_us, str(t.name)))

    def delete_task(self, name: TaskName, now_us: int) -> None:
        self.get_task(name)
        record = self._queues[str(name.queue)]
        del record.tasks[str(name)]
        self.tombstones.bury(str(name), now_us)

    def run_task(self, name: TaskName, now_us: int) -> Started:
        """RunTask: dispatch now, ignoring pause, rate limits and running attempts."""
        task = self.get_task(name)
        return self._start(self._queues[str(name.queue)], task, now_us)

    # ---- dispatch ---------------------------------------------------------

    def poll(self, queue: str, now_us: int) -> Started | Wait | None:
        """The next attempt to send from ``queue``, or how long to wait (None: queue gone)."""
        record = self._queues.get(queue)
        if record is None:
            return None
        if record.paused:
            return Wait(None)
        if record.in_flight >= record.spec.rate.max_concurrent_dispatches:
            return Wait(None)  # finish_attempt frees a slot and the dispatcher re-polls
        due = self._next_due(record)
        if due is None:
            return Wait(None)
        if due > now_us:
            return Wait(due)
        token_wait = record.bucket.try_take(now_us)
        if token_wait:
            return Wait(now_us + token_wait)
        _, _, task_name = heapq.heappop(record.ready)
        return self._start(record, record.tasks[task_name], now_us)

    def _next_due(self, record: QueueRecord) -> int | None:
        while record.ready:
            schedule_us, instance, task_name = record.ready[0]
            task = record.tasks.get(task_name)
            if (
                task is not None
                and task.instance == instance
                and task.schedule_us == schedule_us
                and task.in_flight == 0
            ):
                return schedule_us
            heapq.heappop(record.ready)
        return None

    def _start(self, record: QueueRecord, task: TaskRecord, now_us: int) -> Started:
        previous = task.last_attempt
        started = Started(
            ticket=Ticket(str(record.spec.name), record.instance, str(task.name), task.instance),
            name=task.name,
            http=task.spec.http,
            eta_us=task.schedule_us,
            dispatch_us=now_us,
            dispatch_deadline_us=task.spec.dispatch_deadline_us,
            retry_count=task.dispatch_count,
            execution_count=task.execution_count,
            previous_response=previous.http_status if previous else None,
        )
        task.dispatch_count += 1
        if task.first_dispatch_us is None:
            task.first_dispatch_us = now_us
        task.last_attempt = Attempt(schedule_us=task.schedule_us, dispatch_us=now_us)
        task.in_flight += 1
        record.in_flight += 1
        return started

    def finish_attempt(self, ticket: Ticket, outcome: Outcome, now_us: int) -> Verdict:
        record = self._queues.get(ticket.queue)
        if record is None or record.instance != ticket.queue_instance:
            return Verdict("gone")
        record.in_flight -= 1
        task = record.tasks.get(ticket.task)
        if task is None or task.instance != ticket.task_instance:
            return Verdict("gone")  # deleted or purged while the request was out
        task.in_flight -= 1
        attempt = task.last_attempt
        if attempt is not None:
            attempt.response_us = now_us
            attempt.http_status = outcome.http_status
            attempt.error = outcome.error
        if outcome.http_status is not None:
            task.response_count += 1
            if not 500 <= outcome.http_status <= 599:
                task.execution_count += 1
        if outcome.succeeded:
            self._retire(record, task, now_us)
            return Verdict("succeeded")
        retry = task.spec.retry or record.spec.retry
        first = task.first_dispatch_us if task.first_dispatch_us is not None else now_us
        if not policy.may_retry(retry, task.dispatch_count, first, now_us):
            self._retire(record, task, now_us)
            return Verdict("dropped")
        task.schedule_us = now_us + policy.backoff_us(retry, task.dispatch_count)
        if task.in_flight == 0:  # else the attempt still out (RunTask) re-queues it
            heapq.heappush(record.ready, (task.schedule_us, task.instance, str(task.name)))
        return Verdict("retry", task.schedule_us)

    def _retire(self, record: QueueRecord, task: TaskRecord, now_us: int) -> None:
        del record.tasks[str(task.name)]
        self.tombstones.bury(str(task.name), now_us)
