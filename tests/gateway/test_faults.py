"""QUIZ_FAULTS in the gateway (vocabquiz/faults.py): read with its other settings and
refused loudly when bad or in production; a stored batch whose reply is lost leaves its
frames without an ACK; a skewed clock moves every receive stamp; and unset, nothing."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

import pytest

from gateway.config import ConfigError, load_config
from tests.gateway.harness import Running, frames_until, ping, send
from vocabquiz.faults import Faults
from vocabquiz.protocol import parse_timestamp_ms

JOIN = {"session_id": "S1", "username": "Ada"}


def test_gateway_config_reads_quiz_faults_beside_its_other_settings() -> None:
    config = load_config({"GOOGLE_CLOUD_PROJECT": "p", "QUIZ_FAULTS": "lost_publish_reply=0.1,seed=4"})
    assert config.faults == Faults(lost_publish_reply=0.1, seed=4)
    assert load_config({"GOOGLE_CLOUD_PROJECT": "p"}).faults is None


@pytest.mark.parametrize("text", ["lost_publish_reply=2", "clock_skew_ms=ahead", "lose_everything=1"])
def test_gateway_refuses_to_start_with_a_bad_quiz_faults_naming_it(text: str) -> None:
    with pytest.raises(ConfigError, match="QUIZ_FAULTS"):
        load_config({"GOOGLE_CLOUD_PROJECT": "p", "QUIZ_FAULTS": text})


def test_gateway_refuses_to_start_in_production_with_any_fault() -> None:
    with pytest.raises(ConfigError, match="production"):
        load_config({"GOOGLE_CLOUD_PROJECT": "p", "QUIZ_ENV": "production", "QUIZ_FAULTS": "seed=1"})


async def test_gateway_without_quiz_faults_acks_every_command_stamped_with_its_own_clock(
    gateway: Running,
) -> None:
    ws = await gateway.connect()
    for n in range(30):
        await send(ws, "JOIN_SESSION", JOIN, f"m{n}")
    frames = await ping(ws)
    assert [f["payload"]["message_id"] for f in frames if f["type"] == "ACK"] == [f"m{n}" for n in range(30)]
    assert gateway.commands.message_ids() == [f"m{n}" for n in range(30)]
    now_ms = time.time() * 1000
    assert all(now_ms - 2000 < c.received_at_ms <= now_ms for c in gateway.commands.commands())


async def test_lost_publish_reply_stores_the_batch_but_acks_none_of_its_frames(
    gateway_with: Callable[..., Awaitable[Running]], caplog: pytest.LogCaptureFixture
) -> None:
    gateway = await gateway_with(QUIZ_FAULTS="lost_publish_reply=1")
    ws = await gateway.connect()
    with caplog.at_level(logging.WARNING, logger="quiz.gateway"):
        await send(ws, "JOIN_SESSION", JOIN, "m1")
        assert [f["type"] for f in await ping(ws)] == []  # no ACK, and no ERROR either
        await send(ws, "JOIN_SESSION", JOIN, "m1")  # the client sends it again: published again
        assert [f["type"] for f in await ping(ws)] == []
    assert gateway.commands.message_ids() == ["m1", "m1"]
    lost = [r for r in caplog.records if r.getMessage() == "injected fault: a publish's reply lost"]
    assert len(lost) == 2 and all(r.exc_info is None for r in lost)


async def test_clock_skew_moves_every_receive_stamp_of_this_gateway(
    gateway_with: Callable[..., Awaitable[Running]],
) -> None:
    gateway = await gateway_with(QUIZ_FAULTS="clock_skew_ms=-4000")
    ws = await gateway.connect()
    sent_ms = time.time() * 1000
    await send(ws, "JOIN_SESSION", JOIN, "m1")
    await send(ws, "PING", {}, "p1")
    ack, pong = await frames_until(ws, "PONG")
    (command,) = gateway.commands.commands()
    assert ack["type"] == "ACK"
    assert sent_ms - 5000 < command.received_at_ms < sent_ms - 3000
    assert sent_ms - 5000 < parse_timestamp_ms(pong["payload"]["server_time"]) < sent_ms - 3000
