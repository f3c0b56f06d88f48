"""Who may open a socket, decided from the handshake's headers alone: the origin, the
Firebase ID token (as a header or in the subprotocol list), its expiry, and how many
sockets the user holds. Token verification is a function the test passes in."""

from __future__ import annotations

import time
from collections.abc import Mapping
from http import HTTPStatus
from pathlib import Path
from typing import Any, cast

import pytest
from firebase_admin import auth as firebase_auth
from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.typing import Subprotocol

from gateway import handshake
from gateway.handshake import (
    SUBPROTOCOL,
    Handshake,
    HandshakeRefused,
    bearer_token,
    forget_token,
    select_subprotocol,
)
from vocabquiz.protocol import frames

WEB = "https://quiz.example"


def _handshake(verify: Any = None) -> Handshake:
    def valid(token: str) -> Mapping[str, Any]:
        return {"uid": f"uid-of-{token}", "exp": time.time() + 3600}

    return Handshake(frozenset({WEB}), max_connections_per_user=5, verify_token=verify or valid)


def _refusal(check: Any, *args: Any) -> HandshakeRefused:
    with pytest.raises(HandshakeRefused) as refused:
        check(*args)
    return refused.value


def test_browser_from_a_listed_origin_or_client_without_one_passes_the_origin_check() -> None:
    _handshake().check_origin(Headers({"Origin": WEB}))
    _handshake().check_origin(Headers())


def test_page_from_another_origin_is_refused_with_403() -> None:
    refused = _refusal(_handshake().check_origin, Headers({"Origin": "https://quiz.example.evil"}))
    assert (refused.status, refused.reason) == (HTTPStatus.FORBIDDEN, "origin")


def test_token_is_read_from_the_authorization_header_or_the_subprotocol_list() -> None:
    assert _handshake().token(Headers({"Authorization": "Bearer abc"})) == "abc"
    offered = Headers({"Sec-WebSocket-Protocol": f"{SUBPROTOCOL}, bearer.xyz"})
    assert _handshake().token(offered) == "xyz"


def test_client_without_a_token_is_refused_with_401() -> None:
    for headers in (Headers(), Headers({"Authorization": "Bearer "}), Headers({"Authorization": "Basic x"})):
        refused = _refusal(_handshake().token, headers)
        assert (refused.status, refused.reason) == (HTTPStatus.UNAUTHORIZED, "no_token")


def test_valid_token_names_its_user() -> None:
    assert _handshake().verify("t1") == "uid-of-t1"


def test_expired_token_is_refused_with_401_whoever_notices() -> None:
    def expired_by_firebase(token: str) -> Mapping[str, Any]:
        raise firebase_auth.ExpiredIdTokenError("expired", None)

    def expired_by_its_claims(token: str) -> Mapping[str, Any]:  # the Auth emulator checks no expiry
        return {"uid": "u1", "exp": time.time() - 1}

    for verify in (expired_by_firebase, expired_by_its_claims):
        refused = _refusal(_handshake(verify).verify, "t1")
        assert (refused.status, refused.reason) == (HTTPStatus.UNAUTHORIZED, "expired_token")


def test_invalid_token_is_refused_with_401_keeping_why_for_the_log() -> None:
    def invalid(token: str) -> Mapping[str, Any]:
        raise firebase_auth.InvalidIdTokenError("wrong audience")

    refused = _refusal(_handshake(invalid).verify, "t1")
    assert (refused.status, refused.reason) == (HTTPStatus.UNAUTHORIZED, "bad_token")
    assert (refused.message, refused.detail) == ("Invalid ID token", "wrong audience")


def test_user_holding_the_most_sockets_allowed_is_refused_another_with_429() -> None:
    _handshake().check_sockets(4)
    refused = _refusal(_handshake().check_sockets, 5)
    assert (refused.status, refused.reason) == (HTTPStatus.TOO_MANY_REQUESTS, "too_many_sockets")


def test_verified_token_is_forgotten_and_the_subprotocol_kept() -> None:
    headers = Headers({"Sec-WebSocket-Protocol": f"{SUBPROTOCOL}, bearer.xyz", "Authorization": "Bearer abc"})
    forget_token(headers)
    assert bearer_token(headers) is None
    assert headers.get_all("Sec-WebSocket-Protocol") == [SUBPROTOCOL]
    assert "Authorization" not in headers


def test_server_speaks_its_subprotocol_only_when_offered() -> None:
    no_socket = cast(ServerConnection, None)  # the choice needs none
    assert select_subprotocol(no_socket, [Subprotocol("other"), SUBPROTOCOL]) == SUBPROTOCOL
    assert select_subprotocol(no_socket, [Subprotocol("other")]) is None


def test_subprotocol_prefixes_are_the_protocols_and_the_web_client_offers_them() -> None:
    """The wire protocol (vocabquiz/protocol/frames.py) names both prefixes; the gateway
    and the browser client read them from there, or spell them as it does."""
    assert (handshake.BEARER_PREFIX, handshake.APP_CHECK_PREFIX) == (
        frames.BEARER_PREFIX,
        frames.APP_CHECK_PREFIX,
    )
    socket_js = (Path(__file__).parents[2] / "web" / "js" / "socket.js").read_text()
    assert f"`{frames.BEARER_PREFIX}${{" in socket_js
    assert f"`{frames.APP_CHECK_PREFIX}${{" in socket_js


def test_a_token_whose_header_nests_too_deep_is_refused_with_401_not_a_crash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """firebase-admin itself (emulator mode: no signature to fetch) decodes the header
    first, and JSON nested 3,000 deep recurses past Python's limit."""
    import base64
    import uuid

    import firebase_admin

    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", "localhost:1")
    app = firebase_admin.initialize_app(options={"projectId": "demo-quiz"}, name=uuid.uuid4().hex)
    try:
        header = base64.urlsafe_b64encode(b"[" * 3000 + b"]" * 3000).rstrip(b"=").decode()
        verify = _handshake(lambda token: firebase_auth.verify_id_token(token, app=app)).verify
        refused = _refusal(verify, f"{header}.e30.")
    finally:
        firebase_admin.delete_app(app)
    assert (refused.status, refused.reason, refused.message) == (
        HTTPStatus.UNAUTHORIZED,
        "bad_token",
        "Invalid ID token",
    )
