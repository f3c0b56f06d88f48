"""Injected faults for the fault runs (tests/faults, `python -m bench.faults`), read from
QUIZ_FAULTS by the functions and the gateway alike: a comma-separated list of `key=value`:

    QUIZ_FAULTS="fail_after_commit=0.2,lost_commit_reply=0.05,clock_skew_ms=-150,seed=7"

Functions:
- `fail_after_commit`: probability that a command's handler answers 500 after its work
  committed and its frames went out (service/faults.py), so Pub/Sub delivers it again.
- `lost_commit_reply`: probability that a Firestore commit succeeds but its reply is lost
  (UNAVAILABLE); the client library retries the commit, as it does in the cloud
  (adapters/rpcs.py).
Gateway:
- `lost_publish_reply`: probability that a batch of commands Pub/Sub stored is never
  acknowledged to its players (the publish's reply lost): they resend it.
Both:
- `clock_skew_ms`: this process's wall clock runs this far ahead (negative: behind).
- `seed`: the random sequence's seed (per process), for a repeatable run.

Unset or empty: no effect at all. A bad value, or any QUIZ_FAULTS with
QUIZ_ENV=production, raises FaultConfigError: loudly, never silently ignored.
"""

from __future__ import annotations

import logging
import math
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass

ENV_VAR = "QUIZ_FAULTS"
MAX_SKEW_MS = 10_000
log = logging.getLogger("quiz.faults")


class FaultConfigError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class Faults:
    fail_after_commit: float = 0.0
    lost_commit_reply: float = 0.0
    lost_publish_reply: float = 0.0
    clock_skew_ms: int = 0
    seed: int | None = None


def _probability(key: str, value: str) -> float:
    try:
        probability = float(value)
    except ValueError:
        raise FaultConfigError(f"{ENV_VAR}: {key} must be a number") from None
    if not 0.0 <= probability <= 1.0:  # also refuses nan
        raise FaultConfigError(f"{ENV_VAR}: {key} must be between 0 and 1")
    return probability


def _integer(key: str, value: str, limit: float = math.inf) -> int:
    try:
        number = int(value)
    except ValueError:
        raise FaultConfigError(f"{ENV_VAR}: {key} must be an integer") from None
    if abs(number) > limit:
        raise FaultConfigError(f"{ENV_VAR}: {key} must be within ±{limit:.0f}")
    return number


_KNOBS: dict[str, Callable[[str, str], float | int]] = {
    "fail_after_commit": _probability,
    "lost_commit_reply": _probability,
    "lost_publish_reply": _probability,
    "clock_skew_ms": lambda key, value: _integer(key, value, MAX_SKEW_MS),
    "seed": _integer,
}


def parse(text: str) -> Faults:
    """`key=value,...` to Faults; FaultConfigError names what is wrong."""
    values: dict[str, float | int] = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise FaultConfigError(f"{ENV_VAR}: expected key=value, got {item!r}")
        if key in values:
            raise FaultConfigError(f"{ENV_VAR}: {key} is given twice")
        if key not in _KNOBS:
            raise FaultConfigError(f"{ENV_VAR}: unknown fault {key} (known: {', '.join(_KNOBS)})")
        values[key] = _KNOBS[key](key, value)
    return Faults(**values)  # type: ignore[arg-type]


def load(text: str, environment: str) -> Faults | None:
    """The faults QUIZ_FAULTS asks for, or None when it is empty."""
    text = text.strip()
    if not text:
        return None
    if environment == "production":
        raise FaultConfigError(f"Refusing to inject faults with QUIZ_ENV=production ({ENV_VAR}={text!r})")
    return parse(text)


class Dice:
    """The faults' one random sequence in a process, seeded for a repeatable run, and
    what each knob has injected so far. Thread-safe: handlers run on threads."""

    def __init__(self, faults: Faults | None) -> None:
        self.faults = faults or Faults()
        self._random = random.Random(self.faults.seed)
        self._lock = threading.Lock()
        self.injected: dict[str, int] = {}

    def roll(self, knob: str) -> bool:
        """True with the probability `knob` is set to (never when it is 0), counted."""
        probability = float(getattr(self.faults, knob))
        if probability <= 0.0:
            return False
        with self._lock:
            hit = self._hit(knob, probability)
            if hit:
                self.injected[knob] = self.injected.get(knob, 0) + 1
        return hit

    def _hit(self, knob: str, probability: float) -> bool:
        """The draw itself (under the lock): a test may arm its own."""
        return self._random.random() < probability

    def clock_ms(self, clock: Callable[[], int]) -> Callable[[], int]:
        """`clock`, skewed as configured (itself when there is no skew)."""
        skew = self.faults.clock_skew_ms
        return clock if skew == 0 else (lambda: clock() + skew)
