"""A frame nested too deep, and a frame whose handling fails, through the in-process
gateway: each costs its sender an ERROR and nothing more. The socket stays open and a
PING sent next gets its PONG; no frame a client can send closes it with 1011."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from websockets.asyncio.client import ClientConnection

from gateway import core
from tests.fuzz.nesting import JOIN_OF_1500_OBJECTS, PING_OF_3000_ARRAYS, deeply_nested_frames
from tests.gateway.harness import Running, ping
from vocabquiz.protocol import parse_client_frame
from vocabquiz.protocol.frames import MAX_JSON_DEPTH

# Frames as fast as the examples come: the rate limit is not what these test.
UNLIMITED = {"RATE_PER_S": "100000", "RATE_BURST": "100000"}


async def _reply(ws: ClientConnection) -> dict[str, Any]:
    reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert isinstance(reply, dict)
    return reply


async def _assert_refused_and_still_serving(ws: ClientConnection, raw: str) -> dict[str, Any]:
    await ws.send(raw)
    reply = await _reply(ws)
    assert reply["type"] == "ERROR", reply
    assert await ping(ws) == []  # open, and nothing else came: a PING still gets its PONG
    assert ws.close_code is None
    return reply


@pytest.mark.parametrize("raw", [PING_OF_3000_ARRAYS, JOIN_OF_1500_OBJECTS], ids=["ping", "join"])
async def test_client_sending_a_deeply_nested_frame_gets_invalid_message_and_keeps_its_socket(
    gateway: Running, raw: str, caplog: pytest.LogCaptureFixture
) -> None:
    ws = await gateway.connect()
    reply = await _assert_refused_and_still_serving(ws, raw)
    assert reply["payload"]["code"] == "INVALID_MESSAGE"
    assert reply["payload"]["recoverable"] is True
    assert f"deeper than {MAX_JSON_DEPTH} levels" in reply["payload"]["message"]
    assert gateway.commands.stored == []  # nothing published
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


async def test_the_same_frame_as_binary_or_in_utf16_is_refused_alike(gateway: Running) -> None:
    ws = await gateway.connect()
    for data in (PING_OF_3000_ARRAYS.encode(), PING_OF_3000_ARRAYS.encode("utf-16-le")[:10_000]):
        reply = await _assert_refused_and_still_serving(ws, data)  # type: ignore[arg-type]
        assert reply["payload"]["code"] == "INVALID_MESSAGE"


@pytest.fixture
async def unlimited_socket(gateway_with: Callable[..., Awaitable[Running]]) -> ClientConnection:
    running = await gateway_with(**UNLIMITED)
    return await running.connect()


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=deeply_nested_frames())
@example(case=("PING", "payload", PING_OF_3000_ARRAYS))
@example(case=("JOIN_SESSION", "payload.session_id", JOIN_OF_1500_OBJECTS))
async def test_fuzz_deep_nesting_in_any_field_of_any_frame_gets_invalid_message_and_the_socket_lives(
    unlimited_socket: ClientConnection, case: tuple[str, str, str]
) -> None:
    _, _, raw = case
    reply = await _assert_refused_and_still_serving(unlimited_socket, raw)
    assert reply["payload"]["code"] == "INVALID_MESSAGE", reply


async def test_frame_whose_handling_fails_gets_internal_once_logged_and_the_socket_lives(
    gateway: Running, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug met by one frame (here the parser failing on a frame it should read) is that
    frame's alone: INTERNAL, one ERROR line with the traceback and no more of the frame
    than its start, and the socket reads on."""
    secret = "s" * 500

    def parse_failing_on_boom(raw: str | bytes) -> Any:
        frame = parse_client_frame(raw)
        if "boom" in frame.message_id:
            raise RuntimeError("a bug")
        return frame

    monkeypatch.setattr(core, "parse_client_frame", parse_failing_on_boom)
    ws = await gateway.connect()
    raw = json.dumps(
        {"type": "JOIN_SESSION", "payload": {"session_id": "S1", "username": secret}, "message_id": "boom"}
    )
    with caplog.at_level(logging.ERROR, logger="quiz.gateway"):
        reply = await _assert_refused_and_still_serving(ws, raw)
    assert reply["payload"]["code"] == "INTERNAL" and reply["payload"]["recoverable"] is True
    (line,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert line.exc_info is not None and "a bug" in str(line.exc_info[1])
    fields = line.json_fields  # type: ignore[attr-defined]
    assert fields["frame_bytes"] == len(raw) and len(fields["frame_start"]) <= 64
    assert secret not in json.dumps(fields) and fields["frame_start"] == raw[:64]
    assert gateway.commands.stored == []
    # Frames after it are handled as usual.
    await ws.send(json.dumps({"type": "LEAVE_SESSION", "payload": {"session_id": "S1"}, "message_id": "m2"}))
    assert (await _reply(ws))["type"] == "ACK"
