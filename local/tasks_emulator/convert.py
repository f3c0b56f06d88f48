"""Translation between the API's proto-plus messages and the store's records.

Validation of request *shape* lives here (it needs no state); rules that need
the clock or other tasks live in ``store``.  Inputs are read through the raw
protobuf (``Type.pb(msg)``) because only it can tell an unset field from a
zero one, which Cloud Tasks uses to apply its defaults.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from google.cloud import tasks_v2
from google.protobuf import duration_pb2, timestamp_pb2
from google.rpc import code_pb2, status_pb2

from tasks_emulator import policy
from tasks_emulator.errors import InvalidArgument, Unimplemented
from tasks_emulator.names import QueueName, parse_task
from tasks_emulator.policy import RatePolicy, RetryPolicy
from tasks_emulator.records import (
    Attempt,
    HttpSpec,
    OAuthSpec,
    OidcSpec,
    QueueRecord,
    QueueSpec,
    TaskRecord,
    TaskSpec,
)

US = policy.US

# HttpRequest.dispatch_deadline: "For HTTP tasks, the default is 10 minutes.
# The deadline must be in the interval [15 seconds, 30 minutes]."
DEFAULT_DISPATCH_DEADLINE_US = 600 * US
MIN_DISPATCH_DEADLINE_US = 15 * US
MAX_DISPATCH_DEADLINE_US = 1800 * US
MAX_URL_LENGTH = 2083
MAX_HEADERS_BYTES = 80 * 1024
# The CreateTask reference says 100KB, which Cloud Tasks enforces for App
# Engine tasks; HTTP tasks may be up to 1MB (Cloud Tasks quotas page).
MAX_HTTP_TASK_BYTES = 1024 * 1024
USER_AGENT = "Google-Cloud-Tasks"

# google.cloud.tasks.v2.HttpMethod values (0, unspecified, means POST).
_METHODS = {1: "POST", 2: "GET", 3: "HEAD", 4: "PUT", 5: "DELETE", 6: "PATCH", 7: "OPTIONS"}
_METHOD_NUMBERS = {name: number for number, name in _METHODS.items()}
_BODY_METHODS = {"POST", "PUT", "PATCH"}


# ---- time -------------------------------------------------------------------


def timestamp_to_us(ts: Any) -> int:
    return int(ts.seconds) * US + int(ts.nanos) // 1000


def duration_to_us(d: Any) -> int:
    return int(d.seconds) * US + int(d.nanos) // 1000


def us_to_timestamp(us: int) -> timestamp_pb2.Timestamp:
    return timestamp_pb2.Timestamp(seconds=us // US, nanos=(us % US) * 1000)


def us_to_duration(us: int) -> duration_pb2.Duration:
    return duration_pb2.Duration(seconds=us // US, nanos=(us % US) * 1000)


# ---- queues -----------------------------------------------------------------


def _rate_from_pb(pb: Any, base: RatePolicy, fields: set[str] | None) -> RatePolicy:
    """RateLimits from a proto; ``fields`` None means "all, zero = default"."""
    rate, concurrent = base.max_dispatches_per_second, base.max_concurrent_dispatches
    if fields is None or "max_dispatches_per_second" in fields:
        rate = pb.max_dispatches_per_second or RatePolicy.max_dispatches_per_second
    if fields is None or "max_concurrent_dispatches" in fields:
        concurrent = pb.max_concurrent_dispatches or RatePolicy.max_concurrent_dispatches
    if not 0 < rate <= policy.MAX_DISPATCHES_PER_SECOND:
        raise InvalidArgument("RateLimits.max_dispatches_per_second must be in (0, 500]")
    if not 0 < concurrent <= policy.MAX_CONCURRENT_DISPATCHES:
        raise InvalidArgument("RateLimits.max_concurrent_dispatches must be in [1, 5000]")
    return RatePolicy(float(rate), int(concurrent))


def retry_from_pb(pb: Any, base: RetryPolicy, fields: set[str] | None) -> RetryPolicy:
    """RetryConfig from a proto.  With ``fields`` None, unset/zero fields take
    the documented defaults; with an explicit field mask values are literal."""
    defaults = RetryPolicy()
    values = {
        "max_attempts": base.max_attempts,
        "max_retry_duration": base.max_retry_duration_us,
        "min_backoff": base.min_backoff_us,
        "max_backoff": base.max_backoff_us,
        "max_doublings": base.max_doublings,
    }
    if fields is None:
        values = {
            "max_attempts": pb.max_attempts or defaults.max_attempts,
            "max_retry_duration": duration_to_us(pb.max_retry_duration),
            "min_backoff": (
                duration_to_us(pb.min_backoff) if pb.HasField("min_backoff") else defaults.min_backoff_us
            ),
            "max_backoff": (duration_to_us(pb.max_backoff) or defaults.max_backoff_us),
            "max_doublings": pb.max_doublings or defaults.max_doublings,
        }
    else:
        for f in fields:
            if f not in values:
                raise InvalidArgument(f"Unknown RetryConfig field in update_mask: {f}")
            raw = getattr(pb, f)
            values[f] = raw if isinstance(raw, int) else duration_to_us(raw)
        if values["max_attempts"] == 0:
            values["max_attempts"] = defaults.max_attempts
    result = RetryPolicy(
        max_attempts=values["max_attempts"],
        max_retry_duration_us=values["max_retry_duration"],
        min_backoff_us=values["min_backoff"],
        max_backoff_us=values["max_backoff"],
        max_doublings=values["max_doublings"],
    )
    if result.max_attempts < -1:
        raise InvalidArgument("RetryConfig.max_attempts must be >= -1")
    if min(result.max_retry_duration_us, result.min_backoff_us, result.max_backoff_us) < 0:
        raise InvalidArgument("RetryConfig durations must not be negative")
    if result.min_backoff_us > result.max_backoff_us:
        raise InvalidArgument("RetryConfig.min_backoff must not exceed max_backoff")
    if result.max_doublings < 0:
        raise InvalidArgument("RetryConfig.max_doublings must not be negative")
    return result


def queue_spec_from_proto(
    name: QueueName,
    queue: tasks_v2.Queue,
    base: QueueSpec | None = None,
    mask: list[str] | None = None,
) -> QueueSpec:
    """Build the settable part of a queue from CreateQueue / UpdateQueue input.

    ``mask`` follows UpdateQueue: empty means every field; otherwise only the
    named fields (``rate_limits``, ``retry_config.min_backoff``, ...) change.
    """
    pb = tasks_v2.Queue.pb(queue)
    spec = base or QueueSpec(name)
    if not mask:
        whole: dict[str, set[str] | None] = {
            "rate_limits": None,
            "retry_config": None,
            "stackdriver_logging_config": None,
        }
    else:
        whole = {}
        for path in mask:
            top, _, sub = path.partition(".")
            if top in ("name", "http_target", "app_engine_routing_override"):
                continue  # name is fixed; the targets' overrides are not emulated
            if top not in ("rate_limits", "retry_config", "stackdriver_logging_config"):
                raise InvalidArgument(f"Invalid update_mask path: {path!r}")
            if not sub:
                whole[top] = None  # the whole message, defaults for zeros
            elif top not in whole:
                whole[top] = {sub}
            else:
                fields = whole[top]
                if fields is not None:
                    fields.add(sub)
    rate, retry, ratio = spec.rate, spec.retry, spec.logging_sampling_ratio
    if "rate_limits" in whole:
        rate_fields = whole["rate_limits"]
        if rate_fields is not None:
            rate_fields = rate_fields - {"max_burst_size"}  # output only
        rate = _rate_from_pb(pb.rate_limits, rate, rate_fields)
    if "retry_config" in whole:
        retry = retry_from_pb(pb.retry_config, retry, whole["retry_config"])
    if "stackdriver_logging_config" in whole:
        ratio = float(pb.stackdriver_logging_config.sampling_ratio)
        if not 0.0 <= ratio <= 1.0:
            raise InvalidArgument("StackdriverLoggingConfig.sampling_ratio must be in [0, 1]")
    return QueueSpec(name, rate, retry, ratio)


def queue_to_proto(record: QueueRecord) -> tasks_v2.Queue:
    spec = record.spec
    queue = tasks_v2.Queue(
        name=str(spec.name),
        rate_limits=tasks_v2.RateLimits(
            max_dispatches_per_second=spec.rate.max_dispatches_per_second,
            max_burst_size=spec.rate.max_burst_size,
            max_concurrent_dispatches=spec.rate.max_concurrent_dispatches,
        ),
        retry_config=retry_to_proto(spec.retry),
        state=tasks_v2.Queue.State.PAUSED if record.paused else tasks_v2.Queue.State.RUNNING,
    )
    if spec.logging_sampling_ratio:
        queue.stackdriver_logging_config = tasks_v2.StackdriverLoggingConfig(
            sampling_ratio=spec.logging_sampling_ratio
        )
    if record.purge_us is not None:
        queue.purge_time = us_to_timestamp(record.purge_us)
    return queue


def retry_to_proto(retry: RetryPolicy) -> tasks_v2.RetryConfig:
    return tasks_v2.RetryConfig(
        max_attempts=retry.max_attempts,
        max_retry_duration=us_to_duration(retry.max_retry_duration_us),
        min_backoff=us_to_duration(retry.min_backoff_us),
        max_backoff=us_to_duration(retry.max_backoff_us),
        max_doublings=retry.max_doublings,
    )


# ---- tasks ------------------------------------------------------------------


def _is_dropped_header(key: str) -> bool:
    # HttpRequest.headers: Host and Content-Length are computed, User-Agent is
    # replaced, X-Google-* / X-AppEngine-* are Google's; X-CloudTasks-* are set
    # by the service on dispatch.
    k = key.lower()
    return k in ("host", "content-length", "user-agent") or k.startswith(
        ("x-google-", "x-appengine-", "x-cloudtasks-")
    )


def _http_spec(pb: Any) -> HttpSpec:
    url = str(pb.url)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidArgument(f"HttpRequest.url must begin with http:// or https://: {url!r}")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidArgument("HttpRequest.url must be at most 2083 characters")
    method = _METHODS.get(int(pb.http_method), "POST")  # "The default is POST."
    body = bytes(pb.body)
    if body and method not in _BODY_METHODS:
        raise InvalidArgument(f"HttpRequest.body is only allowed with POST, PUT or PATCH, not {method}")
    headers = [(str(k), str(v)) for k, v in pb.headers.items() if not _is_dropped_header(k)]
    # Cloud Tasks stores (and returns) the User-Agent it will send; it adds no
    # Content-Type for HTTP tasks ("Content-Type won't be set by Cloud Tasks").
    headers.append(("User-Agent", USER_AGENT))
    if sum(len(k) + len(v) for k, v in headers) >= MAX_HEADERS_BYTES:
        raise InvalidArgument("HttpRequest.headers must be smaller than 80KB")
    auth = pb.WhichOneof("authorization_header")
    oidc = oauth = None
    if auth == "oidc_token":
        oidc = OidcSpec(pb.oidc_token.service_account_email, pb.oidc_token.audience)
    elif auth == "oauth_token":
        oauth = OAuthSpec(pb.oauth_token.service_account_email, pb.oauth_token.scope)
    return HttpSpec(url, method, tuple(headers), body, oidc, oauth)


def task_spec_from_request(request: tasks_v2.CreateTaskRequest, queue: QueueName) -> TaskSpec:
    pb = tasks_v2.Task.pb(request.task)
    task_id: str | None = None
    if pb.name:
        name = parse_task(pb.name)
        if name.queue != queue:
            raise InvalidArgument(f"Task {pb.name} does not belong to queue {queue}")
        task_id = name.task_id
    target = pb.WhichOneof("message_type")
    if target == "app_engine_http_request":
        raise Unimplemented("App Engine tasks are not supported by the local emulator")
    if target != "http_request":
        raise InvalidArgument("Task must have an http_request")
    if pb.ByteSize() > MAX_HTTP_TASK_BYTES:
        raise InvalidArgument("Task size exceeds the 1MB limit")
    deadline = DEFAULT_DISPATCH_DEADLINE_US
    if pb.HasField("dispatch_deadline") and duration_to_us(pb.dispatch_deadline):
        deadline = duration_to_us(pb.dispatch_deadline)
        if not MIN_DISPATCH_DEADLINE_US <= deadline <= MAX_DISPATCH_DEADLINE_US:
            raise InvalidArgument("Task.dispatch_deadline must be between 15 seconds and 30 minutes")
    return TaskSpec(
        task_id=task_id,
        http=_http_spec(pb.http_request),
        schedule_us=timestamp_to_us(pb.schedule_time) if pb.HasField("schedule_time") else None,
        dispatch_deadline_us=deadline,
        retry=retry_from_pb(pb.retry_config, RetryPolicy(), None) if pb.HasField("retry_config") else None,
    )


# google.rpc.Code for an HTTP status, per the mapping documented in code.proto.
_HTTP_TO_RPC = {
    400: code_pb2.INVALID_ARGUMENT,
    401: code_pb2.UNAUTHENTICATED,
    403: code_pb2.PERMISSION_DENIED,
    404: code_pb2.NOT_FOUND,
    409: code_pb2.ABORTED,
    429: code_pb2.RESOURCE_EXHAUSTED,
    499: code_pb2.CANCELLED,
    500: code_pb2.INTERNAL,
    501: code_pb2.UNIMPLEMENTED,
    503: code_pb2.UNAVAILABLE,
    504: code_pb2.DEADLINE_EXCEEDED,
}


def attempt_status(attempt: Attempt) -> status_pb2.Status:
    if attempt.http_status is None:
        code_name, _, detail = (attempt.error or "UNAVAILABLE").partition(": ")
        return status_pb2.Status(code=code_pb2.Code.Value(code_name), message=detail)
    status = attempt.http_status
    code = code_pb2.OK if 200 <= status <= 299 else _HTTP_TO_RPC.get(status, code_pb2.UNKNOWN)
    return status_pb2.Status(code=code, message=f"HTTP status code {status}")


def _attempt_to_proto(attempt: Attempt) -> tasks_v2.Attempt:
    result = tasks_v2.Attempt(
        schedule_time=us_to_timestamp(attempt.schedule_us),
        dispatch_time=us_to_timestamp(attempt.dispatch_us),
    )
    if attempt.response_us is not None:
        result.response_time = us_to_timestamp(attempt.response_us)
        result.response_status = attempt_status(attempt)
    return result


def task_to_proto(task: TaskRecord, view: tasks_v2.Task.View) -> tasks_v2.Task:
    """The Task as the API returns it; BASIC (the default view) omits the body."""
    full = view == tasks_v2.Task.View.FULL
    http = task.spec.http
    request = tasks_v2.HttpRequest(
        url=http.url,
        http_method=_METHOD_NUMBERS[http.method],
        headers=dict(http.headers),
        body=http.body if full else b"",
    )
    if http.oidc is not None:
        request.oidc_token = tasks_v2.OidcToken(
            service_account_email=http.oidc.service_account_email, audience=http.oidc.audience
        )
    elif http.oauth is not None:
        request.oauth_token = tasks_v2.OAuthToken(
            service_account_email=http.oauth.service_account_email, scope=http.oauth.scope
        )
    result = tasks_v2.Task(
        name=str(task.name),
        http_request=request,
        schedule_time=us_to_timestamp(task.schedule_us),
        # "create_time will be truncated to the nearest second."
        create_time=us_to_timestamp(task.create_us - task.create_us % US),
        dispatch_deadline=us_to_duration(task.spec.dispatch_deadline_us),
        dispatch_count=task.dispatch_count,
        response_count=task.response_count,
        view=tasks_v2.Task.View.FULL if full else tasks_v2.Task.View.BASIC,
    )
    if task.first_dispatch_us is not None:
        result.first_attempt = tasks_v2.Attempt(dispatch_time=us_to_timestamp(task.first_dispatch_us))
    if task.last_attempt is not None:
        result.last_attempt = _attempt_to_proto(task.last_attempt)
    if task.spec.retry is not None:
        result.retry_config = retry_to_proto(task.spec.retry)
    return result
