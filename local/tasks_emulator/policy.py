"""Retry and rate-limit rules of Cloud Tasks, as pure functions of time.

Defaults are the ones Cloud Tasks documents for queues created through the
API ("Configure Cloud Tasks queues" and the v2 RetryConfig/RateLimits
reference): max_attempts 100, min_backoff 0.1 s, max_backoff 3600 s,
max_doublings 16, max_retry_duration 0 (unlimited); max_dispatches_per_second
500, max_concurrent_dispatches 1000.  All times here are integer microseconds,
the precision Cloud Tasks keeps for schedule times.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from vocabquiz import limits

US = limits.US_PER_S

MAX_DISPATCHES_PER_SECOND = 500.0
MAX_CONCURRENT_DISPATCHES = 5000


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 100  # -1 means unlimited
    max_retry_duration_us: int = 0  # 0 means unlimited
    min_backoff_us: int = US // 10
    max_backoff_us: int = 3600 * US
    max_doublings: int = 16


@dataclass(frozen=True)
class RatePolicy:
    max_dispatches_per_second: float = 500.0
    max_concurrent_dispatches: int = 1000

    @property
    def max_burst_size(self) -> int:
        # Output only in the API. The reference says Cloud Tasks picks it from
        # max_dispatches_per_second and that it is "generally at least equal"
        # to it, so a burst of one second's worth is the faithful choice.
        return max(1, math.ceil(self.max_dispatches_per_second))


def backoff_us(policy: RetryPolicy, failed_attempts: int) -> int:
    """Delay before the next attempt after ``failed_attempts`` failures (>= 1).

    Documented shape (RetryConfig.max_doublings): start at min_backoff, double
    max_doublings times, then grow linearly by min_backoff * 2**max_doublings,
    capped at max_backoff.  With 10s/300s/3 that gives 10, 20, 40, 80, 160,
    240, 300, 300, ...
    """
    n = max(0, failed_attempts - 1)
    d = policy.max_doublings
    doubled = policy.min_backoff_us * (1 << min(n, d))
    linear_steps = max(0, n - d)  # after the doublings, add one doubled step each time
    return min(doubled * (1 + linear_steps), policy.max_backoff_us)


def may_retry(policy: RetryPolicy, attempts: int, first_attempt_us: int, now_us: int) -> bool:
    """Whether a task that just failed its ``attempts``-th attempt is retried.

    The reference: retrying stops only when max_attempts *and*
    max_retry_duration are both satisfied.  A limit left unlimited (-1 / 0)
    counts as no constraint, as task_retry_limit/task_age_limit do in
    queue.yaml; with both unlimited the task is retried for as long as it is
    retained.
    """
    attempts_unlimited = policy.max_attempts == -1
    duration_unlimited = policy.max_retry_duration_us <= 0
    attempts_left = attempts_unlimited or attempts < policy.max_attempts
    time_left = not duration_unlimited and now_us - first_attempt_us < policy.max_retry_duration_us
    if attempts_unlimited and duration_unlimited:
        return True
    if attempts_unlimited:
        return time_left
    if duration_unlimited:
        return attempts_left
    return attempts_left or time_left


class DispatchLimit:
    """A queue's dispatch limit as RateLimits describes it, a token bucket: one token per dispatch,
    refilled at max_dispatches_per_second up to max_burst_size. The arithmetic is
    vocabquiz.limits.TokenBucket (the gateway's too); this sizes it from a RatePolicy and
    answers in the dispatcher's terms."""

    def __init__(self, policy: RatePolicy, now_us: int) -> None:
        self._bucket = limits.TokenBucket(policy.max_dispatches_per_second, policy.max_burst_size, now_us)

    def reconfigure(self, policy: RatePolicy) -> None:
        self._bucket.reconfigure(policy.max_dispatches_per_second, policy.max_burst_size)

    def try_take(self, now_us: int) -> int:
        """Take a token and return 0, or return the microseconds until one is due."""
        if self._bucket.take(now_us):
            return 0
        due_us = self._bucket.due_in_us()
        return US if due_us is None else due_us  # a zero rate never refills; poll again later
