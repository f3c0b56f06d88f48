"""The gRPC face of the emulator: google.cloud.tasks.v2.CloudTasks.

Registered as a generic handler whose (de)serializers are the proto-plus
types' own ``serialize``/``deserialize``, so no generated stubs are needed.
Handlers are thin: parse names, call the store, convert back, and wake the
dispatcher when a queue changed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from google.cloud import tasks_v2

from tasks_emulator import convert
from tasks_emulator.dispatcher import Dispatcher, wall_clock_us
from tasks_emulator.errors import EmulatorError, InvalidArgument
from tasks_emulator.names import parse_location, parse_queue, parse_task
from tasks_emulator.records import QueueRecord
from tasks_emulator.store import Store

log = logging.getLogger("tasks_emulator.service")

SERVICE = "google.cloud.tasks.v2.CloudTasks"
# Methods of the service this emulator does not provide (UNIMPLEMENTED).
UNIMPLEMENTED = (
    "GetIamPolicy",
    "SetIamPolicy",
    "TestIamPermissions",
    "BatchCreateTasks",
    "BatchDeleteTasks",
    "GetCmekConfig",
    "UpdateCmekConfig",
)
MAX_PAGE_SIZE = 1000
_STATE_FILTER = re.compile(r"\s*state\s*[:=]\s*(RUNNING|PAUSED|DISABLED)\s*")


def _empty(_: object) -> bytes:
    return b""  # google.protobuf.Empty


def _page(items: list[Any], page_size: int, page_token: str) -> tuple[list[Any], str]:
    """Offset paging: the token is the index of the next item."""
    try:
        start = int(page_token) if page_token else 0
    except ValueError:
        raise InvalidArgument(f"Invalid page_token {page_token!r}") from None
    if page_size < 0 or start < 0:
        raise InvalidArgument("page_size and page_token must not be negative")
    size = min(page_size or MAX_PAGE_SIZE, MAX_PAGE_SIZE)
    end = start + size
    return items[start:end], str(end) if end < len(items) else ""


class CloudTasksService:
    def __init__(
        self,
        store: Store,
        dispatcher: Dispatcher,
        clock: Callable[[], int] = wall_clock_us,
    ) -> None:
        self._store = store
        self._dispatcher = dispatcher
        self._clock = clock

    # ---- queues -----------------------------------------------------------

    def create_queue(self, request: tasks_v2.CreateQueueRequest) -> tasks_v2.Queue:
        parent = parse_location(request.parent)
        name = parse_queue(request.queue.name)
        if name.parent != parent:
            raise InvalidArgument(f"Queue {name} is not under {parent}")
        spec = convert.queue_spec_from_proto(name, request.queue)
        record = self._store.create_queue(spec, self._clock())
        self._dispatcher.notify(str(name))
        return convert.queue_to_proto(record)

    def update_queue(self, request: tasks_v2.UpdateQueueRequest) -> tasks_v2.Queue:
        name = parse_queue(request.queue.name)
        existing = self._store.find_queue(name)
        mask = list(request.update_mask.paths) if "update_mask" in request else []
        spec = convert.queue_spec_from_proto(name, request.queue, existing.spec if existing else None, mask)
        record = self._store.update_queue(spec, self._clock())
        self._dispatcher.notify(str(name))
        return convert.queue_to_proto(record)

    def get_queue(self, request: tasks_v2.GetQueueRequest) -> tasks_v2.Queue:
        return convert.queue_to_proto(self._store.get_queue(parse_queue(request.name)))

    def list_queues(self, request: tasks_v2.ListQueuesRequest) -> tasks_v2.ListQueuesResponse:
        parent = parse_location(request.parent)
        queues = self._store.list_queues(parent)
        if request.filter:
            match = _STATE_FILTER.fullmatch(request.filter)
            if not match:
                raise InvalidArgument(f"Unsupported filter {request.filter!r} (only 'state: X')")
            queues = [q for q in queues if self._state(q) == match[1]]
        page, token = _page(queues, request.page_size, request.page_token)
        return tasks_v2.ListQueuesResponse(
            queues=[convert.queue_to_proto(q) for q in page], next_page_token=token
        )

    @staticmethod
    def _state(record: QueueRecord) -> str:
        return "PAUSED" if record.paused else "RUNNING"

    def delete_queue(self, request: tasks_v2.DeleteQueueRequest) -> None:
        name = parse_queue(request.name)
        self._store.delete_queue(name, self._clock())
        self._dispatcher.notify(str(name))

    def purge_queue(self, request: tasks_v2.PurgeQueueRequest) -> tasks_v2.Queue:
        name = parse_queue(request.name)
        record = self._store.purge_queue(name, self._clock())
        self._dispatcher.notify(str(name))
        return convert.queue_to_proto(record)

    def pause_queue(self, request: tasks_v2.PauseQueueRequest) -> tasks_v2.Queue:
        name = parse_queue(request.name)
        record = self._store.set_paused(name, True)
        return convert.queue_to_proto(record)

    def resume_queue(self, request: tasks_v2.ResumeQueueRequest) -> tasks_v2.Queue:
        name = parse_queue(request.name)
        record = self._store.set_paused(name, False)
        self._dispatcher.notify(str(name))
        return convert.queue_to_proto(record)

    # ---- tasks ------------------------------------------------------------

    def create_task(self, request: tasks_v2.CreateTaskRequest) -> tasks_v2.Task:
        queue = parse_queue(request.parent)
        self._store.get_queue(queue)  # NOT_FOUND before any task-shape complaint
        spec = convert.task_spec_from_request(request, queue)
        task = self._store.create_task(queue, spec, self._clock())
        self._dispatcher.notify(str(queue))
        return convert.task_to_proto(task, request.response_view)

    def get_task(self, request: tasks_v2.GetTaskRequest) -> tasks_v2.Task:
        task = self._store.get_task(parse_task(request.name))
        return convert.task_to_proto(task, request.response_view)

    def list_tasks(self, request: tasks_v2.ListTasksRequest) -> tasks_v2.ListTasksResponse:
        tasks = self._store.list_tasks(parse_queue(request.parent))
        page, token = _page(tasks, request.page_size, request.page_token)
        return tasks_v2.ListTasksResponse(
            tasks=[convert.task_to_proto(t, request.response_view) for t in page],
            next_page_token=token,
        )

    def delete_task(self, request: tasks_v2.DeleteTaskRequest) -> None:
        self._store.delete_task(parse_task(request.name), self._clock())

    def run_task(self, request: tasks_v2.RunTaskRequest) -> tasks_v2.Task:
        name = parse_task(request.name)
        started = self._store.run_task(name, self._clock())
        self._dispatcher.start(started)
        return convert.task_to_proto(self._store.get_task(name), request.response_view)

    # ---- wiring -----------------------------------------------------------

    def generic_handler(self) -> Any:
        T = tasks_v2
        table: dict[str, tuple[Callable[[Any], Any], Any, Callable[[Any], bytes]]] = {
            "CreateQueue": (self.create_queue, T.CreateQueueRequest, T.Queue.serialize),
            "UpdateQueue": (self.update_queue, T.UpdateQueueRequest, T.Queue.serialize),
            "GetQueue": (self.get_queue, T.GetQueueRequest, T.Queue.serialize),
            "ListQueues": (self.list_queues, T.ListQueuesRequest, T.ListQueuesResponse.serialize),
            "DeleteQueue": (self.delete_queue, T.DeleteQueueRequest, _empty),
            "PurgeQueue": (self.purge_queue, T.PurgeQueueRequest, T.Queue.serialize),
            "PauseQueue": (self.pause_queue, T.PauseQueueRequest, T.Queue.serialize),
            "ResumeQueue": (self.resume_queue, T.ResumeQueueRequest, T.Queue.serialize),
            "CreateTask": (self.create_task, T.CreateTaskRequest, T.Task.serialize),
            "GetTask": (self.get_task, T.GetTaskRequest, T.Task.serialize),
            "ListTasks": (self.list_tasks, T.ListTasksRequest, T.ListTasksResponse.serialize),
            "DeleteTask": (self.delete_task, T.DeleteTaskRequest, _empty),
            "RunTask": (self.run_task, T.RunTaskRequest, T.Task.serialize),
        }
        handlers = {
            method: grpc.unary_unary_rpc_method_handler(
                _guard(method, fn),
                request_deserializer=request_type.deserialize,
                response_serializer=serialize,
            )
            for method, (fn, request_type, serialize) in table.items()
        }
        for method in UNIMPLEMENTED:
            handlers[method] = grpc.unary_unary_rpc_method_handler(_unimplemented(method))
        return grpc.method_handlers_generic_handler(SERVICE, handlers)


def _guard(method: str, fn: Callable[[Any], Any]) -> Callable[[Any, Any], Awaitable[Any]]:
    """Run a sync handler on the event loop, turning EmulatorError into a status."""

    async def handler(request: Any, context: Any) -> Any:
        try:
            return fn(request)
        except EmulatorError as exc:
            log.debug(
                "request refused",
                extra={"json_fields": {"method": method, "code": exc.code, "error": exc.message}},
            )
            await context.abort(getattr(grpc.StatusCode, exc.code), exc.message)
        except Exception:
            log.exception("handler failed", extra={"json_fields": {"method": method}})
            await context.abort(grpc.StatusCode.INTERNAL, f"emulator error in {method}")

    return handler


def _unimplemented(method: str) -> Callable[[Any, Any], Awaitable[Any]]:
    async def handler(request: Any, context: Any) -> Any:
        await context.abort(
            grpc.StatusCode.UNIMPLEMENTED,
            f"{SERVICE}/{method} is not implemented by the local Cloud Tasks emulator",
        )

    return handler
