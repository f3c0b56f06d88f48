"""Who may open a socket: the handshake's checks (origin, App Check, Firebase ID token,
subprotocol, sockets per user) as plain functions over the request's headers. A refusal is
a `HandshakeRefused` carrying its HTTP status; the server alone turns it into a response."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import jwt
from firebase_admin import app_check
from firebase_admin import auth as firebase_auth
from firebase_admin.exceptions import FirebaseError
from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.typing import Subprotocol

from vocabquiz.protocol import frames
from vocabquiz.protocol.tokens import TokenExpired, require_unexpired

SUBPROTOCOL = Subprotocol(frames.SUBPROTOCOL)
BEARER_PREFIX = frames.BEARER_PREFIX
APP_CHECK_PREFIX = frames.APP_CHECK_PREFIX
# Clients other than browsers may send their App Check token in the header the host API reads.
APP_CHECK_HEADER = "X-Firebase-AppCheck"
# What a refused client is told: fixed, whatever the verifier said (that goes to the log).
BAD_TOKEN_MESSAGE = "Invalid ID token"
APP_CHECK_MESSAGE = "App Check token missing or invalid"

# Verifies a Firebase ID token (or an App Check token) and returns its claims (blocking:
# it may fetch certificates or keys).
VerifyToken = Callable[[str], Mapping[str, Any]]


class HandshakeRefused(Exception):
    """A handshake the gateway refuses: `status` for the response, `reason` for the
    refusals metric and the log line, `message` for the body, `detail` (why a verifier
    refused a token) for the log line only: it helps an operator, and an attacker probing
    tokens."""

    def __init__(self, status: HTTPStatus, reason: str, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.status, self.reason, self.message, self.detail = status, reason, message, detail


@dataclass(frozen=True, slots=True)
class Handshake:
    # Exact Origin values a browser may connect from; a missing Origin (non-browser
    # clients, which cannot be driven by a hostile page) is allowed.
    allowed_origins: frozenset[str]
    max_connections_per_user: int
    verify_token: VerifyToken = firebase_auth.verify_id_token
    # With App Check enforced, a handshake must carry a valid App Check token too.
    app_check_enforced: bool = False
    verify_app_check: VerifyToken = app_check.verify_token

    def check_origin(self, headers: Headers) -> None:
        origin = headers.get("Origin")
        if origin is not None and origin not in self.allowed_origins:
            raise HandshakeRefused(HTTPStatus.FORBIDDEN, "origin", f"Origin {origin} is not allowed")

    def token(self, headers: Headers) -> str:
        """The ID token the client offers, in `Authorization` or the subprotocol list."""
        token = bearer_token(headers)
        if not token:
            raise HandshakeRefused(HTTPStatus.UNAUTHORIZED, "no_token", "A Firebase ID token is required")
        return token

    def verify(self, token: str) -> str:
        """The uid a valid, unexpired token names. Blocking: run it in a thread."""
        try:
            claims = self.verify_token(token)
            require_unexpired(claims, time.time())
        except (firebase_auth.ExpiredIdTokenError, TokenExpired):
            raise HandshakeRefused(
                HTTPStatus.UNAUTHORIZED, "expired_token", "The ID token has expired"
            ) from None
        except (ValueError, RecursionError, firebase_auth.InvalidIdTokenError) as exc:
            # RecursionError: a token header of JSON nested past the decoder's limit.
            raise HandshakeRefused(
                HTTPStatus.UNAUTHORIZED, "bad_token", BAD_TOKEN_MESSAGE, detail=str(exc)
            ) from None
        return str(claims["uid"])

    def check_app(self, headers: Headers) -> None:
        """With App Check enforced, the request must carry a valid App Check token (from the
        web client of this project's app). Blocking: run it in a thread."""
        if not self.app_check_enforced:
            return
        token = app_check_token(headers)
        if not token:
            raise HandshakeRefused(
                HTTPStatus.UNAUTHORIZED, "app_check", APP_CHECK_MESSAGE, detail="no App Check token"
            )
        try:
            self.verify_app_check(token)
        except (ValueError, jwt.PyJWTError, FirebaseError) as exc:
            # ValueError: a token the library refuses; PyJWTError: its signing key not
            # found; FirebaseError: the App Check service unreachable.
            raise HandshakeRefused(
                HTTPStatus.UNAUTHORIZED, "app_check", APP_CHECK_MESSAGE, detail=str(exc)
            ) from None

    def check_sockets(self, open_sockets: int) -> None:
        """A user already holding the most sockets allowed may not open another."""
        if open_sockets >= self.max_connections_per_user:
            raise HandshakeRefused(
                HTTPStatus.TOO_MANY_REQUESTS, "too_many_sockets", "Too many connections for this user"
            )


def bearer_token(headers: Headers) -> str | None:
    authorization = headers.get("Authorization", "")
    if authorization.startswith("Bearer "):
        return authorization.removeprefix("Bearer ").strip() or None
    return _offered_token(headers, BEARER_PREFIX)


def app_check_token(headers: Headers) -> str | None:
    return headers.get(APP_CHECK_HEADER, "").strip() or _offered_token(headers, APP_CHECK_PREFIX)


def _offered_token(headers: Headers, prefix: str) -> str | None:
    """The token a browser offers as the subprotocol `<prefix><token>`."""
    for value in headers.get_all("Sec-WebSocket-Protocol"):
        for item in value.split(","):
            item = item.strip()
            if item.startswith(prefix):
                return item.removeprefix(prefix) or None
    return None


def forget_token(headers: Headers) -> None:
    """The handshake's headers live as long as the socket: drop the tokens (up to ~1 KiB
    each, at 10,000 sockets a tenth of the memory) once they are verified."""
    offered = [p.strip() for v in headers.get_all("Sec-WebSocket-Protocol") for p in v.split(",")]
    for name in ("Authorization", APP_CHECK_HEADER, "Sec-WebSocket-Protocol"):
        if name in headers:
            del headers[name]
    kept = [p for p in offered if p and not p.startswith((BEARER_PREFIX, APP_CHECK_PREFIX))]
    if kept:
        headers["Sec-WebSocket-Protocol"] = ", ".join(kept)


def select_subprotocol(connection: ServerConnection, offered: Sequence[Subprotocol]) -> Subprotocol | None:
    """The one subprotocol the gateway speaks, if the client offers it (a client that
    offers none still connects: non-browser clients send their token as a header)."""
    return SUBPROTOCOL if SUBPROTOCOL in offered else None
