"""The web client's static files and its runtime config, served by the gateway so the
page and its WebSocket share one origin (no cross-origin socket to allow)."""

from __future__ import annotations

import json
import mimetypes
from http import HTTPStatus
from pathlib import Path

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

    def response(self, path: str) -> Response | None:
        path = path.split("?", 1)[0]
        if path.endswith("/"):
            path += "index.html"
        found = self.files.get(path)
        if found is None:
            return None
        body, kind = found
        headers = Headers({**_SECURITY_HEADERS, "Content-Type": kind, "Content-Length": str(len(body))})
        return Response(HTTPStatus.OK, "OK", headers, body)
