"""The baselines, each in its own process, driven over stdin like the clients:

- `bare`: a bare `websockets` server (no auth, compression off, the gateway's ping and
  frame-size settings) that fans out with `websockets.broadcast`;
- `socketio`: python-socketio's AsyncServer on aiohttp, `emit` to a room.

Sockets name their rooms in the query string (`?rooms=s1000,s5000,c7`); a `stream` request
sends one message to a room `count` times, yielding to the loop between messages as the
gateway does between Pub/Sub events; a `paced` request (the bare server's (c)) sends one
message to every session room `hz` times a second, each room its own broadcast, as the
gateway sends a session's board.

`python -m bench.gateway.servers bare|socketio asyncio|uvloop PORT`
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import defaultdict
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bench.gateway.common import SESSION_ROOM_PREFIX, die_with_parent, raise_nofile, serve_control
from vocabquiz.protocol import MAX_FRAME_BYTES

HOST = "127.0.0.1"
BACKLOG = 1024


def _rooms(query: str) -> list[str]:
    return [r for r in parse_qs(query).get("rooms", [""])[0].split(",") if r]


async def run_bare(port: int) -> None:
    from websockets.asyncio.server import ServerConnection, broadcast, serve

    rooms: defaultdict[str, set[ServerConnection]] = defaultdict(set)

    async def handler(ws: ServerConnection) -> None:
        names = _rooms(urlsplit(ws.request.path).query) if ws.request else []
        for name in names:
            rooms[name].add(ws)
        try:
            async for _ in ws:
                pass
        finally:
            for name in names:
                rooms[name].discard(ws)

    async def stream(room: str, count: int, message: str) -> dict[str, Any]:
        members = rooms.get(room, set())
        started = time.monotonic()
        for _ in range(count):
            broadcast(members, message)
            await asyncio.sleep(0)
        return {"recipients": len(members), "started": started, "ended": time.monotonic()}

    async def paced(hz: float, seconds: float, message: str) -> dict[str, Any]:
        data, loop = message.encode(), asyncio.get_running_loop()
        sessions = [room for room in rooms if room.startswith(SESSION_ROOM_PREFIX)]
        start, ticks = loop.time(), 0
        while loop.time() - start < seconds:
            for room in sessions:
                broadcast(rooms[room], data, text=True)
            ticks += 1
            await asyncio.sleep(max(0.0, start + ticks / hz - loop.time()))
        return {"ticks": ticks, "sessions": len(sessions)}

    async def members(room: str) -> dict[str, Any]:
        return {"recipients": len(rooms.get(room, ()))}

    async with serve(
        handler,
        HOST,
        port,
        compression=None,
        max_size=MAX_FRAME_BYTES,
        ping_interval=20,
        ping_timeout=20,
        backlog=BACKLOG,
    ):
        await serve_control({"stream": stream, "paced": paced, "members": members})


async def run_socketio(port: int) -> None:
    import socketio
    from aiohttp import web

    sio = socketio.AsyncServer(
        async_mode="aiohttp",
        transports=["websocket"],
        ping_interval=20,
        ping_timeout=20,
        logger=False,
        engineio_logger=False,
    )
    app = web.Application()
    sio.attach(app)
    joined: defaultdict[str, int] = defaultdict(int)

    @sio.event  # type: ignore[untyped-decorator,unused-ignore]
    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        for name in _rooms(environ.get("QUERY_STRING", "")):
            await sio.enter_room(sid, name)
            joined[name] += 1

    @sio.event  # type: ignore[untyped-decorator,unused-ignore]
    async def disconnect(sid: str, reason: Any = None) -> None:
        for name in sio.rooms(sid):
            if name in joined:
                joined[name] -= 1

    async def stream(room: str, count: int, message: str) -> dict[str, Any]:
        payload = json.loads(message)  # emitted as an object, as a socketio app would
        started = time.monotonic()
        for _ in range(count):
            await sio.emit("quiz", payload, room=room)
            await asyncio.sleep(0)
        # Queued to each socket's writer task by now, not necessarily written.
        return {"recipients": joined.get(room, 0), "started": started, "ended": time.monotonic()}

    async def members(room: str) -> dict[str, Any]:
        return {"recipients": joined.get(room, 0)}

    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, HOST, port, backlog=BACKLOG)
    await site.start()
    try:
        await serve_control({"stream": stream, "members": members})
    finally:
        await runner.cleanup()


def main() -> None:
    kind, loop_kind, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    raise_nofile()
    die_with_parent()
    coro = run_bare(port) if kind == "bare" else run_socketio(port)
    if loop_kind == "uvloop":
        import uvloop

        uvloop.run(coro)
    else:
        asyncio.run(coro)


if __name__ == "__main__":
    main()
