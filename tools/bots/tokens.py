"""Firebase ID tokens as the Auth emulator issues them: unsigned (alg none). The Auth
and Firestore emulators, and firebase-admin pointed at the Auth emulator, accept them;
production never does. Tests and benchmarks mint them without a round trip."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from devstack.stack import PROJECT_ID


def unsigned_id_token(uid: str, expires_in_s: int = 3600, project_id: str = PROJECT_ID) -> str:
    """A token for `uid`; a negative `expires_in_s` gives one that has already expired."""
    now = int(time.time())
    issued = min(now, now + expires_in_s - 60)
    claims = {
        "iss": f"https://securetoken.google.com/{project_id}",
        "aud": project_id,
        "sub": uid,
        "user_id": uid,
        "iat": issued,
        "auth_time": issued,
        "exp": now + expires_in_s,
        "firebase": {"sign_in_provider": "anonymous", "identities": {}},
    }
    return f"{_part({'alg': 'none', 'typ': 'JWT'})}.{_part(claims)}."


def _part(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
