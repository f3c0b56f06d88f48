"""The codebase's one token bucket (vocabquiz/limits.py) and its leaky count, on a clock
the test moves by hand."""

from __future__ import annotations

from vocabquiz.limits import US_PER_S, LeakyCount, TokenBucket

T0 = 5_000 * US_PER_S


def test_bucket_allows_its_burst_at_once_then_refuses() -> None:
    bucket = TokenBucket(rate_per_s=20, burst=40, now_us=T0)
    assert [bucket.take(T0) for _ in range(41)] == [True] * 40 + [False]


def test_bucket_refills_at_its_rate_and_says_when_the_next_token_is_due() -> None:
    bucket = TokenBucket(rate_per_s=10, burst=2, now_us=T0)
    assert bucket.take(T0) and bucket.take(T0)
    assert not bucket.take(T0)
    assert bucket.due_in_us() == US_PER_S // 10
    assert not bucket.take(T0 + US_PER_S // 10 - 1)
    assert bucket.take(T0 + US_PER_S // 10)


def test_bucket_left_idle_fills_to_its_burst_and_no_further() -> None:
    bucket = TokenBucket(rate_per_s=100, burst=3, now_us=T0)
    assert all(bucket.take(T0) for _ in range(3))
    later = T0 + 3600 * US_PER_S
    assert [bucket.take(later) for _ in range(4)] == [True, True, True, False]


def test_bucket_refills_nothing_when_the_clock_steps_back() -> None:
    bucket = TokenBucket(rate_per_s=1, burst=1, now_us=T0)
    assert bucket.take(T0)
    assert not bucket.take(T0 - US_PER_S)
    assert not bucket.take(T0 + US_PER_S - 1)  # still measured from T0
    assert bucket.take(T0 + US_PER_S)


def test_bucket_at_zero_rate_never_has_a_token_due() -> None:
    bucket = TokenBucket(rate_per_s=0, burst=1, now_us=T0)
    assert bucket.take(T0)
    assert not bucket.take(T0 + 10**9 * US_PER_S)
    assert bucket.due_in_us() is None


def test_reconfigured_bucket_drops_tokens_over_its_new_burst() -> None:
    bucket = TokenBucket(rate_per_s=10, burst=10, now_us=T0)
    bucket.reconfigure(rate_per_s=1, burst=2)
    assert [bucket.take(T0) for _ in range(3)] == [True, True, False]
    assert bucket.due_in_us() == US_PER_S


def test_leaky_count_grows_only_while_added_to_faster_than_it_leaks() -> None:
    strikes = LeakyCount(rate_per_s=20, now_us=T0)
    assert [strikes.add(T0) for _ in range(3)] == [1, 2, 3]
    assert strikes.add(T0 + US_PER_S // 20) == 3  # one leaked, one added
    assert strikes.add(T0 + 10 * US_PER_S) == 1  # leaked to zero, never below
