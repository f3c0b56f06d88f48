"""The HTTP request a task attempt turns into (pure: no sockets here).

Header rules follow the v2 HttpRequest reference and the "Create HTTP Target
tasks" page: the task's own headers, with User-Agent "Google-Cloud-Tasks",
no Content-Type added, and the service headers X-CloudTasks-QueueName,
-TaskName (short ids), -TaskRetryCount, -TaskExecutionCount, -TaskETA (epoch
seconds with microseconds); on a retry that follows an HTTP response also
-TaskPreviousResponse (that status) and -TaskRetryReason, which production
sends empty for HTTP targets.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass

from tasks_emulator.policy import US
from tasks_emulator.records import Started

USER_AGENT = "Google-Cloud-Tasks"
OIDC_ISSUER = "https://accounts.google.com"
TOKEN_LIFETIME_S = 3600


@dataclass(frozen=True)
class OutboundRequest:
    method: str
    url: str
    headers: list[tuple[str, str]]
    body: bytes
    timeout_s: float


def format_eta(us: int) -> str:
    return f"{us // US}.{us % US:06d}"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64json(obj: object) -> str:
    return _b64url(json.dumps(obj, separators=(",", ":")).encode())


def _fake_subject(email: str) -> str:
    # Google puts the service account's 21-digit unique id in sub/azp; derive
    # a stable stand-in from the email.
    digest = int.from_bytes(hashlib.sha256(email.encode()).digest()[:9], "big")
    return "1" + str(digest).zfill(20)[:20]


def unsigned_oidc_token(email: str, audience: str, now_s: int) -> str:
    """An OIDC ID token shaped like Google's, but UNSIGNED (alg "none").

    Locally there is no Google key to sign with, so handlers must skip
    signature verification when running against the emulator; the claims
    (iss, aud, email, email_verified, sub, iat, exp) match what Cloud Tasks
    puts in a real token.
    """
    header = {"alg": "none", "typ": "JWT"}
    claims = {
        "iss": OIDC_ISSUER,
        "aud": audience,
        "azp": _fake_subject(email),
        "sub": _fake_subject(email),
        "email": email,
        "email_verified": True,
        "iat": now_s,
        "exp": now_s + TOKEN_LIFETIME_S,
    }
    return f"{_b64json(header)}.{_b64json(claims)}."  # empty signature part


def build_request(started: Started) -> OutboundRequest:
    http = started.http
    service_headers = [
        ("User-Agent", USER_AGENT),
        ("X-CloudTasks-QueueName", started.name.queue.queue_id),
        ("X-CloudTasks-TaskName", started.name.task_id),
        ("X-CloudTasks-TaskRetryCount", str(started.retry_count)),
        ("X-CloudTasks-TaskExecutionCount", str(started.execution_count)),
        ("X-CloudTasks-TaskETA", format_eta(started.eta_us)),
    ]
    if started.previous_response is not None:
        service_headers.append(("X-CloudTasks-TaskPreviousResponse", str(started.previous_response)))
        service_headers.append(("X-CloudTasks-TaskRetryReason", ""))
    now_s = started.dispatch_us // US
    if http.oidc is not None:
        audience = http.oidc.audience or http.url
        token = unsigned_oidc_token(http.oidc.service_account_email, audience, now_s)
        service_headers.append(("Authorization", f"Bearer {token}"))
    elif http.oauth is not None:
        # An OAuth access token is opaque; there is nothing to imitate locally.
        token = f"emulator-unsigned-oauth-token.{http.oauth.service_account_email}"
        service_headers.append(("Authorization", f"Bearer {token}"))
    taken = {k.lower() for k, _ in service_headers}
    headers = [(k, v) for k, v in http.headers if k.lower() not in taken]
    return OutboundRequest(
        method=http.method,
        url=http.url,
        headers=headers + service_headers,
        body=http.body,
        timeout_s=started.dispatch_deadline_us / US,
    )
