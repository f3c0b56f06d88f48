"""The host's HTTP API (Flask), served by the `sessions_api` function.

Every route needs a Firebase ID token (`Authorization: Bearer ...`); the caller's uid
comes from the verified token, never from the request body. Where App Check is enforced,
every route also needs an App Check token (`X-Firebase-AppCheck`). Why a token was
refused goes to the log, never to the client.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import flask
from werkzeug.exceptions import RequestEntityTooLarge

from vocabquiz.domain import catalog, review
from vocabquiz.domain.errors import Busy, GameError
from vocabquiz.domain.model import Session
from vocabquiz.domain.quotas import QuotaExceeded
from vocabquiz.domain.results import players_csv
from vocabquiz.protocol import ErrorCode
from vocabquiz.protocol.frames import JsonTooDeep, load_json, normalize_session_code
from vocabquiz.service.config import MAX_REQUEST_BYTES
from vocabquiz.service.game import Game

log = logging.getLogger("quiz.api")

# Where a refusal's code maps to an HTTP status: the one place that decides.
_STATUS = {
    ErrorCode.INVALID_SESSION: HTTPStatus.NOT_FOUND,
    ErrorCode.NOT_HOST: HTTPStatus.FORBIDDEN,
    ErrorCode.UNAUTHENTICATED: HTTPStatus.UNAUTHORIZED,
    ErrorCode.INVALID_MESSAGE: HTTPStatus.BAD_REQUEST,
    ErrorCode.SESSION_NOT_ACTIVE: HTTPStatus.CONFLICT,
    ErrorCode.NOT_JOINED: HTTPStatus.NOT_FOUND,
    ErrorCode.QUIZ_EXISTS: HTTPStatus.CONFLICT,
    ErrorCode.QUIZ_PRIVATE: HTTPStatus.FORBIDDEN,
    ErrorCode.QUIZ_TOO_LARGE: HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    ErrorCode.QUOTA_EXCEEDED: HTTPStatus.TOO_MANY_REQUESTS,
}
# A next_page_token is the last quiz id of a page: a quiz file's id (quizfile.py).
_PAGE_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")
MAX_PARTICIPANTS_LIMIT = 10_000
APP_CHECK_HEADER = "X-Firebase-AppCheck"
# What a client is told of a refused token; the reason goes to the log.
INVALID_ID_TOKEN = "Invalid or expired ID token"
INVALID_APP_CHECK_TOKEN = "App Check token missing or invalid"


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a verified Firebase ID token names: the uid, and whether the account is
    anonymous (signed in with no credential), whose uploaded quizzes expire."""

    uid: str
    anonymous: bool

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> Caller:
        """From a verified ID token's claims: Firebase puts the sign-in method in
        `firebase.sign_in_provider`, "anonymous" for an anonymous account."""
        firebase = claims.get("firebase")
        provider = firebase.get("sign_in_provider") if isinstance(firebase, Mapping) else None
        return cls(uid=str(claims["uid"]), anonymous=provider == "anonymous")


# An ID token to its caller, raising ValueError (with the reason) if it is not valid.
VerifyToken = Callable[[str], Caller]
# Returns if an App Check token is valid, raising ValueError (with the reason) if not.
VerifyAppCheck = Callable[[str], object]


def create_app(
    game_factory: Callable[[], Game],
    verify_token: VerifyToken,
    allowed_origins: frozenset[str],
    verify_app_check: VerifyAppCheck | None = None,
) -> flask.Flask:
    """`verify_token` maps a Firebase ID token to its Caller; `allowed_origins` are the
    exact browser origins (the web client's) given CORS access; `verify_app_check`, when
    given (App Check enforced), checks every request's App Check token, and a request
    without a valid one is refused."""
    app = flask.Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES  # a quiz file is a few KiB

    @app.url_value_preprocessor
    def session_codes(_endpoint: str | None, values: dict[str, Any] | None) -> None:
        """A session code in a path is read in any case, as in frames."""
        if values and isinstance(values.get("session_id"), str):
            values["session_id"] = normalize_session_code(values["session_id"])

    @app.before_request
    def preflight() -> flask.Response | None:
        if flask.request.method == "OPTIONS":
            return flask.Response(status=HTTPStatus.NO_CONTENT)
        return None

    @app.before_request
    def attested() -> None:
        """Where App Check is enforced, only an attested app's requests go further."""
        if verify_app_check is None:
            return
        token = flask.request.headers.get(APP_CHECK_HEADER, "")
        if not token:
            _log_refused("app check token refused", "missing")
            raise GameError(ErrorCode.UNAUTHENTICATED, INVALID_APP_CHECK_TOKEN)
        try:
            verify_app_check(token)
        except ValueError as exc:
            _log_refused("app check token refused", str(exc))
            raise GameError(ErrorCode.UNAUTHENTICATED, INVALID_APP_CHECK_TOKEN) from None

    @app.after_request
    def cors(response: flask.Response) -> flask.Response:
        origin = flask.request.headers.get("Origin")
        if origin and origin in allowed_origins:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
            response.headers["Access-Control-Allow-Headers"] = (
                f"Authorization, Content-Type, {APP_CHECK_HEADER}"
            )
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, DELETE, OPTIONS"
            response.headers["Access-Control-Max-Age"] = "3600"
            # A page's script reads a download's file name and a 429's wait only if exposed.
            response.headers["Access-Control-Expose-Headers"] = "Content-Disposition, Retry-After"
        return response

    @app.errorhandler(GameError)
    def refused(error: GameError) -> tuple[flask.Response, int, dict[str, str]]:
        status = _STATUS.get(error.code, HTTPStatus.CONFLICT)
        # A quota comes back at the next UTC day: say when, as RFC 9110 has 429 do.
        retry = {"Retry-After": str(error.retry_after_s)} if isinstance(error, QuotaExceeded) else {}
        return flask.jsonify({"error": {"code": error.code.value, "message": error.message}}), status, retry

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(error: RequestEntityTooLarge) -> tuple[flask.Response, int]:
        message = f"The request is over {MAX_REQUEST_BYTES} bytes, the most the API reads"
        body = {"code": ErrorCode.QUIZ_TOO_LARGE.value, "message": message}
        return flask.jsonify({"error": body}), HTTPStatus.REQUEST_ENTITY_TOO_LARGE

    @app.errorhandler(Busy)
    def busy(error: Busy) -> tuple[flask.Response, int, dict[str, str]]:
        fields = {"path": flask.request.path, "error": str(error)}
        log.warning("request contended", extra={"json_fields": fields})
        body = {"code": ErrorCode.INTERNAL.value, "message": "Busy: nothing was changed; try again"}
        return flask.jsonify({"error": body}), HTTPStatus.SERVICE_UNAVAILABLE, {"Retry-After": "1"}

    def authenticated() -> Caller:
        header = flask.request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            raise GameError(ErrorCode.UNAUTHENTICATED, "Missing bearer token")
        try:
            return verify_token(header.removeprefix("Bearer "))
        except ValueError as exc:
            _log_refused("id token refused", str(exc))
            raise GameError(ErrorCode.UNAUTHENTICATED, INVALID_ID_TOKEN) from None

    def caller() -> str:
        return authenticated().uid

    def body(*allowed: str) -> dict[str, Any]:
        """The JSON body; a field the route does not take (a `host_uid`, say) is refused."""
        try:
            # Not get_json: JSON nested past MAX_JSON_DEPTH would recurse into a 500.
            data = load_json(flask.request.get_data()) if flask.request.is_json else None
        except JsonTooDeep as exc:
            raise GameError(ErrorCode.INVALID_MESSAGE, f"Body's {exc}") from None
        except ValueError:
            data = None  # not JSON: as an empty body
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise GameError(ErrorCode.INVALID_MESSAGE, "Body must be a JSON object")
        unknown = sorted(set(data) - set(allowed))
        if unknown:
            raise GameError(ErrorCode.INVALID_MESSAGE, f"Unknown field(s): {', '.join(unknown)}")
        return data

    @app.get("/api/v1/quizzes")
    def list_quizzes() -> Any:
        """The quizzes the caller may host (public + their own), by id, a page at a time:
        `?page_size=` (1-100, default 50) and `?page_token=` (a `next_page_token`)."""
        uid = caller()
        page_size = _page_size(flask.request.args.get("page_size"))
        token = flask.request.args.get("page_token") or None
        if token is not None and not _PAGE_TOKEN.fullmatch(token):
            raise GameError(ErrorCode.INVALID_MESSAGE, "page_token must be a next_page_token from this list")
        entries, after = game_factory().list_quizzes(uid, page_size, token)
        return {"quizzes": [entry.to_json(uid) for entry in entries], "next_page_token": after}

    @app.post("/api/v1/quizzes")
    def upload_quiz() -> Any:
        """A quiz file (docs/quiz-format.md) as the body, `?visibility=private` (the
        default) or `public`; errors name the line and field."""
        who = authenticated()
        visibility = flask.request.args.get("visibility", "private")
        if visibility not in ("private", "public"):
            raise GameError(ErrorCode.INVALID_MESSAGE, "visibility must be 'private' or 'public'")
        quiz = game_factory().upload_quiz_file(
            flask.request.get_data(),
            owner_uid=who.uid,
            public=visibility == "public",
            anonymous=who.anonymous,
        )
        return {
            "quiz_id": quiz.id,
            "title": quiz.title,
            "question_count": len(quiz.questions),
            "public": visibility == "public",
        }, HTTPStatus.CREATED

    @app.post("/api/v1/sessions")
    def create_session() -> Any:
        uid = caller()
        data = body("quiz_id", "max_participants", "auto_advance")
        quiz_id = data.get("quiz_id")
        max_participants = data.get("max_participants", 1000)
        auto_advance = data.get("auto_advance", True)
        if not isinstance(quiz_id, str) or not quiz_id:
            raise GameError(ErrorCode.INVALID_MESSAGE, "quiz_id (string) is required")
        if not isinstance(max_participants, int) or not 1 <= max_participants <= MAX_PARTICIPANTS_LIMIT:
            raise GameError(ErrorCode.INVALID_MESSAGE, f"max_participants must be 1-{MAX_PARTICIPANTS_LIMIT}")
        if not isinstance(auto_advance, bool):
            raise GameError(ErrorCode.INVALID_MESSAGE, "auto_advance must be a boolean")
        session = game_factory().create_session(quiz_id, uid, max_participants, auto_advance)
        return _session_json(session), HTTPStatus.CREATED

    @app.get("/api/v1/sessions/<session_id>")
    def get_session(session_id: str) -> Any:
        caller()
        return _session_json(game_factory().session(session_id))

    @app.post("/api/v1/sessions/<session_id>/start")
    def start(session_id: str) -> Any:
        return _session_json(game_factory().start(session_id, caller()))

    @app.post("/api/v1/sessions/<session_id>/next")
    def next_question(session_id: str) -> Any:
        return _session_json(game_factory().next_question(session_id, caller()))

    @app.post("/api/v1/sessions/<session_id>/end")
    def end(session_id: str) -> Any:
        return _session_json(game_factory().end(session_id, caller()))

    @app.post("/api/v1/sessions/<session_id>/kick")
    def kick(session_id: str) -> Any:
        uid = caller()
        target = body("user_id").get("user_id")
        if not isinstance(target, str) or not target:
            raise GameError(ErrorCode.INVALID_MESSAGE, "user_id (string) is required")
        game_factory().kick(session_id, uid, target)
        return {"session_id": session_id, "kicked": target}

    @app.get("/api/v1/sessions/<session_id>/results")
    def results(session_id: str) -> Any:
        report = game_factory().results(session_id, caller())
        return _json_or_csv(report, players_csv, f"results-{session_id}.csv")

    @app.get("/api/v1/sessions/<session_id>/review")
    def player_review(session_id: str) -> Any:
        """The caller's own missed and skipped words: JSON, `?format=csv` or `?format=apkg`."""
        uid = caller()
        if _format("csv", "apkg") == "apkg":
            return _download(game_factory().missed_deck(session_id, uid), APKG, f"missed-{session_id}.apkg")
        return _json_or_csv(
            game_factory().review(session_id, uid), review.missed_csv, f"missed-{session_id}.csv"
        )

    @app.get("/api/v1/sessions/<session_id>/class")
    def class_view(session_id: str) -> Any:
        """The host's view of the class, word by word, hardest first; `?format=csv`."""
        uid = caller()
        _format("csv")
        return _json_or_csv(
            game_factory().class_view(session_id, uid), review.class_csv, f"class-{session_id}.csv"
        )

    @app.get("/api/v1/sessions/<session_id>/deck")
    def quiz_deck(session_id: str) -> Any:
        """The session's whole quiz as an Anki deck, for its host."""
        quiz_id, deck = game_factory().quiz_deck(session_id, caller())
        return _download(deck, APKG, f"quiz-{quiz_id}.apkg")

    return app


CSV = "text/csv"
APKG = "application/apkg"


def _format(*allowed: str) -> str | None:
    """`?format=`: absent for JSON, else one of `allowed`."""
    form = flask.request.args.get("format")
    if form is not None and form not in allowed:
        raise GameError(ErrorCode.INVALID_MESSAGE, f"format must be one of: {', '.join(allowed)}")
    return form


def _json_or_csv(data: dict[str, Any], to_csv: Callable[[dict[str, Any]], str], filename: str) -> Any:
    """`data` as JSON, or with `?format=csv` as a CSV file to download."""
    if flask.request.args.get("format") == "csv":
        return _download(to_csv(data), CSV, filename)
    return data


def _download(content: str | bytes, mimetype: str, filename: str) -> flask.Response:
    return flask.Response(
        content, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


def _log_refused(message: str, reason: str) -> None:
    """Why a token was refused, for the log alone: the library's words can say what a
    forger got wrong (the audience, the issuer, the signing key)."""
    fields = {"path": flask.request.path, "reason": reason[:300]}
    log.warning(message, extra={"json_fields": fields})


def _page_size(text: str | None) -> int:
    if text is None:
        return catalog.DEFAULT_PAGE_SIZE
    if not text.isdigit() or not 1 <= int(text) <= catalog.MAX_PAGE_SIZE:
        raise GameError(ErrorCode.INVALID_MESSAGE, f"page_size must be 1-{catalog.MAX_PAGE_SIZE}")
    return int(text)


def _session_json(session: Session) -> dict[str, Any]:
    current = session.current
    return {
        "session_id": session.id,
        "code": session.id,
        "quiz_id": session.quiz_id,
        "status": session.status.value,
        "max_participants": session.max_participants,
        "question_count": session.question_count,
        "auto_advance": session.auto_advance,
        "current_index": current.index if current else None,
        "question_open": session.open_question is not None,
    }
