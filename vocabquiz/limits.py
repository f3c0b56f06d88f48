"""Rate limits as arithmetic over a clock the caller reads: the one token bucket of the
codebase (the gateway's per socket, the tasks emulator's per queue). No I/O, no clock of
its own: every time is integer microseconds of a monotonic clock, passed in (the gateway
passes time.monotonic_ns() // 1000; the emulator its own schedule clock, which keeps the
microseconds Cloud Tasks keeps)."""

from __future__ import annotations

import math

US_PER_S = 1_000_000


class TokenBucket:
    """Up to `burst` tokens, refilled at `rate_per_s` and one taken per thing allowed; it
    starts full. A clock that steps back refills nothing (and takes nothing back)."""

    __slots__ = ("burst", "rate_per_s", "stamp_us", "tokens")

    def __init__(self, rate_per_s: float, burst: float, now_us: int) -> None:
        self.rate_per_s = rate_per_s
        self.burst = float(burst)
        self.tokens = self.burst
        self.stamp_us = now_us

    def reconfigure(self, rate_per_s: float, burst: float) -> None:
        """New limits from now on; tokens above the new burst are dropped."""
        self.rate_per_s = rate_per_s
        self.burst = float(burst)
        self.tokens = min(self.tokens, self.burst)

    def take(self, now_us: int) -> bool:
        """Take a token if one is there (after refilling up to `now_us`)."""
        if now_us > self.stamp_us:
            self.tokens = min(self.burst, self.tokens + (now_us - self.stamp_us) * self.rate_per_s / US_PER_S)
            self.stamp_us = now_us
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True

    def due_in_us(self) -> int | None:
        """Microseconds from the last `take` until a token is there (0: one is); None if
        none ever will be (a zero rate)."""
        if self.tokens >= 1.0:
            return 0
        if self.rate_per_s <= 0:
            return None
        return max(1, math.ceil((1.0 - self.tokens) * US_PER_S / self.rate_per_s))


class LeakyCount:
    """A count that leaks away at `rate_per_s`: it grows only while things are added
    faster than that (a client that stays over its limit, not one that briefly bursts)."""

    __slots__ = ("count", "rate_per_s", "stamp_us")

    def __init__(self, rate_per_s: float, now_us: int) -> None:
        self.rate_per_s = rate_per_s
        self.count = 0.0
        self.stamp_us = now_us

    def add(self, now_us: int) -> float:
        """Leak what has leaked since the last add, add one, and return the count."""
        leaked = (now_us - self.stamp_us) * self.rate_per_s / US_PER_S
        self.count = max(0.0, self.count - leaked) + 1
        self.stamp_us = now_us
        return self.count
