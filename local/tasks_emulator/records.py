"""The emulator's records: queue and task specs as the API gives them, the state kept per
queue and task, what a dispatch attempt is told and reports, and the reserved names of
finished tasks. Plain data; the rules are in store.py and policy.py."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from tasks_emulator.names import QueueName, TaskName
from tasks_emulator.policy import DispatchLimit, RatePolicy, RetryPolicy


@dataclass(frozen=True)
class OidcSpec:
    service_account_email: str
    audience: str  # empty: the task's url is the audience


@dataclass(frozen=True)
class OAuthSpec:
    service_account_email: str
    scope: str


@dataclass(frozen=True)
class HttpSpec:
    url: str
    method: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    oidc: OidcSpec | None = None
    oauth: OAuthSpec | None = None


@dataclass(frozen=True)
class QueueSpec:
    """The user-settable part of a queue."""

    name: QueueName
    rate: RatePolicy = field(default_factory=RatePolicy)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    logging_sampling_ratio: float = 0.0


@dataclass(frozen=True)
class TaskSpec:
    """A validated CreateTask request."""

    task_id: str | None
    http: HttpSpec
    schedule_us: int | None
    dispatch_deadline_us: int
    retry: RetryPolicy | None = None  # task-level override of the queue's


@dataclass
class Attempt:
    schedule_us: int
    dispatch_us: int
    response_us: int | None = None
    http_status: int | None = None  # None: no HTTP response (connection error, timeout)
    error: str | None = None


@dataclass
class TaskRecord:
    name: TaskName
    spec: TaskSpec
    schedule_us: int
    create_us: int
    instance: int  # tells a task from a later one that reuses its name
    dispatch_count: int = 0
    response_count: int = 0
    # X-CloudTasks-TaskExecutionCount: responses received, "not including
    # failures due to 5XX error codes" (documented, and observed in prod).
    execution_count: int = 0
    first_dispatch_us: int | None = None
    last_attempt: Attempt | None = None
    in_flight: int = 0


@dataclass
class QueueRecord:
    spec: QueueSpec
    instance: int
    bucket: DispatchLimit
    paused: bool = False
    purge_us: int | None = None
    tasks: dict[str, TaskRecord] = field(default_factory=dict)
    # Lazy min-heap of (schedule_us, task instance, task name); an entry is
    # stale once its task is gone, rescheduled or running.
    ready: list[tuple[int, int, str]] = field(default_factory=list)
    in_flight: int = 0


@dataclass(frozen=True)
class Ticket:
    """Identifies one attempt so its result lands on the right task."""

    queue: str
    queue_instance: int
    task: str
    task_instance: int


@dataclass(frozen=True)
class Started:
    """An attempt the dispatcher must now send."""

    ticket: Ticket
    name: TaskName
    http: HttpSpec
    eta_us: int
    dispatch_us: int
    dispatch_deadline_us: int
    retry_count: int  # attempts before this one
    execution_count: int
    previous_response: int | None  # HTTP status of the previous attempt, if any


@dataclass(frozen=True)
class Wait:
    """Nothing to send before ``until_us`` (None: until the queue changes)."""

    until_us: int | None


@dataclass(frozen=True)
class Outcome:
    http_status: int | None
    error: str | None = None  # "DEADLINE_EXCEEDED: ..." / "UNAVAILABLE: ..." without a response

    @property
    def succeeded(self) -> bool:
        return self.http_status is not None and 200 <= self.http_status <= 299


@dataclass(frozen=True)
class Verdict:
    kind: str  # "succeeded", "retry", "dropped" (attempts exhausted) or "gone"
    next_us: int | None = None


class Tombstones:
    """Names of deleted/executed tasks, reserved for ``ttl_us``.

    All entries share one TTL, so insertion order is expiry order and a deque
    lets expiry run in amortised O(1): memory stays bounded by the number of
    names retired within one TTL.
    """

    def __init__(self, ttl_us: int) -> None:
        self._ttl_us = ttl_us
        self._until: dict[str, int] = {}
        self._order: deque[tuple[int, str]] = deque()

    def bury(self, name: str, now_us: int) -> None:
        if self._ttl_us <= 0:
            return
        self.expire(now_us)
        until = now_us + self._ttl_us
        self._until[name] = until
        self._order.append((until, name))

    def holds(self, name: str, now_us: int) -> bool:
        self.expire(now_us)
        return name in self._until

    def expire(self, now_us: int) -> None:
        while self._order and self._order[0][0] <= now_us:
            until, name = self._order.popleft()
            if self._until.get(name) == until:
                del self._until[name]

    def __len__(self) -> int:
        return len(self._until)
