"""A command's way from its frame to Pub/Sub and back to its ACK: awaited inline, so it
reaches its session's batch in the step its frame is read in, and its ACK goes out as
soon as Pub/Sub answers, not after extra trips through the event loop (under a burst,
each trip can cost a command its batch)."""

from __future__ import annotations

import asyncio
import time

from bots.client import client_frame
from gateway.connection import Connection
from gateway.core import Client
from tests.gateway.harness import Running, frames_until


async def test_command_reaches_its_batch_at_once_and_is_acked_in_three_loop_steps(gateway: Running) -> None:
    ws = await gateway.connect()
    (conn,) = gateway.gateway.rooms.by_id.values()
    assert isinstance(conn, Connection)
    client = Client(gateway.gateway.limits, time.monotonic_ns() // 1000)
    raw = client_frame("JOIN_SESSION", {"session_id": "S1", "username": "Ada"}, "m1")
    relay = asyncio.create_task(gateway.gateway.relay(conn, client, raw, 0))
    await asyncio.sleep(0)  # one step: the relay read the frame
    assert len(gateway.gateway.commands.batcher._waiting["S1"]) == 1  # in its session's batch
    steps = 1
    while not relay.done():
        await asyncio.sleep(0)
        steps += 1
    # 1: the frame read, its batch's publish started; 2: Pub/Sub answered; 3: the ACK sent.
    # A Task per command (and asyncio.wait on it) took 6.
    assert steps <= 3
    assert gateway.commands.message_ids() == ["m1"]
    ack = (await frames_until(ws, "ACK"))[-1]
    assert ack["payload"] == {"message_id": "m1"}
