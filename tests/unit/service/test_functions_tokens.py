"""functions/main.py's token checks with firebase-admin itself: an ID token's sign-in
method tells an anonymous caller (the Auth emulator's unsigned tokens, which firebase-admin
reads without a signature check); an App Check token is checked against a JWKS served
here in place of firebaseappcheck.googleapis.com's; APP_CHECK_ENFORCED decides whether
the host API asks for one."""

from __future__ import annotations

import base64
import json
import logging
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import Any

import firebase_admin
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from firebase_admin import app_check, credentials
from google.auth.credentials import AnonymousCredentials, Credentials

from devstack.stack import functions_main
from tests.unit.service.conftest import ENV
from vocabquiz.service.api import Caller

PROJECT = ENV["GOOGLE_CLOUD_PROJECT"]


def _load_main(monkeypatch: pytest.MonkeyPatch, **env: str) -> ModuleType:
    """functions/main.py loaded with `env`; the root logger and `main` are put back after."""
    for name, value in (ENV | env).items():
        monkeypatch.setenv(name, value)
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", root.handlers[:])
    monkeypatch.setattr(root, "level", root.level)
    monkeypatch.setitem(sys.modules, "main", sys.modules.get("main"))
    return functions_main()


def _unsigned_id_token(uid: str, provider: str, audience: str = PROJECT) -> str:
    """An ID token as the Auth emulator issues it: alg none, no signature."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    now = int(time.time())
    claims = {
        "iss": f"https://securetoken.google.com/{PROJECT}",
        "aud": audience,
        "sub": uid,
        "user_id": uid,
        "iat": now,
        "auth_time": now,
        "exp": now + 3600,
        "firebase": {"sign_in_provider": provider, "identities": {}},
    }
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


@pytest.fixture
def emulated_main(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return _load_main(monkeypatch, FIREBASE_AUTH_EMULATOR_HOST="localhost:1")


def test_verify_token_marks_an_anonymous_account(emulated_main: ModuleType) -> None:
    token = _unsigned_id_token("guest-1", "anonymous")
    assert emulated_main.verify_token(token) == Caller("guest-1", anonymous=True)


def test_verify_token_marks_a_signed_in_account_not_anonymous(emulated_main: ModuleType) -> None:
    token = _unsigned_id_token("member-1", "password")
    assert emulated_main.verify_token(token) == Caller("member-1", anonymous=False)


def test_verify_token_gives_the_reason_of_a_refusal_for_the_log(emulated_main: ModuleType) -> None:
    with pytest.raises(ValueError, match="audience"):
        emulated_main.verify_token(_unsigned_id_token("x", "anonymous", audience="someone-else"))


def test_api_gives_no_token_refusal_reason_to_the_client(emulated_main: ModuleType) -> None:
    client = emulated_main._api.test_client()
    token = _unsigned_id_token("x", "anonymous", audience="someone-else")
    reply = client.get("/api/v1/quizzes", headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 401
    assert reply.get_json()["error"]["message"] == "Invalid or expired ID token"


def test_host_api_asks_for_app_check_only_when_enforced(monkeypatch: pytest.MonkeyPatch) -> None:
    """No game is reached: both refusals come before it."""
    bearer = {"Authorization": "Bearer not-a-token"}
    unenforced = _load_main(monkeypatch)._api.test_client().get("/api/v1/quizzes", headers=bearer)
    assert unenforced.get_json()["error"]["message"] == "Invalid or expired ID token"
    enforced = _load_main(monkeypatch, APP_CHECK_ENFORCED="true")
    reply = enforced._api.test_client().get("/api/v1/quizzes", headers=bearer)
    assert (reply.status_code, reply.get_json()["error"]["message"]) == (
        401,
        "App Check token missing or invalid",
    )


# -- App Check against a JWKS served here --------------------------------------------------


class _NoCredentials(credentials.Base):  # type: ignore[misc]
    """App Check verification fetches only public keys; nothing needs to sign in."""

    def get_credential(self) -> Credentials:
        return AnonymousCredentials()  # type: ignore[no-untyped-call]


class _Keys:
    def __init__(self) -> None:
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        self.jwks = json.dumps({"keys": [public | {"kid": "served", "alg": "RS256", "use": "sig"}]}).encode()

    def token(self, kid: str = "served", audience: str = f"projects/{PROJECT}", ttl_s: int = 3600) -> str:
        now = int(time.time())
        claims = {
            "iss": "https://firebaseappcheck.googleapis.com/123456789",
            "aud": ["projects/123456789", audience],
            "sub": "1:123456789:web:abc",
            "iat": now - 10,
            "exp": now + ttl_s,
        }
        return jwt.encode(claims, self.private, algorithm="RS256", headers={"kid": kid, "typ": "JWT"})


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Keys]:
    """App Check's JWKS endpoint, faked on a local port."""
    served = _Keys()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(served.jwks)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(
        app_check._AppCheckService, "_JWKS_URL", f"http://127.0.0.1:{server.server_port}/v1/jwks"
    )
    yield served
    server.shutdown()
    server.server_close()


@pytest.fixture
def checking_main(monkeypatch: pytest.MonkeyPatch, keys: _Keys) -> Iterator[ModuleType]:
    """main with a Firebase app of its own, so its App Check service reads the faked JWKS."""
    main = _load_main(monkeypatch)
    app = firebase_admin.initialize_app(_NoCredentials(), {"projectId": PROJECT}, name=uuid.uuid4().hex)
    monkeypatch.setattr(main, "_firebase_app", lambda: app)
    yield main
    firebase_admin.delete_app(app)


def test_verify_app_check_accepts_a_token_signed_by_a_served_key(
    checking_main: ModuleType, keys: _Keys
) -> None:
    assert checking_main.verify_app_check(keys.token()) is None


def test_verify_app_check_refuses_a_token_for_another_project(checking_main: ModuleType, keys: _Keys) -> None:
    with pytest.raises(ValueError, match="audience"):
        checking_main.verify_app_check(keys.token(audience="projects/someone-else"))


def test_verify_app_check_refuses_an_expired_token(checking_main: ModuleType, keys: _Keys) -> None:
    with pytest.raises(ValueError, match="expired"):
        checking_main.verify_app_check(keys.token(ttl_s=-60))


def test_verify_app_check_refuses_a_key_the_jwks_does_not_serve_as_invalid_not_as_a_crash(
    checking_main: ModuleType, keys: _Keys
) -> None:
    with pytest.raises(ValueError, match="signing key"):
        checking_main.verify_app_check(keys.token(kid="forged"))


def test_verify_app_check_refuses_what_is_not_a_token(checking_main: ModuleType) -> None:
    with pytest.raises(ValueError):
        checking_main.verify_app_check("not-a-token")


def _deep_header_token() -> str:
    """A token whose header is JSON nested 3,000 deep: past the decoder's recursion limit."""
    header = base64.urlsafe_b64encode(b"[" * 3000 + b"]" * 3000).rstrip(b"=").decode()
    return f"{header}.e30."


def test_verify_token_refuses_a_header_nested_too_deep_as_invalid_not_as_a_crash(
    emulated_main: ModuleType,
) -> None:
    with pytest.raises(ValueError, match="nests too deep"):
        emulated_main.verify_token(_deep_header_token())


def test_verify_app_check_refuses_a_header_nested_too_deep_as_invalid_not_as_a_crash(
    checking_main: ModuleType,
) -> None:
    with pytest.raises(ValueError, match="recursion"):  # PyJWT turns it into a refusal itself
        checking_main.verify_app_check(_deep_header_token())
