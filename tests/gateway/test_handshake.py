"""The handshake as a client sees it: what a refused token is told (a fixed message; the
verifier's reason goes to the log only), App Check enforced at the upgrade (its token a
subprotocol, never echoed back), and the web config the page reads for App Check."""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any

import firebase_admin
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from firebase_admin import app_check, credentials
from google.auth.credentials import AnonymousCredentials
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Subprotocol

from gateway.handshake import APP_CHECK_PREFIX, BEARER_PREFIX, SUBPROTOCOL
from tests.gateway.harness import APP_CHECK_VALID, Running

APP_CHECK_ENV = {
    "APP_CHECK_ENFORCED": "true",
    "FIREBASE_APP_ID": "1:123:web:abc",
    "APP_CHECK_SITE_KEY": "site-key-for-tests",
}
SECRET_DETAIL = "signature mismatch for kid k-7f3e"


def offered(uid: str | None = None, app_check_token: str | None = None) -> list[Subprotocol]:
    """What the web client offers: the game's subprotocol, its ID token, its App Check token."""
    protocols = [SUBPROTOCOL]
    if uid:
        protocols.append(Subprotocol(BEARER_PREFIX + uid))
    if app_check_token:
        protocols.append(Subprotocol(APP_CHECK_PREFIX + app_check_token))
    return protocols


async def refusal(running: Running, protocols: list[Subprotocol]) -> tuple[int, str]:
    """The status and body a handshake is refused with."""
    with pytest.raises(InvalidStatus) as refused:
        async with connect(running.url, subprotocols=protocols):
            pass
    response = refused.value.response
    return response.status_code, response.body.decode()


def refusal_logs(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [getattr(r, "json_fields", {}) for r in caplog.records if r.getMessage() == "handshake refused"]


def raising(error: Exception) -> Callable[[str], Mapping[str, Any]]:
    def verify(token: str) -> Mapping[str, Any]:
        raise error

    return verify


# -- ID tokens ----------------------------------------------------------------------------------


async def test_refused_id_token_gets_a_fixed_message_and_the_reason_goes_to_the_log(
    gateway: Running, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="quiz.gateway")
    gateway.gateway.handshake = dataclasses.replace(
        gateway.gateway.handshake, verify_token=raising(ValueError(SECRET_DETAIL))
    )
    status, body = await refusal(gateway, offered("someone"))
    assert status == 401
    assert body.strip() == "Invalid ID token"
    assert SECRET_DETAIL not in body
    (logged,) = refusal_logs(caplog)
    assert logged == {"status": 401, "reason": "bad_token", "detail": SECRET_DETAIL}


# -- App Check ----------------------------------------------------------------------------------


async def test_enforced_app_check_refuses_a_handshake_without_its_token_with_401(
    gateway_with: Callable[..., Awaitable[Running]], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="quiz.gateway")
    running = await gateway_with(**APP_CHECK_ENV)
    assert await refusal(running, offered("someone")) == (401, "App Check token missing or invalid\n")
    assert refusal_logs(caplog)[0]["reason"] == "app_check"


async def test_enforced_app_check_refuses_an_invalid_token_and_logs_why(
    gateway_with: Callable[..., Awaitable[Running]], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="quiz.gateway")
    running = await gateway_with(**APP_CHECK_ENV)
    status, body = await refusal(running, offered("someone", "forged"))
    assert (status, body) == (401, "App Check token missing or invalid\n")
    (logged,) = refusal_logs(caplog)
    assert logged["reason"] == "app_check" and "not app-check-ok" in logged["detail"]
    assert running.gateway.rooms.connections_of("someone") == 0


async def test_enforced_app_check_admits_a_valid_token_and_never_echoes_it(
    gateway_with: Callable[..., Awaitable[Running]],
) -> None:
    running = await gateway_with(**APP_CHECK_ENV)
    async with connect(running.url, subprotocols=offered("someone", APP_CHECK_VALID)) as ws:
        assert ws.subprotocol == SUBPROTOCOL
        assert ws.response is not None
        assert ws.response.headers.get_all("Sec-WebSocket-Protocol") == [SUBPROTOCOL]
    # A non-browser client may send it as a header, as to the host API.
    headers = {"Authorization": "Bearer other", "X-Firebase-AppCheck": APP_CHECK_VALID}
    async with connect(running.url, additional_headers=headers) as ws:
        assert ws.response is not None and "Sec-WebSocket-Protocol" not in ws.response.headers


async def test_app_check_not_enforced_admits_a_handshake_without_its_token(gateway: Running) -> None:
    async with connect(gateway.url, subprotocols=offered("someone")) as ws:
        assert ws.subprotocol == SUBPROTOCOL


async def test_web_config_names_the_app_and_its_app_check_site_key(
    gateway_with: Callable[..., Awaitable[Running]],
) -> None:
    running = await gateway_with(**APP_CHECK_ENV)
    async with httpx.AsyncClient() as http:
        web_config = (await http.get(f"{running.http}/config.json")).json()
    assert web_config["firebase_app_id"] == "1:123:web:abc"
    assert web_config["app_check_site_key"] == "site-key-for-tests"
    assert {"api_url", "project_id", "firebase_api_key", "auth_emulator_url"} <= set(web_config)


async def test_web_config_leaves_app_check_off_by_default(gateway: Running) -> None:
    async with httpx.AsyncClient() as http:
        web_config = (await http.get(f"{gateway.http}/config.json")).json()
    assert (web_config["firebase_app_id"], web_config["app_check_site_key"]) == ("", "")


# -- App Check with firebase_admin's own verifier, its keys served from here ---------------------


class LocalKeys:
    """Stands in for App Check's JWKS endpoint (it cannot be reached offline): one RSA key."""

    def __init__(self) -> None:
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.known_kids = {"k1"}

    def get_signing_key_from_jwt(self, token: str) -> jwt.PyJWK:
        kid = jwt.get_unverified_header(token).get("kid")
        if kid not in self.known_kids:
            raise jwt.PyJWKClientError(f'Unable to find a signing key that matches: "{kid}"')
        return jwt.PyJWK.from_dict(
            {**jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True), "kid": kid}
        )


class NoCredential(credentials.Base):
    def get_credential(self) -> AnonymousCredentials:
        return AnonymousCredentials()  # type: ignore[no-untyped-call]


@pytest.fixture
def app_check_keys() -> Iterator[tuple[firebase_admin.App, LocalKeys]]:
    app = firebase_admin.initialize_app(
        NoCredential(), {"projectId": "gateway-tests"}, name=f"app-check-{uuid.uuid4().hex[:8]}"
    )
    keys = LocalKeys()
    app_check._get_app_check_service(app)._jwks_client = keys
    yield app, keys
    firebase_admin.delete_app(app)


def app_check_token(private: rsa.RSAPrivateKey, kid: str = "k1", expires_in_s: float = 3600) -> str:
    now = int(time.time())
    claims = {
        "iss": "https://firebaseappcheck.googleapis.com/123",
        "aud": ["projects/123", "projects/gateway-tests"],
        "sub": "1:123:web:abc",
        "iat": now,
        "exp": now + int(expires_in_s),
    }
    return jwt.encode(claims, private, algorithm="RS256", headers={"kid": kid, "typ": "JWT"})


async def test_firebase_admin_verifier_admits_a_signed_token_and_refuses_the_rest_with_401(
    gateway_with: Callable[..., Awaitable[Running]],
    app_check_keys: tuple[firebase_admin.App, LocalKeys],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="quiz.gateway")
    app, keys = app_check_keys
    running = await gateway_with(**APP_CHECK_ENV)
    running.gateway.handshake = dataclasses.replace(
        running.gateway.handshake, verify_app_check=lambda token: app_check.verify_token(token, app)
    )
    async with connect(running.url, subprotocols=offered("someone", app_check_token(keys.private))) as ws:
        assert ws.subprotocol == SUBPROTOCOL
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    refused = {
        "forged": app_check_token(other_key),
        "expired": app_check_token(keys.private, expires_in_s=-60),
        "unknown key": app_check_token(keys.private, kid="k9"),  # the library's key lookup fails
        "not a JWT": "garbage",
    }
    for name, token in refused.items():
        assert await refusal(running, offered("someone", token)) == (
            401,
            "App Check token missing or invalid\n",
        ), name
    details = [logged["detail"] for logged in refusal_logs(caplog)]
    assert len(details) == len(refused) and all(details), details
    assert any("signature" in d for d in details) and any("expired" in d for d in details)
