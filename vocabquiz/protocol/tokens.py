"""Checks on verified ID-token claims that firebase-admin skips against the Auth emulator
(it checks no signature and no expiry there), so local runs refuse what the cloud refuses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class TokenExpired(ValueError):
    pass


def require_unexpired(claims: Mapping[str, Any], now_s: float) -> None:
    expires_at = claims.get("exp")
    if not isinstance(expires_at, int | float) or expires_at <= now_s:
        raise TokenExpired("The ID token has expired")
