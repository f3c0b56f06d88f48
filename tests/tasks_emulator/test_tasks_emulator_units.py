"""The pure parts of the emulator (names, policy, store, delivery), plus the
dispatcher in-process where a real deadline would be too slow to wait for."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest

from tasks_emulator import convert
from tasks_emulator.delivery import build_request, format_eta
from tasks_emulator.dispatcher import Dispatcher, make_http_client, wall_clock_us
from tasks_emulator.errors import AlreadyExists, InvalidArgument, NotFound
from tasks_emulator.names import parse_queue, parse_task
from tasks_emulator.policy import US, DispatchLimit, RatePolicy, RetryPolicy, backoff_us, may_retry
from tasks_emulator.records import HttpSpec, OidcSpec, Outcome, QueueSpec, Started, TaskSpec, Wait
from tasks_emulator.store import Store
from tests.tasks_emulator.harness import Receiver

QUEUE = parse_queue("projects/p/locations/l/queues/q")
T0 = 1_800_000_000 * US


def spec(task_id: str | None = None, at: int | None = None, url: str = "http://h/x") -> TaskSpec:
    return TaskSpec(task_id, HttpSpec(url, "POST", (), b""), at, 600 * US)


def store_with_queue(**retry: int) -> Store:
    store = Store(tombstone_us=3600 * US)
    store.create_queue(QueueSpec(QUEUE, retry=RetryPolicy(**retry)), T0)
    return store


def test_names_parse_valid_and_reject_malformed() -> None:
    name = parse_task("projects/my-proj/locations/us-central1/queues/flush-3/tasks/lb_s1-42")
    assert (name.queue.queue_id, name.task_id) == ("flush-3", "lb_s1-42")
    for bad in (
        "projects/p/locations/l/queues/q/tasks/",
        "projects/p/locations/l/queues/q_x/tasks/t",
        "projects/p/locations/l/queues/q/tasks/t.1",
        "queues/q/tasks/t",
    ):
        with pytest.raises(InvalidArgument):
            parse_task(bad)


def test_backoff_follows_documented_example() -> None:
    # RetryConfig.max_doublings: 10s/300s/3 doublings -> 10, 20, 40, 80, 160, 240, 300, 300
    policy = RetryPolicy(min_backoff_us=10 * US, max_backoff_us=300 * US, max_doublings=3)
    assert [backoff_us(policy, k) // US for k in range(1, 9)] == [10, 20, 40, 80, 160, 240, 300, 300]


def test_retry_stops_only_when_both_limits_are_reached() -> None:
    both = RetryPolicy(max_attempts=3, max_retry_duration_us=10 * US)
    assert may_retry(both, 3, 0, 5 * US)  # attempts used up, time left
    assert may_retry(both, 1, 0, 20 * US)  # time up, attempts left
    assert not may_retry(both, 3, 0, 20 * US)
    assert not may_retry(RetryPolicy(max_attempts=3), 3, 0, 0)
    assert may_retry(RetryPolicy(max_attempts=-1), 10_000, 0, 10**12)
    assert not may_retry(RetryPolicy(max_attempts=-1, max_retry_duration_us=US), 5, 0, 2 * US)


def test_token_bucket_allows_burst_then_refills_at_rate() -> None:
    bucket = DispatchLimit(RatePolicy(max_dispatches_per_second=10), T0)
    assert [bucket.try_take(T0) for _ in range(10)] == [0] * 10
    assert bucket.try_take(T0) == US // 10
    assert bucket.try_take(T0 + US // 10) == 0


def test_tombstones_expire_and_release_memory() -> None:
    store = Store(tombstone_us=10 * US)
    store.create_queue(QueueSpec(QUEUE), T0)
    for i in range(1000):
        store.create_task(QUEUE, spec(f"t{i}"), T0)
        store.delete_task(parse_task(f"{QUEUE}/tasks/t{i}"), T0)
    with pytest.raises(AlreadyExists):
        store.create_task(QUEUE, spec("t5"), T0 + 9 * US)
    assert len(store.tombstones) == 1000
    store.create_task(QUEUE, spec("t5"), T0 + 10 * US)
    assert len(store.tombstones) == 0


def test_store_poll_waits_for_schedule_pause_and_concurrency() -> None:
    store = store_with_queue()
    store.create_task(QUEUE, spec("a", at=T0 + US), T0)
    assert store.poll(str(QUEUE), T0) == Wait(T0 + US)
    store.set_paused(QUEUE, True)
    assert store.poll(str(QUEUE), T0 + US) == Wait(None)
    store.set_paused(QUEUE, False)
    started = store.poll(str(QUEUE), T0 + US)
    assert isinstance(started, Started) and started.retry_count == 0
    assert store.poll(str(QUEUE), T0 + US) == Wait(None)  # nothing else queued


def test_store_failed_attempt_is_rescheduled_then_dropped_and_tombstoned() -> None:
    store = store_with_queue(max_attempts=2, min_backoff_us=US, max_backoff_us=10 * US)
    store.create_task(QUEUE, spec("t"), T0)
    first = store.poll(str(QUEUE), T0)
    assert isinstance(first, Started)
    verdict = store.finish_attempt(first.ticket, Outcome(503), T0)
    assert (verdict.kind, verdict.next_us) == ("retry", T0 + US)
    second = store.poll(str(QUEUE), T0 + US)
    assert isinstance(second, Started)
    assert (second.retry_count, second.execution_count, second.previous_response) == (1, 0, 503)
    assert store.finish_attempt(second.ticket, Outcome(None, "UNAVAILABLE: refused"), T0 + US).kind == (
        "dropped"
    )
    with pytest.raises(NotFound):
        store.get_task(parse_task(f"{QUEUE}/tasks/t"))
    with pytest.raises(AlreadyExists):
        store.create_task(QUEUE, spec("t"), T0 + 2 * US)


def test_store_ignores_result_of_attempt_on_deleted_task() -> None:
    store = store_with_queue()
    store.create_task(QUEUE, spec("t"), T0)
    started = store.poll(str(QUEUE), T0)
    assert isinstance(started, Started)
    store.delete_task(started.name, T0)
    assert store.finish_attempt(started.ticket, Outcome(500), T0).kind == "gone"
    assert store.get_queue(QUEUE).in_flight == 0


def test_delivery_builds_headers_and_unsigned_oidc_token() -> None:
    store = store_with_queue()
    http = HttpSpec(
        "http://h/x",
        "POST",
        (("x-cloudtasks-taskname", "forged"), ("Content-Type", "text/plain")),
        b"b",
        OidcSpec("sa@p.iam.gserviceaccount.com", ""),
    )
    store.create_task(QUEUE, TaskSpec("t1", http, T0 + 123_456, 600 * US), T0)
    started = store.poll(str(QUEUE), T0 + 123_456)
    assert isinstance(started, Started)
    request = build_request(started)
    headers = dict(request.headers)
    assert headers["X-CloudTasks-TaskName"] == "t1" and "x-cloudtasks-taskname" not in headers
    assert headers["X-CloudTasks-TaskETA"] == format_eta(T0 + 123_456) == "1800000000.123456"
    assert headers["Content-Type"] == "text/plain"
    payload = headers["Authorization"].removeprefix("Bearer ").split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["aud"] == "http://h/x" and claims["email"] == "sa@p.iam.gserviceaccount.com"


def test_queue_spec_zeros_take_documented_defaults() -> None:
    from google.cloud import tasks_v2

    queue = convert.queue_spec_from_proto(QUEUE, tasks_v2.Queue(name=str(QUEUE)))
    assert queue.retry == RetryPolicy() and queue.rate == RatePolicy()
    with pytest.raises(InvalidArgument):
        convert.queue_spec_from_proto(
            QUEUE, tasks_v2.Queue(rate_limits=tasks_v2.RateLimits(max_dispatches_per_second=501))
        )


def test_dispatcher_times_out_at_dispatch_deadline_and_retries(receiver: Receiver) -> None:
    """dispatch_deadline is honoured (the API's 15 s minimum is bypassed here)."""
    path = receiver.new_path()
    receiver.stall(path, 1.0)

    async def scenario() -> tuple[str | None, int, int]:
        store = Store()
        now = wall_clock_us()
        store.create_queue(QueueSpec(QUEUE, retry=RetryPolicy(min_backoff_us=US // 20)), now)
        dispatcher = Dispatcher(store, make_http_client())
        store.create_task(
            QUEUE, TaskSpec("slow", HttpSpec(receiver.url(path), "GET", (), b""), None, US // 5), now
        )
        dispatcher.notify(str(QUEUE))
        task = store.get_task(parse_task(f"{QUEUE}/tasks/slow"))
        first_error = None
        for _ in range(100):
            await asyncio.sleep(0.02)
            if first_error is None and task.last_attempt and task.last_attempt.response_us:
                first_error = task.last_attempt.error
            if task.dispatch_count >= 2:
                break
        await dispatcher.aclose()
        return first_error, task.response_count, task.dispatch_count

    first_error, response_count, dispatch_count = asyncio.run(scenario())
    assert first_error is not None and first_error.startswith("DEADLINE_EXCEEDED")
    assert (response_count, dispatch_count) == (0, 2)
    receiver.wait_for(path, 1)  # the first attempt did reach the handler
