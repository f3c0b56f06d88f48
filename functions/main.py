"""Cloud Functions entry points. Each decodes its trigger, calls the game, and returns;
clients are created once per instance, on first use.

Retries are a decision: an infrastructure error propagates (5xx, so Pub/Sub or Cloud
Tasks delivers again, which the game's idempotence makes safe); a message that can
never succeed is logged and acknowledged.
"""

from __future__ import annotations

import base64
import binascii
import functools
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

import firebase_admin
import flask
import functions_framework
import jwt
from cloudevents.http import CloudEvent
from firebase_admin import app_check as firebase_app_check
from firebase_admin import auth as firebase_auth
from google.api_core import exceptions as gexc
from opentelemetry.trace import SpanKind
from werkzeug.exceptions import ServiceUnavailable

from vocabquiz import faults
from vocabquiz.adapters import rpcs
from vocabquiz.adapters.events import PubSubPublisher
from vocabquiz.adapters.store import Store
from vocabquiz.adapters.tasks import CloudTasksQueue
from vocabquiz.domain.errors import Busy, GameError
from vocabquiz.observability import logs, tracing
from vocabquiz.protocol import now_ms
from vocabquiz.protocol.envelope import Command, commands_from_message
from vocabquiz.protocol.tokens import require_unexpired
from vocabquiz.service import api
from vocabquiz.service.config import load_config
from vocabquiz.service.faults import fail_after_commit
from vocabquiz.service.game import Game

# Read once per instance: the environment does not change under a running function.
config = load_config()
logs.configure(project_id=config.project_id)
tracing.configure(config.trace_settings())
log = logging.getLogger("quiz.functions")

Handler = TypeVar("Handler", bound=Callable[..., Any])


def continue_request_trace(handler: Handler) -> Handler:
    """An HTTP entry point continues the trace its request carries: a Cloud Task's
    headers hold the context of the span that created it (vocabquiz/adapters/tasks.py)."""

    @functools.wraps(handler)
    def traced(request: flask.Request) -> Any:
        with tracing.tracer().start_as_current_span(
            handler.__name__,
            context=tracing.extract(request.headers),  # type: ignore[arg-type]
            kind=SpanKind.SERVER,
            attributes={"http.request.method": request.method, "url.path": request.path},
        ):
            return handler(request)

    return cast(Handler, traced)


def count_invocation(handler: Handler) -> Handler:
    """One line per invocation with its Firestore RPCs, document reads and writes (counted
    on the emulator's channel) and its duration: what the bench divides by the answers."""

    @functools.wraps(handler)
    def counted(*args: Any) -> Any:
        started = time.perf_counter()
        with rpcs.counting() as firestore:
            try:
                return handler(*args)
            finally:
                fields: dict[str, Any] = {
                    "function": handler.__name__,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                }
                if rpcs.channel_counted():
                    fields |= {
                        "firestore_rpcs": firestore.rpcs,
                        "firestore_reads": firestore.reads,
                        "firestore_writes": firestore.writes,
                    }
                else:
                    fields["firestore_rpcs"] = None
                log.info("invocation", extra={"json_fields": fields})

    return cast(Handler, counted)


@functools.cache
def game() -> Game:
    dice = injected_faults()
    return Game(
        Store(rpcs.CountingClient(project=config.project_id, lost_replies=dice)),
        PubSubPublisher(config.project_id, config.events_topic),
        CloudTasksQueue(config),
        config,
        clock=dice.clock_ms(now_ms),
    )


@functools.cache
def injected_faults() -> faults.Dice:
    """What QUIZ_FAULTS asks this instance to inject (fault runs only; nothing when unset)."""
    return faults.Dice(faults.load(config.faults, config.environment))


@functions_framework.cloud_event
@count_invocation
def on_command(event: CloudEvent) -> None:
    """One `quiz-commands` message: a command, or a batch of one session's commands the
    gateway packed together. The invocation continues the first command's trace; each
    command's own lines name its trace."""
    dice = injected_faults()
    message = event.data["message"]
    try:
        commands, refused = commands_from_message(
            base64.b64decode(message["data"]), message.get("attributes") or {}
        )
    except (KeyError, ValueError, TypeError, binascii.Error) as exc:
        commands, refused = [], [({}, str(exc))]
    for part, error in refused:
        fields = {"message_id": message.get("messageId"), "error": error, "part": str(part)[:200]}
        log.error("poison command dropped", extra={"json_fields": fields})
    if not commands:
        return
    with tracing.tracer().start_as_current_span(
        "on_command",
        context=tracing.extract(commands[0].trace_carrier),
        kind=SpanKind.CONSUMER,
        attributes={
            "messaging.message.id": str(message.get("messageId", "")),
            "quiz.commands": len(commands),
        },
    ):
        _run_commands(commands, dice)


def _run_commands(commands: list[Command], dice: faults.Dice) -> None:
    try:
        game().handle_commands(commands)
    except Busy as exc:
        fields = {"error": str(exc)}
        log.warning("command contended: Pub/Sub delivers it again", extra={"json_fields": fields})
        raise ServiceUnavailable("Contended: nothing was written") from None
    except gexc.GoogleAPICallError as exc:
        # A backend call failed, or its outcome is unknown (a lost reply): the redelivery
        # finds whatever was done and does the rest (every command is idempotent).
        fields = {"error": str(exc)[:300]}
        log.warning(
            "command failed on a backend call: Pub/Sub delivers it again", extra={"json_fields": fields}
        )
        raise ServiceUnavailable("A backend call failed") from None
    fail_after_commit(dice, "on_command")  # a no-op unless QUIZ_FAULTS asks for failures (tests only)


def _run_task(request: flask.Request, run: Callable[[dict[str, Any]], None]) -> tuple[str, int]:
    """A task that can never succeed (malformed, or refused by the game) is logged and
    acknowledged with 2xx: Cloud Tasks would otherwise retry it for days."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("session_id"), str):
        log.error("malformed task dropped", extra={"json_fields": {"body": request.get_data()[:200]}})
        return "", 204
    try:
        run(body)
    except (Busy, gexc.GoogleAPICallError) as exc:  # contended, or a backend call failed
        log.warning(
            "task not done: Cloud Tasks delivers it again",
            extra={"json_fields": {"session_id": body["session_id"], "error": str(exc)[:300]}},
        )
        return "", 503
    except (GameError, KeyError, ValueError) as exc:
        log.error(
            "task refused", extra={"json_fields": {"session_id": body["session_id"], "error": str(exc)}}
        )
    return "", 204


@functions_framework.http
@count_invocation
@continue_request_trace
def flush_leaderboard(request: flask.Request) -> tuple[str, int]:
    return _run_task(
        request,
        lambda b: game().flush_leaderboard(b["session_id"], int(b["window"]), bool(b.get("snapshot"))),
    )


@functions_framework.http
@count_invocation
@continue_request_trace
def advance_question(request: flask.Request) -> tuple[str, int]:
    return _run_task(request, lambda b: game().on_timer(b["session_id"], str(b["action"]), int(b["index"])))


@functools.cache
def _firebase_app() -> firebase_admin.App:
    """This project's Firebase app, named by the project: a process that loads main again
    (tests) gets the app it made before, and never another project's."""
    name = f"quiz-{config.project_id}"
    try:
        return firebase_admin.get_app(name)
    except ValueError:
        return firebase_admin.initialize_app(options={"projectId": config.project_id}, name=name)


def verify_token(token: str) -> api.Caller:
    """The caller a valid Firebase ID token names; ValueError (with the reason) otherwise."""
    try:
        claims = firebase_auth.verify_id_token(token, app=_firebase_app())
    except (firebase_auth.InvalidIdTokenError, firebase_auth.CertificateFetchError) as exc:
        raise ValueError(str(exc)) from None
    except RecursionError:  # a header of JSON nested past the decoder's limit
        raise ValueError("token header nests too deep") from None
    require_unexpired(claims, time.time())
    return api.Caller.from_claims(claims)


def verify_app_check(token: str) -> None:
    """Returns if `token` is a valid App Check token for this project; ValueError (with the
    reason) otherwise. A signing key the token names but the JWKS lacks, or a JWKS that
    cannot be fetched, is a refusal too, not a 500."""
    try:
        firebase_app_check.verify_token(token, app=_firebase_app())
    except jwt.PyJWKClientError as exc:
        raise ValueError(f"App Check signing key: {exc}") from None


_api = api.create_app(
    game,
    verify_token,
    config.api_allowed_origins,
    verify_app_check if config.app_check_enforced else None,
)


@functions_framework.http
@continue_request_trace
def sessions_api(request: flask.Request) -> Any:
    with _api.request_context(request.environ):
        return _api.full_dispatch_request()
