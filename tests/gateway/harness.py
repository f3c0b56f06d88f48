"""An in-process gateway on its in-memory Pub/Sub twins: the real server, handshake, core
and fan-out on a free port, commands kept in a list, events handed straight to the
fan-out, tokens whose text is the uid. For what a socket sees of the gateway's own
decisions; tests/e2e runs it against the emulators."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection

from bots.client import client_frame, open_raw
from gateway.config import load_config
from gateway.pubsub import OnEvent, OnLost
from gateway.server import Gateway
from vocabquiz.adapters.events import messages_for
from vocabquiz.protocol import ServerType, encode_frame, server_frame
from vocabquiz.protocol.envelope import ROOM_ENTER, Command, Event, commands_from_message
from vocabquiz.protocol.types import ServerFrame

APP_CHECK_VALID = "app-check-ok"  # the one App Check token the in-process gateway accepts


def verify_app_check(token: str) -> dict[str, Any]:
    """App Check's verifier as the harness fakes it (tests/gateway/test_handshake.py also
    runs firebase_admin's own against a local key)."""
    if token != APP_CHECK_VALID:
        raise ValueError(f"Verifying App Check token failed. Error: not {APP_CHECK_VALID}")
    return {"sub": "1:123:web:abc", "app_id": "1:123:web:abc"}


class InMemoryCommands:
    """quiz-commands: each message stored once `gate` is open (it is unless a test closes
    it); `ready` answers `reachable` and counts the checks (each one an admin call in the cloud)."""

    def __init__(self) -> None:
        self.stored: list[tuple[bytes, dict[str, str]]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.reachable = True
        self.ready_checks = 0

    async def publish(self, data: bytes, attributes: dict[str, str]) -> str:
        await self.gate.wait()
        self.stored.append((data, attributes))
        return str(len(self.stored))

    def ready(self) -> bool:
        self.ready_checks += 1
        return self.reachable

    def commands(self) -> list[Command]:
        return [c for data, attributes in self.stored for c in commands_from_message(data, attributes)[0]]

    def message_ids(self) -> list[str]:
        return [c.frame["message_id"] for c in self.commands()]


class InMemoryEvents:
    """quiz-events: `publish` hands an event to the fan-out at once, as the subscription's
    callback would; `lose` ends the stream as a deleted subscription does, and the next
    `failing_resumes` resumes raise, as Pub/Sub refusing would."""

    def __init__(self) -> None:
        self.on_event: OnEvent | None = None
        self.on_lost: OnLost | None = None
        self.streaming = False
        self.failing_resumes = 0
        self.resumes = 0
        self.stopped = False

    def start(self, loop: asyncio.AbstractEventLoop, on_event: OnEvent, on_lost: OnLost) -> None:
        self.on_event, self.on_lost, self.streaming = on_event, on_lost, True

    def resume(self) -> None:
        self.resumes += 1
        if self.failing_resumes:
            self.failing_resumes -= 1
            raise RuntimeError("Pub/Sub unavailable")
        self.streaming = True

    def stop(self) -> None:
        self.stopped, self.streaming = True, False

    def lose(self, error: BaseException | None) -> None:
        assert self.on_lost is not None, "the gateway is not serving"
        self.streaming = False
        self.on_lost(error)

    def publish(self, frame: ServerFrame | Mapping[str, Any], **attributes: str) -> None:
        self.deliver(encode_frame(dict(frame)).encode(), attributes)

    def deliver(self, data: bytes, attributes: dict[str, str]) -> None:
        """One message as the subscription receives it."""
        assert self.on_event is not None, "the gateway is not serving"
        if self.streaming:
            self.on_event(data, dict(attributes), time.time())


@dataclass
class Running:
    gateway: Gateway
    commands: InMemoryCommands
    events: InMemoryEvents
    task: asyncio.Task[None]
    sockets: list[ClientConnection] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.gateway.port}/ws"

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.gateway.port}"

    @property
    def metrics_url(self) -> str:
        """Where the sidecar scrapes (127.0.0.1, not the public port)."""
        return f"http://127.0.0.1:{self.gateway.metrics_port}/metrics"

    async def connect(self, uid: str | None = None) -> ClientConnection:
        """A socket of `uid` (a new user unless given)."""
        ws = await open_raw(self.url, uid or f"u-{uuid.uuid4().hex[:8]}")
        self.sockets.append(ws)
        return ws


async def start_gateway(**env: str) -> Running:
    config = load_config(
        {
            "GOOGLE_CLOUD_PROJECT": "gateway-tests",
            "HOST": "127.0.0.1",
            "PORT": "0",
            "METRICS_PORT": "0",
            "GATEWAY_ID": f"test-{uuid.uuid4().hex[:8]}",
            **env,
        }
    )
    commands, events = InMemoryCommands(), InMemoryEvents()
    gateway = Gateway(config, commands, events)
    gateway.handshake = dataclasses.replace(
        gateway.handshake,
        verify_token=lambda token: {"uid": token, "exp": time.time() + 3600},
        verify_app_check=verify_app_check,
    )
    ready = asyncio.Event()
    task = asyncio.create_task(gateway.serve(ready))
    await asyncio.wait_for(ready.wait(), 10)
    await asyncio.sleep(0)  # the first readiness check, as a probe would find it
    return Running(gateway, commands, events, task)


async def send(ws: ClientConnection, frame_type: str, payload: dict[str, Any], message_id: str) -> None:
    await ws.send(client_frame(frame_type, payload, message_id))


async def frames_until(ws: ClientConnection, frame_type: str, timeout_s: float = 5) -> list[dict[str, Any]]:
    """Every frame received up to and including the first of `frame_type`."""
    frames: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout_s):
        while not frames or frames[-1]["type"] != frame_type:
            frames.append(json.loads(await ws.recv()))
    return frames


async def ping(ws: ClientConnection) -> list[dict[str, Any]]:
    """Every frame received before the PONG of a PING sent now (a socket's frames are
    relayed in order: what a frame sent earlier had coming has come)."""
    ping_id = uuid.uuid4().hex
    await send(ws, "PING", {}, ping_id)
    frames = await frames_until(ws, "PONG")
    assert frames[-1]["message_id"] == ping_id
    return frames[:-1]


async def join(running: Running, ws: ClientConnection, session_id: str) -> Command:
    """JOIN_SESSION as the functions would answer it: the SESSION_JOINED that puts this
    socket in the session's room. Returns the command the gateway published."""
    message_id = uuid.uuid4().hex
    await send(ws, "JOIN_SESSION", {"session_id": session_id, "username": "Ada"}, message_id)
    assert (await frames_until(ws, "ACK"))[-1]["payload"]["message_id"] == message_id
    command = next(c for c in running.commands.commands() if c.frame["message_id"] == message_id)
    joined = server_frame(ServerType.SESSION_JOINED, {"session_id": session_id}, message_id=f"j-{message_id}")
    event = Event(session_id, joined, target_connection=command.connection_id, room=ROOM_ENTER)
    ((_, data, attributes),) = messages_for([event])
    running.events.deliver(data, attributes)
    await frames_until(ws, "SESSION_JOINED")
    return command


async def stopped(running: Running, timeout_s: float = 10) -> None:
    """Wait for a gateway told to stop (not wait_for: a gateway that cannot stop would
    not let its task be cancelled either, and the test would hang)."""
    await asyncio.wait([running.task], timeout=timeout_s)
    assert running.task.done(), "the gateway did not stop"
