"""Deeply nested frames, fuzzed at the gateway of the local stack: arrays, objects and mixes
nested past MAX_JSON_DEPTH (up to the thousands of levels that made json's decoder raise
RecursionError and the gateway close the socket with 1011), closed or left open, in every
field of every client frame type. Each gets ERROR INVALID_MESSAGE, the socket stays open
and a PING after it gets its PONG, and no log gains a traceback (the autouse
`nothing_crashes` fixture)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import example, given, settings

from tests.fuzz.conftest import FUZZ, Socket
from tests.fuzz.nesting import JOIN_OF_1500_OBJECTS, PING_OF_3000_ARRAYS, deeply_nested_frames
from vocabquiz.protocol.frames import MAX_JSON_DEPTH

pytestmark = pytest.mark.stack


@pytest.mark.parametrize("raw", [PING_OF_3000_ARRAYS, JOIN_OF_1500_OBJECTS], ids=["ping", "join"])
def test_the_issues_deep_frames_get_invalid_message_and_the_socket_keeps_serving(
    sockets: Callable[[], Socket], raw: str
) -> None:
    sock = sockets()
    sock.send(raw)
    reply = sock.next_frame()
    assert reply["type"] == "ERROR", reply
    assert reply["payload"]["code"] == "INVALID_MESSAGE" and reply["payload"]["recoverable"] is True
    assert f"deeper than {MAX_JSON_DEPTH} levels" in reply["payload"]["message"]
    sock.assert_still_serves()
    assert sock.ws.close_code is None


@settings(FUZZ, max_examples=60)
@given(case=deeply_nested_frames())
@example(case=("PING", "payload", PING_OF_3000_ARRAYS))
@example(case=("JOIN_SESSION", "payload.session_id", JOIN_OF_1500_OBJECTS))
def test_fuzz_deep_nesting_in_any_field_of_any_frame_gets_invalid_message_and_the_socket_keeps_serving(
    pool: Callable[[], Socket], case: tuple[str, str, str]
) -> None:
    sock = pool()
    sock.send(case[2])
    reply = sock.next_frame()
    assert reply["type"] == "ERROR" and reply["payload"]["code"] == "INVALID_MESSAGE", reply
    sock.assert_still_serves()
