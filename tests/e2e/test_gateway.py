"""The gateway as an attacker, a flood, a slow reader and an operator see it: every
refusal before the upgrade, limits on open sockets, two instances serving one session,
a slow socket that must not hold back the rest, and a SIGTERM drain."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import time
import uuid
from typing import Any

import httpx
import pytest
from google.api_core import exceptions as gexc
from google.cloud import pubsub_v1
from websockets.exceptions import ConnectionClosed, InvalidStatus

from bots.client import Host, Player, open_raw, sign_up_anonymously
from bots.tokens import unsigned_id_token
from devstack.processes import free_port
from devstack.stack import EVENTS_TOPIC, PROJECT_ID
from tests.conftest import add_player

pytestmark = pytest.mark.stack


async def refusal_status(url: str, headers: dict[str, str], origin: str | None = None) -> int:
    with pytest.raises(InvalidStatus) as refused:
        async with open_raw(url, origin=origin, additional_headers=headers):
            pass
    return refused.value.response.status_code


async def test_handshake_without_a_token_is_refused_with_401(urls: dict[str, str]) -> None:
    assert await refusal_status(urls["ws"], {}, urls["origin"]) == 401


@pytest.mark.parametrize("token", ["garbage", "a.b.c", unsigned_id_token("someone", expires_in_s=-60)])
async def test_handshake_with_a_bad_or_expired_token_is_refused_with_401(
    urls: dict[str, str], token: str
) -> None:
    assert await refusal_status(urls["ws"], {"Authorization": f"Bearer {token}"}, urls["origin"]) == 401


@pytest.mark.parametrize("suffix", ["", ".evil.example", "0"])
async def test_handshake_from_an_origin_not_on_the_exact_list_is_refused_with_403(
    urls: dict[str, str], suffix: str
) -> None:
    _, token = await sign_up_anonymously(urls["auth"])
    origin = "https://evil.example" if not suffix else urls["origin"] + suffix
    assert await refusal_status(urls["ws"], {"Authorization": f"Bearer {token}"}, origin) == 403


async def test_browser_token_in_the_subprotocol_is_accepted(urls: dict[str, str]) -> None:
    _, token = await sign_up_anonymously(urls["auth"])
    async with open_raw(urls["ws"], token, urls["origin"]) as ws:  # ["quiz.v1", "bearer.<token>"]
        assert ws.subprotocol == "quiz.v1"
        await ws.send(json.dumps({"type": "PING", "payload": {}, "message_id": "p1"}))
        assert json.loads(await ws.recv())["type"] == "PONG"


async def test_sixth_socket_of_one_user_is_refused_with_429(
    urls: dict[str, str], players: list[Player]
) -> None:
    uid, token = await sign_up_anonymously(urls["auth"])
    for _ in range(5):
        player = Player(urls["ws"], token, uid, origin=urls["origin"])
        await player.connect()
        players.append(player)
    assert await refusal_status(urls["ws"], {"Authorization": f"Bearer {token}"}, urls["origin"]) == 429


async def test_oversized_frame_closes_the_socket_with_1009(
    urls: dict[str, str], players: list[Player]
) -> None:
    player = await add_player(players, urls)
    assert player._socket is not None
    await player._socket.send("x" * (10 * 1024 + 1))
    await asyncio.wait_for(player._socket.wait_closed(), 5)
    assert player._socket.close_code == 1009


async def test_flood_gets_rate_limited_then_closed_with_1008(
    urls: dict[str, str], players: list[Player]
) -> None:
    player = await add_player(players, urls)
    assert player._socket is not None
    with contextlib.suppress(ConnectionClosed):  # the close may land while we still send
        for i in range(500):
            await player._socket.send(json.dumps({"type": "PING", "payload": {}, "message_id": f"f{i}"}))
    await asyncio.wait_for(player._socket.wait_closed(), 5)
    await asyncio.sleep(0.2)  # let the reader take the last frames
    assert player._socket.close_code == 1008
    codes = {f["payload"]["code"] for f in player.of_type("ERROR")}
    assert codes == {"RATE_LIMITED"}
    assert 1 <= len(player.of_type("PONG")) < 500


async def test_metrics_count_connections_and_frames_as_they_happen_on_localhost_only(
    urls: dict[str, str], players: list[Player], stack: Any
) -> None:
    metrics_port = free_port()
    child, gateway = stack.spawn_gateway("gateway-metrics", METRICS_PORT=str(metrics_port))
    try:
        gw_urls = {**urls, "ws": f"ws://{gateway.address}/ws", "origin": f"http://127.0.0.1:{gateway.port}"}
        metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"

        async def sample(name: str) -> float:
            async with httpx.AsyncClient() as http:
                text = (await http.get(metrics_url)).text
            return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name))

        pings_before = await sample('quiz_gateway_frames_in_total{type="PING"}')
        connections_before = await sample("quiz_gateway_connections ")
        player = await add_player(players, gw_urls)
        for i in range(3):
            await player.send("PING", {}, message_id=f"m{i}")
            await player.expect("PONG")
        assert await sample('quiz_gateway_frames_in_total{type="PING"}') == pings_before + 3
        assert await sample("quiz_gateway_connections ") == connections_before + 1
        assert await sample("quiz_gateway_publish_latency_seconds_count") >= 0
        async with httpx.AsyncClient() as http:  # the public port, which the internet reaches
            assert (await http.get(f"http://{gateway.address}/metrics")).status_code == 404
    finally:
        child.stop()


async def test_two_gateway_instances_serve_one_session_in_the_same_order(
    stack: Any, host: Host, players: list[Player], urls: dict[str, str]
) -> None:
    child, second = stack.spawn_gateway("gateway-2")
    try:
        second_urls = {**urls, "ws": f"ws://{second.address}/ws", "origin": f"http://127.0.0.1:{second.port}"}
        session_id = (await host.create_session("vocab-101", auto_advance=False))["session_id"]
        on_first = [await add_player(players, urls) for _ in range(2)]
        on_second = [await add_player(players, second_urls) for _ in range(2)]
        everyone = on_first + on_second
        for i, player in enumerate(everyone):
            await player.send("JOIN_SESSION", {"session_id": session_id, "username": f"Player {i}"})
            await player.expect("SESSION_JOINED")
        await host.action(session_id, "start")
        opened = {
            (await player.expect("QUESTION_STARTED"))["payload"]["question"]["question_id"]
            for player in everyone
        }
        (first,) = opened  # the session's first question (its own order), the same everywhere
        for player, answer in zip(everyone, ["elated", "weary", "elated", "hostile"], strict=True):
            await player.send(
                "SUBMIT_ANSWER", {"session_id": session_id, "question_id": first, "answer": answer}
            )
            await player.expect("SCORE_UPDATED")
        await host.action(session_id, "next")
        await host.action(session_id, "end")
        for player in everyone:
            await player.expect("SESSION_ENDED", timeout_s=15)

        def shared_frames(player: Player) -> list[tuple[str, str]]:
            start = next(i for i, f in enumerate(player.frames) if f["type"] == "QUESTION_STARTED")
            return [
                (f["type"], f["message_id"])
                for f in player.frames[start:]
                if f["type"] in ("QUESTION_STARTED", "QUESTION_ENDED", "SESSION_ENDED")
            ]

        sequences = {tuple(shared_frames(p)) for p in everyone}
        assert len(sequences) == 1 and len(next(iter(sequences))) == 3
        for player in everyone:
            versions = [f["payload"]["version"] for f in player.of_type("LEADERBOARD_UPDATED")]
            assert versions == sorted(set(versions)), "leaderboards arrive once each, oldest first"
    finally:
        child.stop()


async def test_slow_socket_is_closed_without_holding_back_the_others(
    stack: Any, host: Host, players: list[Player], urls: dict[str, str]
) -> None:
    metrics_port = free_port()
    child, gateway = stack.spawn_gateway(
        "gateway-slow", SEND_BUFFER_LIMIT_BYTES=str(64 * 1024), METRICS_PORT=str(metrics_port)
    )
    try:
        gw_urls = {**urls, "ws": f"ws://{gateway.address}/ws", "origin": f"http://127.0.0.1:{gateway.port}"}
        session_id = (await host.create_session("vocab-101"))["session_id"]
        fast = await add_player(players, gw_urls)
        await fast.send("JOIN_SESSION", {"session_id": session_id, "username": "Fast"})
        await fast.expect("SESSION_JOINED")

        # The slow reader: a tiny receive buffer, and once in the session it stops reading.
        _, slow_token = await sign_up_anonymously(urls["auth"])
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((gateway.host, gateway.port))
        slow = await open_raw(gw_urls["ws"], slow_token, gw_urls["origin"], sock=sock)
        await slow.send(
            json.dumps({"type": "JOIN_SESSION", "payload": {"session_id": session_id, "username": "Slow"}})
        )
        while json.loads(await slow.recv())["type"] != "SESSION_JOINED":
            pass
        slow.transport.pause_reading()

        publisher = pubsub_v1.PublisherClient()
        topic = publisher.topic_path(PROJECT_ID, EVENTS_TOPIC)
        padding = "x" * 10_000
        sent = 0

        async def dropped() -> float:
            async with httpx.AsyncClient() as http:
                text = (await http.get(f"http://127.0.0.1:{metrics_port}/metrics")).text
            line = next(
                x for x in text.splitlines() if x.startswith("quiz_gateway_slow_sockets_dropped_total ")
            )
            return float(line.split()[1])

        while await dropped() == 0 and sent < 2_000:  # 20 MB at most
            batch = []
            for _ in range(20):
                frame = {
                    "type": "ANSWER_STATS",
                    "payload": {"n": sent, "pad": padding},
                    "message_id": f"slow-{sent}",
                }
                batch.append(
                    publisher.publish(
                        topic, json.dumps(frame, separators=(",", ":")).encode(), session_id=session_id
                    )
                )
                sent += 1
            await asyncio.to_thread(lambda published=batch: [f.result(timeout=30) for f in published])
            await asyncio.sleep(0.02)
        assert await dropped() == 1
        deadline = time.monotonic() + 30
        while len(fast.of_type("ANSWER_STATS")) < sent and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        # The fast player got every event while the slow one fell behind and was cut off.
        assert sorted(f["payload"]["n"] for f in fast.of_type("ANSWER_STATS")) == list(range(sent))
        slow.transport.abort()
    finally:
        child.stop()


async def test_sigterm_closes_sockets_with_1012_and_deletes_the_subscription(
    stack: Any, players: list[Player], urls: dict[str, str]
) -> None:
    gateway_id = f"drain-{uuid.uuid4().hex[:8]}"
    child, gateway = stack.spawn_gateway("gateway-drain", GATEWAY_ID=gateway_id)
    subscriber = pubsub_v1.SubscriberClient()
    subscription = subscriber.subscription_path(PROJECT_ID, f"{EVENTS_TOPIC}-gw-{gateway_id}")
    subscriber.get_subscription(subscription=subscription)  # exists while it runs
    player = await add_player(
        players, {**urls, "ws": f"ws://{gateway.address}/ws", "origin": f"http://127.0.0.1:{gateway.port}"}
    )
    os.killpg(child.process.pid, signal.SIGTERM)
    assert player._socket is not None
    await asyncio.wait_for(player._socket.wait_closed(), 10)
    assert player._socket.close_code == 1012
    assert await asyncio.to_thread(child.process.wait, 15) == 0
    with pytest.raises(gexc.NotFound):
        subscriber.get_subscription(subscription=subscription)
    with socket.socket() as probe:
        assert probe.connect_ex((gateway.host, gateway.port)) != 0
