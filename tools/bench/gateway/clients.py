"""A load-generating client process: many WebSockets on one uvloop loop, each a bare
asyncio.Protocol that does the HTTP upgrade itself and then only walks frame headers.

Frames are counted, never JSON-decoded: a frame is a hit when its payload starts with the
marker of the current measurement (e.g. `{"type":"QUESTION_STARTED"`), so the clients cost
far less per frame than any server they measure. Pings are answered (WebSocket pings, and
Engine.IO's "2" in socketio mode). The handshake and the client frames come from the game's
client (bots.client: the browser's subprotocol and bearer token, frames encoded by the
protocol, the all-zero mask key); the walk over server frame headers stays here, inline,
because it counts in place: a call per frame would cost more than the counting.

Run by the orchestrator as `python -m bench.gateway.clients MODE HOST PORT INDEX COUNT SIZES`:
this process owns global socket indices g = INDEX, INDEX + COUNT, INDEX + 2*COUNT, ...;
SIZES (e.g. 1000,5000) name the fan-out rooms a baseline socket asks for in its URL.
"""

from __future__ import annotations

import asyncio
import functools
import sys
import time
from typing import Any, cast

import uvloop

from bench.gateway.common import (
    bench_uid,
    die_with_parent,
    fanout_rooms_of,
    raise_nofile,
    serve_control,
    session_c_of,
)
from bots.client import client_frame, masked_frame, upgrade_request
from bots.tokens import unsigned_id_token

GATEWAY, BARE, SOCKETIO = "gateway", "ws", "sio"
CONNECT_ATTEMPTS = 3
CONNECT_TIMEOUT_S = 30.0


class Counters:
    """What this process saw of the current marker (reset between measurements)."""

    def __init__(self) -> None:
        self.marker = b"\0"
        self.reset(self.marker)

    def reset(self, marker: bytes) -> None:
        self.marker = marker
        self.hits = 0
        self.first = 0.0
        self.last = 0.0
        self.types: dict[str, int] = {}
        self.lost = 0


class BenchSocket(asyncio.Protocol):
    __slots__ = ("buf", "closed", "counters", "g", "head", "hits", "mode", "ready", "request", "transport")

    def __init__(self, g: int, request: bytes, mode: str, counters: Counters) -> None:
        self.g = g
        self.request = request
        self.mode = mode
        self.counters = counters
        self.head: bytes | None = b""  # None once the upgrade is done
        self.buf = b""
        self.hits = 0
        self.closed = False
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass of it
        self.transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed:
            self.counters.lost += 1
        self.closed = True
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"socket {self.g} lost during the handshake"))

    def send(self, payload: bytes, opcode: int = 0x1) -> None:
        if self.transport is not None and not self.closed:
            self.transport.write(masked_frame(payload, opcode))

    def close(self) -> None:
        if self.transport is not None and not self.closed:
            self.closed = True
            self.transport.write(masked_frame(b"\x03\xe8", 0x8))
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        if self.head is not None:
            head = self.head + data
            end = head.find(b"\r\n\r\n")
            if end < 0:
                self.head = head
                return
            if not head.startswith(b"HTTP/1.1 101"):
                status = head[: head.find(b"\r\n")].decode(errors="replace")
                self.ready.set_exception(ConnectionError(f"socket {self.g}: {status}"))
                self.closed = True
                if self.transport is not None:
                    self.transport.close()
                return
            self.head = None
            if self.mode != SOCKETIO:  # socketio is ready at its "40" connect packet
                self.ready.set_result(None)
            data = head[end + 4 :]
            if not data:
                return
        buf = self.buf + data if self.buf else data
        n = len(buf)
        i = 0
        hits = 0
        marker = self.counters.marker
        while n - i >= 2:
            length = buf[i + 1]  # server frames are never masked
            if length < 126:
                start = i + 2
            elif length == 126:
                if n - i < 4:
                    break
                start = i + 4
                length = (buf[i + 2] << 8) | buf[i + 3]
            else:
                if n - i < 10:
                    break
                start = i + 10
                length = int.from_bytes(buf[i + 2 : i + 10], "big")
            end = start + length
            if end > n:
                break
            if buf[i] & 0x0F == 0x1 and buf.startswith(marker, start):  # a text frame, marked
                hits += 1
            else:
                self._other(buf[i] & 0x0F, buf[start:end])
            i = end
        self.buf = buf[i:] if i < n else b""
        if hits:
            self.hits += hits
            counters = self.counters
            now = time.monotonic()
            if not counters.hits:
                counters.first = now
            counters.hits += hits
            counters.last = now

    def _other(self, opcode: int, payload: bytes) -> None:
        if opcode == 0x9:  # ping
            self.send(payload, 0xA)
        elif opcode == 0x8:  # close: answer it and let the server end the TCP connection
            self.send(payload[:2], 0x8)
            self.closed = True
        elif opcode == 0x1:
            if self.mode == SOCKETIO:
                if payload == b"2":  # Engine.IO ping
                    self.send(b"3")
                    return
                if payload.startswith(b"0{"):  # Engine.IO open: connect to the default namespace
                    self.send(b"40")
                    return
                if payload.startswith(b"40") and not self.ready.done():
                    self.ready.set_result(None)
                kind = payload[:2].decode()
            else:
                end = payload.find(b'"', 9, 48)
                kind = payload[9:end].decode() if payload.startswith(b'{"type":"') and end > 9 else "?"
            types = self.counters.types
            types[kind] = types.get(kind, 0) + 1


def _same(sock: BenchSocket) -> BenchSocket:
    return sock


class ClientProcess:
    def __init__(self, mode: str, host: str, port: int, index: int, count: int, sizes: list[int]) -> None:
        self.mode, self.host, self.port, self.sizes = mode, host, port, sizes
        self.index, self.count = index, count
        self.counters = Counters()
        self.sockets: dict[int, BenchSocket] = {}

    def _request(self, g: int) -> bytes:
        if self.mode == GATEWAY:
            return upgrade_request(self.host, self.port, "/ws", unsigned_id_token(bench_uid(g)))
        rooms = ",".join([*fanout_rooms_of(g, self.sizes), session_c_of(g)])
        if self.mode == BARE:
            return upgrade_request(self.host, self.port, f"/ws?rooms={rooms}")
        return upgrade_request(self.host, self.port, f"/socket.io/?EIO=4&transport=websocket&rooms={rooms}")

    async def _open(self, g: int, gate: asyncio.Semaphore) -> bool:
        loop = asyncio.get_running_loop()
        async with gate:
            for attempt in range(CONNECT_ATTEMPTS):
                sock = BenchSocket(g, self._request(g), self.mode, self.counters)
                try:
                    await asyncio.wait_for(
                        loop.create_connection(functools.partial(_same, sock), self.host, self.port),
                        CONNECT_TIMEOUT_S,
                    )
                    await asyncio.wait_for(sock.ready, CONNECT_TIMEOUT_S)
                except (OSError, TimeoutError, ConnectionError) as exc:
                    sock.closed = True
                    if sock.transport is not None:
                        sock.transport.abort()
                    if attempt == CONNECT_ATTEMPTS - 1:
                        print(f"client {self.index}: socket {g} failed: {exc}", file=sys.stderr)
                        return False
                    await asyncio.sleep(0.5 * (attempt + 1))
                    continue
                self.sockets[g] = sock
                return True
        return False

    async def connect(self, total: int, concurrency: int) -> dict[str, Any]:
        started = time.monotonic()
        gate = asyncio.Semaphore(concurrency)
        wanted = [g for g in range(self.index, total, self.count) if g not in self.sockets]
        results = await asyncio.gather(*(self._open(g, gate) for g in wanted))
        return {
            "connected": sum(results),
            "failed": len(results) - sum(results),
            "seconds": time.monotonic() - started,
        }

    async def close(self, keep: int, settle_s: float = 0.0) -> dict[str, Any]:
        """Close every socket with g >= keep."""
        for g in [g for g in self.sockets if g >= keep]:
            self.sockets.pop(g).close()
        await asyncio.sleep(settle_s)
        return {"open": self.open_count()}

    def open_count(self) -> int:
        return sum(not s.closed for s in self.sockets.values())

    async def reset(self, marker: str) -> dict[str, Any]:
        self.counters.reset(marker.encode())
        for sock in self.sockets.values():
            sock.hits = 0
        return {"open": self.open_count()}

    async def join(self, below: int, session_id: str, wait_s: float) -> dict[str, Any]:
        """Gateway mode: each socket with g < below sends JOIN_SESSION (the gateway then
        publishes it to quiz-commands with its connection id); wait for the ACKs."""
        joining = [s for g, s in self.sockets.items() if g < below and not s.closed]
        for sock in joining:
            payload = {"session_id": session_id, "username": f"bench {sock.g}"}
            sock.send(client_frame("JOIN_SESSION", payload, f"join-{sock.g}").encode())
        return await self.wait_type("ACK", len(joining), wait_s)

    async def wait_type(self, kind: str, count: int, wait_s: float) -> dict[str, Any]:
        deadline = time.monotonic() + wait_s
        while self.counters.types.get(kind, 0) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return {"seen": self.counters.types.get(kind, 0), "types": self.counters.types}

    async def wait(
        self, per_socket: int, wait_s: float, quiet_s: float = 0.0, below: int = 1 << 30
    ) -> dict[str, Any]:
        """Until every open socket with g < below has had `per_socket` marked frames (or
        the timeout); with `quiet_s`, until none came for that long (a stream of unknown
        size). A socket that closes stops being waited for."""
        c = self.counters
        deadline = time.monotonic() + wait_s
        room = [s for g, s in self.sockets.items() if g < below]
        while time.monotonic() < deadline:
            if per_socket and c.hits >= per_socket * sum(not s.closed for s in room):
                break
            if quiet_s and c.hits and time.monotonic() - c.last > quiet_s:
                break
            await asyncio.sleep(0.005)
        return self.stats(below)

    async def snapshot(self) -> dict[str, Any]:
        return self.stats()

    def stats(self, below: int = 1 << 30) -> dict[str, Any]:
        """Counts so far; per-socket extremes over the open sockets with g < below."""
        c = self.counters
        per_socket = [s.hits for g, s in self.sockets.items() if g < below and not s.closed]
        return {
            "hits": c.hits,
            "first": c.first,
            "last": c.last,
            "min_per_socket": min(per_socket, default=0),
            "max_per_socket": max(per_socket, default=0),
            "open": len(per_socket),
            "lost": c.lost,
            "types": c.types,
        }


async def main(mode: str, host: str, port: int, index: int, count: int, sizes: list[int]) -> None:
    raise_nofile()
    die_with_parent()
    client = ClientProcess(mode, host, port, index, count, sizes)
    await serve_control(
        {
            "connect": client.connect,
            "close": client.close,
            "reset": client.reset,
            "join": client.join,
            "wait_type": client.wait_type,
            "wait": client.wait,
            "snapshot": client.snapshot,
        }
    )
    await client.close(0, settle_s=0.2)


if __name__ == "__main__":
    _mode, _host, _port, _index, _count, _sizes = sys.argv[1:7]
    uvloop.run(main(_mode, _host, int(_port), int(_index), int(_count), [int(n) for n in _sizes.split(",")]))
