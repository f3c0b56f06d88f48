"""The web client's static files and its runtime config, served by the gateway so the
page and its WebSocket share one origin (no cross-origin socket to allow)."""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Mapping
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit

from websockets.datastructures import Headers
from websockets.http11 import Response

WEB_ROOT = Path(__file__).resolve().parent.parent / "web"
_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    # The origin, never a path, on cross-origin requests: the browser API key accepts sign-in
    # calls only from the web origin (terraform/modules/identity), so the Referer must carry it.
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cache-Control": "no-cache",
}
# Where the Firebase JS SDK's Auth calls go without the emulator (sign-up, token refresh).
FIREBASE_AUTH_ORIGINS = ("https://identitytoolkit.googleapis.com", "https://securetoken.googleapis.com")
# App Check's token exchange, and reCAPTCHA Enterprise's script and frames as Google's
# reCAPTCHA FAQ lists them for a CSP without nonces.
APP_CHECK_ORIGINS = ("https://content-firebaseappcheck.googleapis.com",)
RECAPTCHA_SCRIPTS = ("https://www.google.com/recaptcha/", "https://www.gstatic.com/recaptcha/")
RECAPTCHA_FRAMES = ("https://www.google.com/recaptcha/", "https://recaptcha.google.com/recaptcha/")


def content_security_policy(web_config: Mapping[str, object]) -> str:
    """The pages' CSP, from the config they are served with: their own scripts and styles
    only; calls to this origin (pages, /ws), the host API and Firebase Auth (the emulator
    when set, Google's endpoints otherwise); reCAPTCHA only when App Check is on."""
    connect = ["'self'", *_origins(web_config.get("api_url"))]
    emulator = _origins(web_config.get("auth_emulator_url"))
    connect += emulator or FIREBASE_AUTH_ORIGINS
    scripts, frames = ["'self'"], ["'none'"]
    if web_config.get("app_check_site_key"):
        connect += APP_CHECK_ORIGINS
        scripts += RECAPTCHA_SCRIPTS
        frames = list(RECAPTCHA_FRAMES)
    directives = {
        "default-src": ["'self'"],
        "script-src": scripts,
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],  # the favicon is data:
        "connect-src": list(dict.fromkeys(connect)),
        "frame-src": frames,
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def _origins(url: object) -> list[str]:
    """[scheme://host[:port]] of an absolute URL; [] for none or a relative one (same origin)."""
    parts = urlsplit(str(url or ""))
    return [f"{parts.scheme}://{parts.netloc}"] if parts.scheme and parts.netloc else []


class StaticFiles:
    """Files under web/, read once at start (a few small files; no disk I/O per request)."""

    def __init__(self, root: Path, web_config: dict[str, object]) -> None:
        self.files: dict[str, tuple[bytes, str]] = {}
        if root.is_dir():
            for path in root.rglob("*"):
                if path.is_file():
                    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                    self.files["/" + path.relative_to(root).as_posix()] = (path.read_bytes(), kind)
        self.files["/config.json"] = (json.dumps(web_config).encode(), "application/json")
        self.headers = {**_SECURITY_HEADERS, "Content-Security-Policy": content_security_policy(web_config)}

    def response(self, path: str) -> Response | None:
        path = path.split("?", 1)[0]
        if path.endswith("/"):
            path += "index.html"
        found = self.files.get(path)
        if found is None:
            return None
        body, kind = found
        headers = Headers({**self.headers, "Content-Type": kind, "Content-Length": str(len(body))})
        return Response(HTTPStatus.OK, "OK", headers, body)
