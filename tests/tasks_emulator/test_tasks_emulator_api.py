"""CRUD and error semantics of the emulator, through the real client."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from google.api_core import exceptions as gexc
from google.cloud import tasks_v2
from google.protobuf import field_mask_pb2

from tasks_emulator.client import make_client
from tests.tasks_emulator.harness import (
    LOCATION,
    EmulatorProcess,
    QueueFactory,
    Receiver,
    eventually,
    http_task,
    run_emulator,
    seconds,
)

FAR = 3600.0  # seconds ahead: such tasks stay put for the whole test


def _later(offset: float = FAR) -> float:
    return time.time() + offset


def test_create_task_with_duplicate_name_is_already_exists(
    client: tasks_v2.CloudTasksClient, make_queue: QueueFactory, receiver: Receiver
) -> None:
    queue = make_queue()
    task = http_task(receiver.url("/dup"), name=f"{queue}/tasks/lb-s1-42", at=_later())
    created = client.create_task(parent=queue, task=task)
    assert created.name == f"{queue}/tasks/lb-s1-42"
    with pytest.raises(gexc.AlreadyExists):
        client.create_task(parent=queue, task=task)


def test_create_task_reusing_executed_name_is_already_exists(
    client: tasks_v2.CloudTasksClient, make_queue: QueueFactory, receiver: Receiver
) -> None:
    queue, path = make_queue(), receiver.new_path()
    name = f"{queue}/tasks/executed-once"
    client.create_task(parent=queue, task=http_task(receiver.url(path), name=name))
    receiver.wait_for(path, 1)
    eventually(lambda: not client.list_tasks(parent=queue).tasks)
    with pytest.raises(gexc.AlreadyExists):
        client.create_task(parent=queue, task=http_task(receiver.url(path), name=name))
    time.sleep(0.2)
    assert len(receiver.requests(path)) == 1


def test_create_task_reusing_deleted_name_is_already_exists(
    client: tasks_v2.CloudTasksClient, make_queue: QueueFactory, receiver: Receiver
) -> None:
    queue = make_queue()
    name = f"{queue}/tasks/deleted-once"
    client.create_task(parent=queue, task=http_task(receiver.url("/x"), name=name, at=_later()))
    client.delete_task(name=name)
    with pytest.raises(gexc.AlreadyExists):
        client.create_task(parent=queue, task=http_task(receiver.url("/x"), name=name, at=_later()))


def test_create_task_without_name_gets_distinct_generated_names(
    client: tasks_v2.CloudTasksClient, make_queue: QueueFactory, receiver: Receiver
) -> None:
    queue = make_queue()
    names = {
        client.create_task(parent=queue, task=http_task(receiver.url("/x"), at=_later())).name
        for _ in range(20)
    }
    assert len(names) == 20
    assert all(re.fullmatch(rf"{re.escape(queue)}/tasks/[0-9]+", n) for n in names)


def test_create_task_returns_defaults_for_unset_fields(
    client: tasks_v2.CloudTasksClient, make_queue: QueueFactory, receiver: Receiver
) -> None:
    queue = make_queue()
    before = time.time()
    task = client.create_task(parent=queue, task=http_task(receiver.url("/x"), at=_later(-10)))
    # A past (or unset) schedule_time becomes now.
    assert before - 0.01 <= task.schedule_time.timestamp() <= time.time() + 0.01
    assert task.create_time.timestamp() == int(task.create_time.timestamp())  # whole seconds
    assert task.dispatch_deadline.total_seconds() == 600
    assert task.view == tasks_v2.Task.View.BASIC
    assert task.http_request.http_method == tasks_v2.HttpMethod.POST
    assert task.http_request.headers["User-Agent"] == "Google-Cloud-Tasks"


def test_create_task_in_missing_queue_is_not_found(
    client: tasks_v2.CloudTasksClient, receiver: Receiver
) -> None:
    with pytest.raises(gexc.NotFound):
        client.create_task(parent=f"{LOCATION}/queues/no-such-queue", task=http_task(receiver.url("/x")))


@pytest.mark.parametrize("task_id", ["has space", "dots.not.allowed", "slash/y", "x" * 501, "ünïcode"])
def test_create_task_with_malformed_id_is_invalid_argument(
    client: tasks_v2.CloudTasksClient, make_queue: QueueFactory, receiver: Receiver, task_id: str
) -> None:
    queue = make_queue()
    with pytest.raises(gexc.InvalidArgument):
        client.create_task(parent=queue, task=http_task(receiver.url("/x"), name=f"{queue}/tasks/{task_id}"))


def test_create_task_named_under_another_queue_is_invalid_argument(
    client: tasks_v2.CloudTasksClient, make_queue: QueueFactory, receiver: Receiver
) -> None:
    queue, other = make_queue(), make_queue()
    with pytest.raises(gexc.InvalidArgument):
        client.create_task(parent=queue, task=http_task(receiver.url("/x"), name=f"{other}/tasks/t"))


def test_create_task_without_http_request_is_invalid_argument(
    client: tasks_v2.CloudTasksClient, make_queue: QueueFactory
) -> None:
    with pytest.raises(gexc.InvalidArgument):
        client.create_task(parent=make_queue(), task=tasks_v2.Task())


def test_create_task_with_bad_url_or_body_is_invalid_argument(
    client: tasks_v2.CloudTasksClient, make_queue: QueueFactory, receiver: Receiver
) -> None:
    queue = make_queue()
    with pytest.raises(gexc.InvalidArgument):
        client.create_task(parent=queue, task=http_task("ftp://example.com/x"))
    with pytest.raises(gexc.InvalidArgument):  # a body needs POST, PUT or PATCH
        client.create_task(
            parent=queue,
            task=http_task(receiver.url("/x"), body=b"x", method=tasks_v2.HttpMethod.GET),
        )
    task = http_task(receiver.url("/x"))
    task.dispatch_deadline = seconds(5)  # below the 15 s minimum
    with pytest.raises(gexc.InvalidArgument):
        client.create_task(parent=queue, task=task)


def test_create_task_beyond_30_days_is_invalid_argument(
    client: tasks_v2.CloudTasksClient, make_queue: QueueFactory, receiver: Receiver
) -> None:
    with pytest.raises(gexc.InvalidArgument):
        client.create_task(parent=make_queue(), task=http_task(receiver.url("/x"), at=_later(31 * 86400)))


def test_create_task_for_app_engine_is_unimplemented(
    client: tasks_v2.CloudTasksClient, make_queue: QueueFactory
) -> None:
    task = tasks_v2.Task(app_engine_http_request=tasks_v2.AppEngineHttpRequest(relative_uri="/x"))
    with pytest.raises(gexc.MethodNotImplemented):
        client.create_task(parent=make_queue(), task=task)


def test_get_task_basic_view_omits_body_and_full_view_returns_it(
    client: tasks_v2.CloudTasksClient, make_queue: QueueFactory, receiver: Receiver
) -> None:
    queue = make_queue()
    name = f"{queue}/tasks/viewed"
    client.create_task(
        parent=queue, task=http_task(receiver.url("/x"), name=name, body=b"secret", at=_later())
    )
    basic = client.get_task(name=name)
    full = client.get_task(request={"name": name, "response_view": tasks_v2.Task.View.FULL})
    assert (basic.view, basic.http_request.body) == (tasks_v2.Task.View.BASIC, b"")
    assert (full.view, full.http_request.body) == (tasks_v2.Task.View.FULL, b"secret")
    assert basic.http_request.url == receiver.url("/x")


def test_list_tasks_pages_through_tasks_in_schedule_order(
    client: tasks_v2.CloudTasksClient, make_queue: QueueFactory, receiver: Receiver
) -> None:
    queue = make_queue()
    base = _later()
    for i in (3, 1, 2, 0, 4):
        client.create_task(
            parent=queue, task=http_task(receiver.url("/x"), name=f"{queue}/tasks/t{i}", at=base + i)
        )
    pager = client.list_tasks(request={"parent": queue, "page_size": 2})
    assert [t.name.rsplit("/", 1)[1] for t in pager] == ["t0", "t1", "t2", "t3", "t4"]


def test_delete_task_removes_it_and_then_get_and_delete_are_not_found(
    client: tasks_v2.CloudTasksClient, make_queue: QueueFactory, receiver: Receiver
) -> None:
    queue = make_queue()
    name = client.create_task(parent=queue, task=http_task(receiver.url("/x"), at=_later())).name
    assert client.get_task(name=name).name == name
    client.delete_task(name=name)
    with pytest.raises(gexc.NotFound):
        client.get_task(name=name)
    with pytest.raises(gexc.NotFound):
        client.delete_task(name=name)
    assert not list(client.list_tasks(parent=queue))


def test_create_queue_twice_is_already_exists_and_missing_queue_is_not_found(
    client: tasks_v2.CloudTasksClient, make_queue: QueueFactory
) -> None:
    queue = make_queue()
    with pytest.raises(gexc.AlreadyExists):
        client.create_queue(parent=LOCATION, queue=tasks_v2.Queue(name=queue))
    with pytest.raises(gexc.NotFound):
        client.get_queue(name=f"{LOCATION}/queues/never-made")
    with pytest.raises(gexc.InvalidArgument):
        client.create_queue(parent=LOCATION, queue=tasks_v2.Queue(name=f"{LOCATION}/queues/bad_underscore"))


def test_queue_defaults_are_the_documented_ones(client: tasks_v2.CloudTasksClient) -> None:
    name = f"{LOCATION}/queues/defaults-{time.time_ns()}"
    queue = client.create_queue(parent=LOCATION, queue=tasks_v2.Queue(name=name))
    assert queue.state == tasks_v2.Queue.State.RUNNING
    assert queue.rate_limits.max_dispatches_per_second == 500
    assert queue.rate_limits.max_concurrent_dispatches == 1000
    retry = queue.retry_config
    assert retry.max_attempts == 100
    assert retry.min_backoff.total_seconds() == 0.1
    assert retry.max_backoff.total_seconds() == 3600
    assert retry.max_doublings == 16
    assert retry.max_retry_duration.total_seconds() == 0


def test_update_queue_changes_masked_fields_and_creates_missing_queue(
    client: tasks_v2.CloudTasksClient, make_queue: QueueFactory
) -> None:
    name = make_queue(max_attempts=7)
    updated = client.update_queue(
        queue=tasks_v2.Queue(
            name=name,
            rate_limits=tasks_v2.RateLimits(max_concurrent_dispatches=3),
            retry_config=tasks_v2.RetryConfig(max_backoff=seconds(9)),
        ),
        update_mask=field_mask_pb2.FieldMask(
            paths=["rate_limits.max_concurrent_dispatches", "retry_config.max_backoff"]
        ),
    )
    assert updated.rate_limits.max_concurrent_dispatches == 3
    assert updated.retry_config.max_backoff.total_seconds() == 9
    assert updated.retry_config.max_attempts == 7  # untouched
    assert client.get_queue(name=name) == updated
    fresh = f"{LOCATION}/queues/upserted-{time.time_ns()}"
    created = client.update_queue(queue=tasks_v2.Queue(name=fresh))
    assert created.name == fresh and client.get_queue(name=fresh).name == fresh


def test_list_queues_filters_by_state_and_delete_queue_removes_it(
    client: tasks_v2.CloudTasksClient, make_queue: QueueFactory
) -> None:
    running, paused = make_queue(), make_queue()
    client.pause_queue(name=paused)
    names = {q.name for q in client.list_queues(parent=LOCATION)}
    assert {running, paused} <= names
    paused_names = {
        q.name for q in client.list_queues(request={"parent": LOCATION, "filter": "state: PAUSED"})
    }
    assert paused in paused_names and running not in paused_names
    client.delete_queue(name=paused)
    with pytest.raises(gexc.NotFound):
        client.get_queue(name=paused)


def test_unimplemented_method_is_unimplemented(
    client: tasks_v2.CloudTasksClient, make_queue: QueueFactory
) -> None:
    with pytest.raises(gexc.MethodNotImplemented):
        client.get_iam_policy(resource=make_queue())


def test_task_name_is_free_again_after_tombstone_window_and_sigterm_stops_cleanly(
    tmp_path: Path, receiver: Receiver
) -> None:
    with run_emulator(tmp_path / "short.log", "--tombstone-seconds", "0.5") as short:
        client = make_client(short.address)
        queue = f"{LOCATION}/queues/short"
        client.create_queue(parent=LOCATION, queue=tasks_v2.Queue(name=queue))
        name = f"{queue}/tasks/reused"
        task = http_task(receiver.url("/x"), name=name, at=_later())
        client.create_task(parent=queue, task=task)
        client.delete_task(name=name)
        with pytest.raises(gexc.AlreadyExists):
            client.create_task(parent=queue, task=task)
        time.sleep(0.6)
        assert client.create_task(parent=queue, task=task).name == name
        assert _sigterm(short) == 0, short.log()
        assert '"message": "stopped"' in short.log()


def _sigterm(emulator: EmulatorProcess) -> int:
    return emulator.stop(timeout=5)
