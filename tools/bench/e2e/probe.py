"""The functions as deployed, timed: functions-framework loads this file instead of
functions/main.py in the bench's stack. Each entry point runs the real one and logs one
"bench hop" line with where its time went (the store, publishing, creating tasks) and
how late it started (after the Pub/Sub publish, or after the task's schedule time).

Only the bench loads it; the cost is a few perf_counter calls and one log line per call.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import logging
import threading
import time
from datetime import datetime
from typing import Any

import flask
import functions_framework
from cloudevents.http import CloudEvent

from devstack.stack import functions_main as _load_functions_main
from vocabquiz.protocol.envelope import commands_from_message

functions_main = _load_functions_main()
log = logging.getLogger("quiz.bench.probe")
_spent = threading.local()  # per request thread: name -> ms
_timing = threading.local()  # per request thread: the keys whose timed call is running


def rfc3339_ms(text: str) -> float:
    """Epoch ms of an RFC 3339 stamp with any number of fraction digits."""
    head, _, fraction = text.rstrip("Z").partition(".")
    seconds = datetime.fromisoformat(head + "+00:00").timestamp()
    return seconds * 1000 + (float(f"0.{fraction}") * 1000 if fraction else 0.0)


def _time_calls(target: Any, method: str, key: str) -> None:
    """Add the time `target.method` takes to the current call's `key`; a call made from
    inside another call timed under the same key is not counted twice."""
    original = getattr(target, method)

    def timed(*args: Any, **kwargs: Any) -> Any:
        running = _running()
        if key in running:
            return original(*args, **kwargs)
        running.add(key)
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            running.discard(key)
            spent = getattr(_spent, "ms", None)
            if spent is not None:
                spent[key] = spent.get(key, 0.0) + (time.perf_counter() - started) * 1000

    setattr(target, method, timed)


def _running() -> set[str]:
    running: set[str] | None = getattr(_timing, "keys", None)
    if running is None:
        running = _timing.keys = set()
    return running


def public_methods(obj: Any) -> list[str]:
    """The public methods `obj`'s class defines (the store's interface changes with the game)."""
    return [name for name, value in vars(type(obj)).items() if callable(value) and not name.startswith("_")]


@functools.cache
def _instrument() -> None:
    game = functions_main.game()
    for method in public_methods(game.store):
        _time_calls(game.store, method, "store_ms")
    _time_calls(game.publisher, "publish", "publish_ms")
    _time_calls(game.tasks, "create", "task_ms")


def _log(fields: dict[str, Any], started: float) -> None:
    fields["total_ms"] = (time.perf_counter() - started) * 1000
    fields.update(getattr(_spent, "ms", {}))
    _spent.ms = None
    log.info("bench hop", extra={"json_fields": fields})


@functions_framework.cloud_event
def on_command(event: CloudEvent) -> None:
    _instrument()
    now_ms, started = time.time() * 1000, time.perf_counter()
    _spent.ms = {}
    message = event.data["message"]
    fields: dict[str, Any] = {"fn": "on_command", "began_at": now_ms} | _command_fields(message, now_ms)
    try:
        functions_main.on_command(event)
    finally:
        _log(fields, started)


def _command_fields(message: dict[str, Any], now_ms: float) -> dict[str, Any]:
    """What a `quiz-commands` message (one command or a gateway batch) says about its
    wait: since_publish_ms, and since_received_ms of its oldest command; `kind` is the
    commands' type (`mixed` when they differ), `commands` how many it carried."""
    fields: dict[str, Any] = {"kind": "unreadable"}
    with contextlib.suppress(KeyError, ValueError, TypeError):
        fields["since_publish_ms"] = now_ms - rfc3339_ms(message["publishTime"])
    try:
        commands, _ = commands_from_message(
            base64.b64decode(message["data"]), message.get("attributes") or {}
        )
    except (KeyError, ValueError, TypeError, binascii.Error):
        return fields
    if commands:
        kinds = {str(command.frame.get("type")) for command in commands}
        fields["kind"] = kinds.pop() if len(kinds) == 1 else "mixed"
        fields["commands"] = len(commands)
        fields["since_received_ms"] = now_ms - min(command.received_at_ms for command in commands)
    return fields


def _task(entry: Any, fn: str, request: flask.Request) -> tuple[str, int]:
    _instrument()
    now_ms, started = time.time() * 1000, time.perf_counter()
    _spent.ms = {}
    body = request.get_json(silent=True) or {}
    fields: dict[str, Any] = {
        "began_at": now_ms,
        "fn": fn,
        "kind": "snapshot" if body.get("snapshot") else body.get("action", "flush"),
    }
    eta = request.headers.get("X-CloudTasks-TaskETA")
    if eta:
        fields["since_due_ms"] = now_ms - float(eta) * 1000
    try:
        return entry(request)  # type: ignore[no-any-return]
    finally:
        _log(fields, started)


@functions_framework.http
def flush_leaderboard(request: flask.Request) -> tuple[str, int]:
    return _task(functions_main.flush_leaderboard, "flush_leaderboard", request)


@functions_framework.http
def advance_question(request: flask.Request) -> tuple[str, int]:
    return _task(functions_main.advance_question, "advance_question", request)


sessions_api = functions_main.sessions_api
