"""The functions as deployed, timed: functions-framework loads this file instead of
functions/main.py in the bench's stack. Each entry point runs the real one and logs one
"bench hop" line with where its time went (the store, publishing, creating tasks) and
how late it started (after the Pub/Sub publish, or after the task's schedule time).

Only the bench loads it; the cost is a few perf_counter calls and one log line per call.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import threading
import time
from datetime import datetime
from typing import Any

import flask
import functions_framework
from cloudevents.http import CloudEvent

import main as functions_main  # functions/main.py (functions/ is on PYTHONPATH)
from protocol.envelope import ATTR_RECEIVED_AT_MS

log = logging.getLogger("quiz.bench.probe")
_spent = threading.local()  # per request thread: name -> ms


def rfc3339_ms(text: str) -> float:
    """Epoch ms of an RFC 3339 stamp with any number of fraction digits."""
    head, _, fraction = text.rstrip("Z").partition(".")
    seconds = datetime.fromisoformat(head + "+00:00").timestamp()
    return seconds * 1000 + (float(f"0.{fraction}") * 1000 if fraction else 0.0)


def _time_calls(target: Any, method: str, key: str) -> None:
    original = getattr(target, method)

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent = getattr(_spent, "ms", None)
            if spent is not None:
                spent[key] = spent.get(key, 0.0) + (time.perf_counter() - started) * 1000

    setattr(target, method, timed)


@functools.cache
def _instrument() -> None:
    game = functions_main.game()
    for method in ("score_answer", "join", "transition", "participant_count", "participants_changed"):
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
    attributes = message.get("attributes") or {}
    fields: dict[str, Any] = {"fn": "on_command", "began_at": now_ms}
    try:
        fields["kind"] = json.loads(base64.b64decode(message["data"]))["type"]
        fields["since_publish_ms"] = now_ms - rfc3339_ms(message["publishTime"])
        fields["since_received_ms"] = now_ms - int(attributes[ATTR_RECEIVED_AT_MS])
    except (KeyError, ValueError, TypeError):
        fields["kind"] = "unreadable"
    try:
        functions_main.on_command(event)
    finally:
        _log(fields, started)


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
