"""The events stream lost while players stay connected (its subscription deleted by an
operator or expired, an error no retry fixes): the gateway subscribes again, and since
the events published meanwhile are gone, closes every socket with 1012 so that each
player reconnects and REJOINs for the session as it is now. In-process first, then
against the emulator with the subscription deleted from outside."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from google.api_core import exceptions as gexc
from google.cloud import pubsub_v1  # type: ignore[attr-defined,unused-ignore]

from bots.client import Host, Player
from devstack.processes import free_port
from devstack.stack import EVENTS_TOPIC, PROJECT_ID
from tests.conftest import add_player
from tests.gateway.harness import Running, join, ping, stopped
from vocabquiz.protocol import ServerType, server_frame


async def ready_status(running: Running) -> int:
    async with httpx.AsyncClient() as http:
        return (await http.get(f"{running.http}/health/ready")).status_code


async def metric(metrics_url: str, name: str) -> float:
    async with httpx.AsyncClient() as http:
        text = (await http.get(metrics_url)).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name + " "))


async def test_lost_events_stream_is_resumed_then_every_socket_closed_with_1012(gateway: Running) -> None:
    sockets = [await gateway.connect() for _ in range(3)]
    for ws in sockets:
        await join(gateway, ws, "S1")
    published = len(gateway.commands.stored)
    gateway.events.failing_resumes = 2  # Pub/Sub refuses twice: the gateway backs off and tries again
    assert await ready_status(gateway) == 200
    gateway.events.lose(gexc.NotFound("Subscription does not exist"))  # type: ignore[no-untyped-call]
    await asyncio.sleep(0.2)
    assert await ready_status(gateway) == 503  # the stream is down: no new socket here, please
    assert all(ws.close_code is None for ws in sockets)  # until it is back: they would reconnect to it
    for ws in sockets:
        await asyncio.wait_for(ws.wait_closed(), 10)
        assert (ws.close_code, ws.close_reason) == (1012, "Service restarting")
    assert gateway.events.resumes == 3
    assert await ready_status(gateway) == 200
    assert await metric(gateway.metrics_url, "quiz_gateway_events_streams_lost_total") == 1
    assert len(gateway.commands.stored) == published  # no disconnects: the players are reconnecting

    ws = await gateway.connect()  # a new socket joins and hears its session again
    await join(gateway, ws, "S1")
    started = server_frame(ServerType.QUESTION_STARTED, {"index": 1}, message_id="qs-S1-1")
    gateway.events.publish(started, session_id="S1")
    assert [f["type"] for f in await ping(ws)] == ["QUESTION_STARTED"]


async def test_stopping_gateway_does_not_resume_its_events_stream(gateway: Running) -> None:
    ws = await gateway.connect()
    gateway.gateway.stop()
    gateway.events.lose(None)  # the stream a stop cancels ends too
    await stopped(gateway)
    assert gateway.events.resumes == 0 and ws.close_code == 1012


@pytest.mark.stack
async def test_deleted_events_subscription_closes_sockets_with_1012_and_new_sockets_hear_events(
    stack: Any, host: Host, players: list[Player], urls: dict[str, str]
) -> None:
    gateway_id = f"deaf-{uuid.uuid4().hex[:8]}"
    metrics_port = free_port()
    child, gateway = stack.spawn_gateway(
        "gateway-deaf", GATEWAY_ID=gateway_id, METRICS_PORT=str(metrics_port)
    )
    metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
    try:
        gw_urls = {**urls, "ws": f"ws://{gateway.address}/ws", "origin": f"http://127.0.0.1:{gateway.port}"}
        session_id = (await host.create_session("vocab-101", auto_advance=False))["session_id"]
        before = await add_player(players, gw_urls)
        await before.send("JOIN_SESSION", {"session_id": session_id, "username": "Before"})
        await before.expect("SESSION_JOINED")

        subscriber = pubsub_v1.SubscriberClient()
        subscription = subscriber.subscription_path(PROJECT_ID, f"{EVENTS_TOPIC}-gw-{gateway_id}")
        await asyncio.to_thread(subscriber.delete_subscription, subscription=subscription)
        assert before._socket is not None
        await asyncio.wait_for(before._socket.wait_closed(), 30)
        assert before._socket.close_code == 1012
        subscriber.get_subscription(subscription=subscription)  # made again by the gateway

        after = await add_player(players, gw_urls)
        await after.send("JOIN_SESSION", {"session_id": session_id, "username": "After"})
        await after.expect("SESSION_JOINED")
        await host.action(session_id, "start")
        await after.expect("QUESTION_STARTED")
        assert await metric(metrics_url, "quiz_gateway_events_streams_lost_total") == 1
    finally:
        child.stop()
