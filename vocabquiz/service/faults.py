"""Injected faults for the fault tests (tests/faults, `python -m bench.faults`): a handler that
fails *after* its transaction committed and its frames went out, so Pub/Sub delivers the
command again and the game's idempotence has to hold.

Configured from QUIZ_FAULTS (read by config.py), a comma-separated list of `key=value`:

    QUIZ_FAULTS="fail_after_commit=0.2,seed=7"

- `fail_after_commit`: probability (0-1) that `after_commit()` raises, i.e. that the
  entry point answers 500 although the command's effects are stored.
- `seed`: the random sequence's seed (per process), for a repeatable run.

Unset or empty: no effect at all. A bad value, or any QUIZ_FAULTS with
QUIZ_ENV=production, raises FaultConfigError on the first command, and on every one after:
the function answers 500 and never handles a command, loudly.
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass

from werkzeug.exceptions import InternalServerError

ENV_VAR = "QUIZ_FAULTS"
log = logging.getLogger("quiz.faults")


class FaultConfigError(RuntimeError):
    pass


class InjectedFault(InternalServerError):
    """A deliberate 500: an HTTP error, so the framework answers it without a traceback
    (tracebacks in the logs mean real crashes)."""


@dataclass(frozen=True, slots=True)
class Faults:
    fail_after_commit: float = 0.0
    seed: int | None = None


def parse(text: str) -> Faults:
    """`key=value,...` to Faults; FaultConfigError names what is wrong."""
    values: dict[str, str] = {}
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
        values[key] = value
    unknown = sorted(set(values) - {"fail_after_commit", "seed"})
    if unknown:
        raise FaultConfigError(f"{ENV_VAR}: unknown fault(s) {', '.join(unknown)}")
    probability = 0.0
    if "fail_after_commit" in values:
        try:
            probability = float(values["fail_after_commit"])
        except ValueError:
            raise FaultConfigError(f"{ENV_VAR}: fail_after_commit must be a number") from None
        if not 0.0 <= probability <= 1.0:  # also refuses nan
            raise FaultConfigError(f"{ENV_VAR}: fail_after_commit must be between 0 and 1")
    seed = None
    if "seed" in values:
        try:
            seed = int(values["seed"])
        except ValueError:
            raise FaultConfigError(f"{ENV_VAR}: seed must be an integer") from None
    return Faults(probability, seed)


def load(text: str, environment: str) -> Faults | None:
    """The faults QUIZ_FAULTS asks for, or None when it is empty."""
    text = text.strip()
    if not text:
        return None
    if environment == "production":
        raise FaultConfigError(f"Refusing to inject faults with QUIZ_ENV=production ({ENV_VAR}={text!r})")
    return parse(text)


class Injector:
    def __init__(self, faults: Faults | None) -> None:
        self.faults = faults
        self._random = random.Random(faults.seed if faults else None)
        self._lock = threading.Lock()  # functions-framework serves requests on threads
        self.injected = 0

    def after_commit(self, what: str) -> None:
        """Raise InjectedFault with the configured probability; a no-op when unset."""
        if self.faults is None or self.faults.fail_after_commit <= 0.0:
            return
        with self._lock:
            hit = self._random.random() < self.faults.fail_after_commit
            if hit:
                self.injected += 1
        if hit:
            log.warning("injected fault: failing after commit", extra={"json_fields": {"where": what}})
            raise InjectedFault(f"Injected fault after commit in {what} ({ENV_VAR})")
