"""The baseline's transport: a swarm bot's frames over Socket.IO, to the in-memory
python-socketio server of tools/bench/e2e/baseline.py.

Not the game's client (bots.client): Engine.IO is another protocol against another server
(its own open packet, namespace connect with the token in the packet, its own pings),
with the quiz's frames only the payload of a "frame" event. What it shares with the game
is the frames themselves, encoded by bots.client.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from bots.client import client_frame

_SIO_FRAME = '42["frame",'


class SocketIOSocket:
    """The few Engine.IO/Socket.IO packets a bot needs: open, namespace connect with the
    token, ping -> pong, and events named "frame" carrying one quiz frame each."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    @classmethod
    async def open(cls, url: str, token: str) -> SocketIOSocket:
        ws = await connect(url, compression=None, max_size=None, ping_interval=None)
        opening = await ws.recv()
        if not str(opening).startswith("0"):
            raise ConnectionError(f"not an Engine.IO open packet: {str(opening)[:60]}")
        await ws.send("40" + json.dumps({"token": token}))
        while not str(reply := await ws.recv()).startswith("40"):
            if str(reply).startswith("44"):
                raise ConnectionError(f"Socket.IO connect refused: {reply!s:.80}")
        return cls(ws)

    async def send_frame(self, frame_type: str, payload: dict[str, Any], message_id: str) -> str:
        await self.ws.send(f"{_SIO_FRAME}{client_frame(frame_type, payload, message_id)}]")
        return message_id

    async def texts(self) -> AsyncIterator[str]:
        async for message in self.ws:
            text = message if isinstance(message, str) else message.decode()
            if text.startswith(_SIO_FRAME):
                yield text[len(_SIO_FRAME) : -1]
            elif text == "2":
                await self.ws.send("3")

    async def close(self) -> None:
        await self.ws.close()
