"""SIGTERM with commands in flight: the gateway stops relaying frames, lets the publishes
in flight resolve and their ACKs go out (for a bounded time), then closes with 1012. A
frame sent before the signal is acknowledged, or never published."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable

import httpx
import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from gateway.config import load_config
from tests.gateway.harness import Running, send, stopped

JOIN = {"session_id": "S1", "username": "Ada"}


async def received_until_closed(ws: ClientConnection) -> list[dict[str, object]]:
    frames = []
    try:
        async with asyncio.timeout(10):
            while True:
                frames.append(json.loads(await ws.recv()))
    except ConnectionClosed:
        return frames


def acked(frames: list[dict[str, object]]) -> list[object]:
    return [f["payload"]["message_id"] for f in frames if f["type"] == "ACK"]  # type: ignore[index]


async def test_sigterm_acks_the_commands_in_flight_before_closing_with_1012(gateway: Running) -> None:
    sockets = [await gateway.connect() for _ in range(3)]
    gateway.commands.gate.clear()  # Pub/Sub is slow: the first frame of each socket is in flight
    sent = {ws: [f"m{n}-{m}" for m in range(3)] for n, ws in enumerate(sockets)}
    for ws, message_ids in sent.items():
        for message_id in message_ids:
            await send(ws, "JOIN_SESSION", JOIN, message_id)
    await asyncio.sleep(0.1)
    gateway.gateway.stop()
    await asyncio.sleep(0.3)
    async with httpx.AsyncClient() as http:
        assert (await http.get(f"{gateway.http}/health/ready")).status_code == 503
    assert all(ws.close_code is None for ws in sockets)  # waiting for the publishes
    gateway.commands.gate.set()
    published = set()
    for ws, message_ids in sent.items():
        frames = await received_until_closed(ws)
        assert ws.close_code == 1012
        assert acked(frames) == message_ids[:1]  # the one in flight; the rest were not read
        published |= set(message_ids[:1])
    assert set(gateway.commands.message_ids()) == published  # every other frame: never published
    await stopped(gateway)


async def test_frame_read_after_sigterm_is_never_published(gateway: Running) -> None:
    ws = await gateway.connect()
    gateway.commands.gate.clear()
    await send(ws, "JOIN_SESSION", JOIN, "before")
    await asyncio.sleep(0.1)
    gateway.gateway.stop()
    await asyncio.sleep(0.1)
    await send(ws, "JOIN_SESSION", JOIN, "after")  # the client sends it again after reconnecting
    await asyncio.sleep(0.1)
    gateway.commands.gate.set()
    assert acked(await received_until_closed(ws)) == ["before"]
    assert gateway.commands.message_ids() == ["before"]


async def test_drain_waits_no_longer_than_its_timeout(
    gateway_with: Callable[..., Awaitable[Running]], caplog: pytest.LogCaptureFixture
) -> None:
    gateway = await gateway_with(DRAIN_TIMEOUT_MS="300")
    ws = await gateway.connect()
    gateway.commands.gate.clear()  # Pub/Sub never answers
    await send(ws, "JOIN_SESSION", JOIN, "m1")
    await asyncio.sleep(0.1)
    started = asyncio.get_running_loop().time()
    with caplog.at_level(logging.WARNING, logger="quiz.gateway"):
        gateway.gateway.stop()
        assert acked(await received_until_closed(ws)) == []
    assert ws.close_code == 1012
    assert asyncio.get_running_loop().time() - started < 0.8  # 0.3 s, then the close
    (timed_out,) = [r for r in caplog.records if r.getMessage().startswith("drain timed out")]
    assert timed_out.json_fields["in_flight"] == 1  # type: ignore[attr-defined]
    await stopped(gateway)
    gateway.commands.gate.set()  # let the orphaned publish finish before the loop moves on


def test_drain_timeout_defaults_to_a_few_seconds() -> None:
    assert load_config({"GOOGLE_CLOUD_PROJECT": "p"}).drain_timeout_s == 3.0
    assert load_config({"GOOGLE_CLOUD_PROJECT": "p", "DRAIN_TIMEOUT_MS": "500"}).drain_timeout_s == 0.5
