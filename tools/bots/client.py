"""A player or host talking to the stack as a browser would: an ID token from the Auth
emulator, the host API over HTTP, frames over the gateway's WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Origin

from vocabquiz.protocol import decode_server_frame, encode_frame
from vocabquiz.protocol.frames import expand_presence

BUSY_RETRIES = 5
PRESENCE_PREFIX = '{"type":"PRESENCE_UPDATED"'


async def sign_up_anonymously(auth_url: str) -> tuple[str, str]:
    """(uid, ID token) of a new anonymous user, from the Auth emulator's REST API."""
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(
            f"{auth_url}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=local",
            json={"returnSecureToken": True},
        )
        response.raise_for_status()
        body = response.json()
        return body["localId"], body["idToken"]


@dataclass
class Host:
    api_url: str
    token: str

    async def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        """One request; a 503 (the API was contended, nothing changed) is sent again after
        its Retry-After, a few times, as a patient host would."""
        async with httpx.AsyncClient(timeout=10) as http:
            for _ in range(BUSY_RETRIES):
                response = await http.request(
                    method,
                    f"{self.api_url}{path}",
                    json=body,
                    headers={"Authorization": f"Bearer {self.token}"},
                )
                if response.status_code != 503:
                    break
                await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
            return response

    async def create_session(self, quiz_id: str, **options: Any) -> dict[str, Any]:
        response = await self.call("POST", "/api/v1/sessions", {"quiz_id": quiz_id, **options})
        response.raise_for_status()
        return dict(response.json())

    async def action(self, session_id: str, verb: str) -> dict[str, Any]:
        response = await self.call("POST", f"/api/v1/sessions/{session_id}/{verb}")
        response.raise_for_status()
        return dict(response.json())


@dataclass
class Player:
    """Frames are kept as received and decoded only when looked at: a swarm of bots in
    one process must not spend its time parsing leaderboards nobody reads."""

    ws_url: str
    token: str
    uid: str
    origin: str | None = None
    raw: list[str] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)
    _decoded: dict[int, dict[str, Any]] = field(default_factory=dict)
    _taken: set[int] = field(default_factory=set)
    _socket: ClientConnection | None = None
    _reader: asyncio.Task[None] | None = None
    _new_frame: asyncio.Event = field(default_factory=asyncio.Event)

    async def connect(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        origin = Origin(self.origin) if self.origin else None
        self._socket = await connect(self.ws_url, additional_headers=headers, origin=origin, compression=None)
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self._socket is not None
        async for message in self._socket:
            text = message if isinstance(message, str) else message.decode()
            # A crowd's arrivals come as one PRESENCE_UPDATED: kept as the frames it stands for.
            frames = (
                [encode_frame(f) for f in expand_presence(json.loads(text))]
                if text.startswith(PRESENCE_PREFIX)
                else [text]
            )
            for frame in frames:
                self.raw.append(frame)
                self.arrivals.append(time.monotonic())
            self._new_frame.set()

    def frame(self, index: int) -> dict[str, Any]:
        if index not in self._decoded:
            self._decoded[index] = decode_server_frame(self.raw[index])
        return self._decoded[index]

    @property
    def frames(self) -> list[dict[str, Any]]:
        return [self.frame(i) for i in range(len(self.raw))]

    def arrival_of(self, frame: dict[str, Any]) -> float:
        return self.arrivals[next(i for i, f in self._decoded.items() if f is frame)]

    async def send(self, frame_type: str, payload: dict[str, Any], message_id: str | None = None) -> str:
        assert self._socket is not None
        message_id = message_id or uuid.uuid4().hex
        await self._socket.send(
            json.dumps({"type": frame_type, "payload": payload, "message_id": message_id})
        )
        return message_id

    async def expect(self, frame_type: str, timeout_s: float = 10, **payload_match: Any) -> dict[str, Any]:
        """The first frame of this type (whose payload has these values) not yet taken."""
        deadline = time.monotonic() + timeout_s
        prefix = f'{{"type":"{frame_type}"'
        while True:
            for index, raw in enumerate(self.raw):
                if index in self._taken or not raw.startswith(prefix):
                    continue
                frame = self.frame(index)
                if all(frame["payload"].get(k) == v for k, v in payload_match.items()):
                    self._taken.add(index)
                    return frame
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                kinds = [f["type"] for f in self.frames]
                raise TimeoutError(f"No {frame_type} {payload_match} within {timeout_s} s; got {kinds}")
            self._new_frame.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_frame.wait(), remaining)

    def of_type(self, frame_type: str) -> list[dict[str, Any]]:
        return [f for f in self.frames if f["type"] == frame_type]

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)
