"""The functions' injected 500 (QUIZ_FAULTS=fail_after_commit=P, vocabquiz/faults.py): a
handler that fails *after* its transaction committed and its frames went out, so Pub/Sub
delivers the command again and the game's idempotence has to hold."""

from __future__ import annotations

from werkzeug.exceptions import InternalServerError

from vocabquiz.faults import ENV_VAR, Dice, log


class InjectedFault(InternalServerError):
    """A deliberate 500: an HTTP error, so the framework answers it without a traceback
    (tracebacks in the logs mean real crashes)."""


def fail_after_commit(dice: Dice, what: str) -> None:
    """Raise InjectedFault with the configured probability; a no-op when unset."""
    if dice.roll("fail_after_commit"):
        log.warning("injected fault: failing after commit", extra={"json_fields": {"where": what}})
        raise InjectedFault(f"Injected fault after commit in {what} ({ENV_VAR})")
