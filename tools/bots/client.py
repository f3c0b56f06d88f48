"""The game's one WebSocket client, for the bots, the benchmarks and the tests: the
handshake a browser makes (subprotocol `quiz.v1`, the ID token beside it as
`bearer.<token>`, an Origin), client frames encoded by vocabquiz.protocol, server frames
decoded with a PRESENCE_UPDATED expanded into the USER_JOINED / USER_LEFT it stands for.

Cheapest layer first; each caller pays only for what it reads:
- `upgrade_request`, `masked_frame`: the handshake and client frames as bytes, for the
  gateway bench's own asyncio transports (thousands of sockets, frames counted, never
  decoded: tools/bench/gateway/clients.py);
- `GameSocket`: one websockets connection; sends frames, yields what arrives as the text
  it came as (the swarm decodes only what it measures);
- `Player`: every frame kept, decoded when looked at, waited for by type.
`open_raw` / `open_raw_sync` give tests that send malformed bytes the same handshake on a
bare websockets connection. `Host` and `sign_up_anonymously` are a bot's HTTP half.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.sync.client import ClientConnection as SyncConnection
from websockets.sync.client import connect as connect_sync
from websockets.typing import Origin, Subprotocol

from vocabquiz.protocol import ServerType, decode_server_frame, encode_frame
from vocabquiz.protocol.boards import board_version
from vocabquiz.protocol.frames import BEARER_PREFIX, SUBPROTOCOL, expand_presence

# Every encoded server frame starts with its type (vocabquiz/protocol/boards.py, contract 1).
PRESENCE_PREFIX = f'{{"type":"{ServerType.PRESENCE_UPDATED.value}"'
BOARD_PREFIX = f'{{"type":"{ServerType.LEADERBOARD_UPDATED.value}"'
BUSY_RETRIES = 5
# Loopback stacks and trusted servers: no proxy, no compression (~45 KiB a socket), no cap
# on what the server sends.
SOCKET_DEFAULTS: dict[str, Any] = {"compression": None, "proxy": None, "max_size": None, "open_timeout": 10}


# -- frames ---------------------------------------------------------------------------------


def client_frame(frame_type: str, payload: dict[str, Any], message_id: str) -> str:
    """An encoded client frame. Not validated: tests send frames the gateway must refuse."""
    return encode_frame({"type": str(frame_type), "payload": payload, "message_id": message_id})


def server_texts(text: str) -> list[str]:
    """The frames one message stands for, still encoded: a PRESENCE_UPDATED (a crowd's
    arrivals, paced by the gateway) as each USER_JOINED / USER_LEFT it lists."""
    if not text.startswith(PRESENCE_PREFIX):
        return [text]
    return [encode_frame(f) for f in expand_presence(decode_server_frame(text))]


def board_version_of(text: str) -> int | None:
    """A LEADERBOARD_UPDATED's version, read from its bytes as the gateway reads it (-1 if
    it has none); None for any other frame. The board itself is never decoded, and only a
    board is encoded back to bytes (the swarm's sockets read ~10 a second each)."""
    return board_version(text.encode()) if text.startswith(BOARD_PREFIX) else None


def server_frames(text: str) -> list[dict[str, Any]]:
    """The frames one message stands for, decoded (a PRESENCE_UPDATED expanded)."""
    frame = decode_server_frame(text)
    return expand_presence(frame) if frame["type"] == ServerType.PRESENCE_UPDATED else [frame]


# -- the handshake --------------------------------------------------------------------------


def subprotocols(token: str | None) -> list[Subprotocol]:
    """What a browser offers: the game's subprotocol, then its ID token, if it has one."""
    offered = [Subprotocol(SUBPROTOCOL)]
    if token:
        offered.append(Subprotocol(BEARER_PREFIX + token))
    return offered


def upgrade_request(
    host: str, port: int, path: str = "/ws", token: str | None = None, origin: str | None = None
) -> bytes:
    """The HTTP upgrade for a transport that does its own handshake; with a token, the
    game's (see `subprotocols`), without one a plain WebSocket's."""
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Upgrade: websocket", "Connection: Upgrade"]
    lines += [f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
    if token:
        lines.append(f"Sec-WebSocket-Protocol: {', '.join(subprotocols(token))}")
    if origin:
        lines.append(f"Origin: {origin}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def masked_frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """One unfragmented client frame with the all-zero mask key, which RFC 6455 permits on
    the wire (a server cannot tell) and which spares masking the payload."""
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, 0x80 | n))
    elif n < 1 << 16:
        head = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    return head + b"\0\0\0\0" + payload


def open_raw(url: str, token: str | None = None, origin: str | None = None, **options: Any) -> connect:
    """A bare websockets connection with the game's handshake (await it, or `async with`);
    `options` go to websockets' `connect` (e.g. `additional_headers`, `sock`)."""
    return connect(
        url,
        subprotocols=subprotocols(token),
        origin=Origin(origin) if origin else None,
        **(SOCKET_DEFAULTS | options),
    )


def open_raw_sync(
    url: str, token: str | None = None, origin: str | None = None, **options: Any
) -> SyncConnection:
    """`open_raw` for synchronous tests (the fuzz suite's): a connection, the caller closes it."""
    connection: SyncConnection = connect_sync(
        url,
        subprotocols=subprotocols(token),
        origin=Origin(origin) if origin else None,
        legacy=True,
        **(SOCKET_DEFAULTS | options),
    )
    return connection


# -- one socket -----------------------------------------------------------------------------


class GameSocket:
    """One connection to the gateway. What arrives is yielded as text, undecoded: no cost
    per frame beyond websockets' own, for the swarm's thousands of sockets."""

    __slots__ = ("ws",)

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    @classmethod
    async def open(cls, url: str, token: str, origin: str | None = None, **options: Any) -> GameSocket:
        return cls(await open_raw(url, token, origin, **options))

    async def send_frame(
        self, frame_type: str, payload: dict[str, Any], message_id: str | None = None
    ) -> str:
        """Send a client frame; its message id (a new one unless given)."""
        message_id = message_id or uuid.uuid4().hex
        await self.ws.send(client_frame(frame_type, payload, message_id))
        return message_id

    async def send(self, text: str) -> None:
        """Send text as it is: an encoded frame, or what a test wants the gateway to refuse."""
        await self.ws.send(text)

    async def texts(self) -> AsyncIterator[str]:
        """Each message as it came, until the server closes (cleanly: a close with an error
        code raises websockets' ConnectionClosedError)."""
        async for message in self.ws:
            yield message if isinstance(message, str) else message.decode()

    async def wait_for(self, frame_type: str, timeout_s: float = 10) -> dict[str, Any]:
        """The next frame of this type; the frames before it are dropped (a socket read by
        one caller; `Player` keeps every frame)."""
        async with asyncio.timeout(timeout_s):
            async for message in self.ws:
                text = message if isinstance(message, str) else message.decode()
                for frame in server_frames(text):
                    if frame["type"] == frame_type:
                        return frame
        raise ConnectionError(f"closed ({self.ws.close_code}) before a {frame_type}")

    @property
    def close_code(self) -> int | None:
        return self.ws.close_code

    async def wait_closed(self) -> None:
        await self.ws.wait_closed()

    async def close(self) -> None:
        await self.ws.close()


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
    _socket: GameSocket | None = None
    _reader: asyncio.Task[None] | None = None
    _new_frame: asyncio.Event = field(default_factory=asyncio.Event)

    async def connect(self) -> None:
        self._socket = await GameSocket.open(self.ws_url, self.token, self.origin)
        self._reader = asyncio.create_task(self._read(self._socket))

    async def _read(self, socket: GameSocket) -> None:
        async for text in socket.texts():
            for frame in server_texts(text):
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
        return await self._socket.send_frame(frame_type, payload, message_id)

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


# -- the HTTP half --------------------------------------------------------------------------


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
