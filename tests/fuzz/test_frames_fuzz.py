"""Bad frames, fuzzed at the gateway: garbage bytes, JSON that is no frame, frames of known
types with wrong, missing, unknown, oversized or huge fields, invalid UTF-8 text, fragmented
and oversized messages. Each gets its ERROR code or close code, the socket's other traffic
is unaffected (a PING afterwards gets its PONG), and nothing crashes (the autouse
`nothing_crashes` fixture reads the logs)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.fuzz.conftest import FUZZ, Socket, tracebacks
from tests.fuzz.nesting import VALID
from vocabquiz.protocol import MAX_FRAME_BYTES, ProtocolError, parse_client_frame, validate_client_frame

pytestmark = pytest.mark.stack

# Every character but lone surrogates: a frame holding one is refused whole (see
# test_frame_with_a_lone_surrogate_... at the end), so leaving them out lets the generated
# frames reach the checks behind that one.
TEXT = st.text(st.characters(codec="utf-8"), max_size=24)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)
# A username has no limit here: any string goes to the name rules (INVALID_NAME).
LIMITS = {"session_id": 64, "question_id": 64, "answer": 200}


def _expect_invalid(socket: Socket, value: Any) -> None:
    """INVALID_MESSAGE, echoing the frame's own message_id when it had a usable one."""
    reply = socket.next_frame()
    assert reply["type"] == "ERROR", reply
    assert reply["payload"]["code"] == "INVALID_MESSAGE", reply
    assert reply["payload"]["recoverable"] is True
    own = value.get("message_id") if isinstance(value, dict) else None
    if isinstance(own, str) and 0 < len(own) <= 64:
        assert reply["message_id"] == own, reply


def _is_valid(value: Any) -> bool:
    try:
        validate_client_frame(value)
    except ProtocolError:
        return False
    return True


@settings(FUZZ, max_examples=60)
@given(data=st.binary(max_size=2048))
def test_fuzz_binary_garbage_gets_invalid_message_and_the_socket_keeps_serving(
    pool: Callable[[], Socket], data: bytes
) -> None:
    try:
        parse_client_frame(data)
        assume(False)  # a valid frame by chance: not this property's business
    except ProtocolError:
        pass
    sock = pool()
    sock.send(data, text=False)
    _expect_invalid(sock, None)
    sock.assert_still_serves()


@settings(FUZZ, max_examples=60)
@given(value=JSON)
def test_fuzz_json_that_is_no_frame_gets_invalid_message(pool: Callable[[], Socket], value: Any) -> None:
    assume(not _is_valid(value))
    sock = pool()
    sock.send(json.dumps(value))
    _expect_invalid(sock, value)
    sock.assert_still_serves()


@st.composite
def broken_frames(draw: st.DrawFn) -> dict[str, Any]:
    """A valid frame of a known type with one thing wrong with it."""
    frame_type = draw(st.sampled_from(sorted(VALID)))
    payload = dict(VALID[frame_type])
    frame: dict[str, Any] = {"type": frame_type, "payload": payload, "message_id": uuid.uuid4().hex}
    fields = sorted(payload)
    wrong_value = JSON.filter(lambda v: not isinstance(v, str))
    mutations = ["extra_payload", "extra_envelope", "type", "message_id", "payload"]
    if fields:
        mutations += ["drop", "wrong_type", "too_long", "empty"]
    mutation = draw(st.sampled_from(mutations))
    if mutation == "drop":
        required = [f for f in fields if f != "time_taken_ms"]
        del payload[draw(st.sampled_from(required))]
    elif mutation == "extra_payload":
        payload[draw(TEXT.filter(lambda k: k not in VALID["SUBMIT_ANSWER"]))] = draw(JSON)
    elif mutation == "extra_envelope":
        frame[draw(TEXT.filter(lambda k: k not in frame and k != "timestamp"))] = draw(JSON)
    elif mutation == "type":
        frame["type"] = draw(
            st.one_of(
                TEXT.filter(lambda t: t not in VALID), st.sampled_from(sorted(VALID)).map(str.lower), JSON
            )
        )
    elif mutation == "message_id":
        frame["message_id"] = draw(st.one_of(st.just(""), st.text(min_size=65, max_size=300), wrong_value))
    elif mutation == "payload":
        frame["payload"] = draw(JSON.filter(lambda v: not isinstance(v, dict)))
    elif mutation == "wrong_type":
        field = draw(st.sampled_from([f for f in fields if f != "time_taken_ms"]))
        payload[field] = draw(wrong_value)
    elif mutation == "too_long":
        field = draw(st.sampled_from([f for f in fields if f in LIMITS]))
        length = draw(st.sampled_from([LIMITS[field] + 1, 1000, 10_000 - 200]))
        payload[field] = draw(st.sampled_from(["x", "é", "\x00", "\u202e"])) * length
    elif mutation == "empty":
        payload[draw(st.sampled_from([f for f in fields if f in LIMITS]))] = ""
    return frame


@settings(FUZZ, max_examples=60)
@given(frame=broken_frames())
def test_fuzz_frames_with_wrong_missing_unknown_or_huge_fields_get_invalid_message(
    pool: Callable[[], Socket], frame: dict[str, Any]
) -> None:
    assume(not _is_valid(frame))
    encoded = json.dumps(frame)
    assume(len(encoded.encode()) <= MAX_FRAME_BYTES)
    sock = pool()
    sock.send(encoded)
    _expect_invalid(sock, frame)
    sock.assert_still_serves()


@settings(FUZZ, max_examples=30)
@given(value=JSON)
def test_fuzz_any_time_taken_ms_is_accepted_and_ignored(pool: Callable[[], Socket], value: Any) -> None:
    """The seed's clients send their own time taken; the server measures its own, so the
    field is accepted whatever it holds (README, The wire protocol)."""
    payload = dict(VALID["SUBMIT_ANSWER"], time_taken_ms=value)
    sock = pool()
    message_id = sock.send_frame("SUBMIT_ANSWER", payload)
    reply = sock.next_frame(15)
    while message_id not in (reply.get("message_id"), reply["payload"].get("message_id")):
        reply = sock.next_frame(15)  # what a pooled socket's earlier frames left behind
    assert reply["type"] == "ACK", reply  # not an ERROR: the first reply to it is its ACK
    sock.assert_still_serves()


@settings(FUZZ, max_examples=60)
@given(
    digits=st.integers(min_value=4_301, max_value=9_000),
    where=st.sampled_from(["time_taken_ms", "message_id"]),
)
def test_fuzz_numbers_too_long_to_parse_get_invalid_message(
    pool: Callable[[], Socket], digits: int, where: str
) -> None:
    payload = dict(VALID["SUBMIT_ANSWER"])
    text = json.dumps({"type": "SUBMIT_ANSWER", "payload": payload, "message_id": "n1"})
    huge = "7" * digits
    if where == "time_taken_ms":
        text = text.replace('"time_taken_ms": 1200', f'"time_taken_ms": {huge}')
    else:
        text = text.replace('"n1"', huge)
    sock = pool()
    sock.send(text)
    _expect_invalid(sock, None)
    sock.assert_still_serves()


INVALID_UTF8 = [b"\xff", b"\xc3\x28", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82", b"\x80"]


@settings(FUZZ, max_examples=25)
@given(
    before=st.binary(max_size=100).map(lambda b: b.decode("utf-8", "ignore").encode()),
    bad=st.sampled_from(INVALID_UTF8),
    after=st.binary(max_size=100).map(lambda b: b.decode("utf-8", "ignore").encode()),
    fragments=st.integers(min_value=1, max_value=4),
)
def test_fuzz_text_that_is_not_utf8_closes_the_socket_with_1007(
    pool: Callable[[], Socket], before: bytes, bad: bytes, after: bytes, fragments: int
) -> None:
    sock = pool()
    data = before + bad + after
    step = max(1, len(data) // fragments)
    pieces = [data[i : i + step] for i in range(0, len(data), step)]
    sock.send_until_closed(pieces[0] if len(pieces) == 1 else iter(pieces), text=True)
    assert sock.close_code() == 1007
    sock.reopen()
    sock.assert_still_serves()


@settings(FUZZ, max_examples=60)
@given(
    padding=st.integers(min_value=0, max_value=MAX_FRAME_BYTES - 200),
    text=st.text(st.characters(codec="utf-8"), max_size=40),
    cuts=st.lists(st.floats(min_value=0, max_value=1), max_size=300),
)
def test_fuzz_fragmented_frames_are_reassembled_whatever_the_cuts(
    pool: Callable[[], Socket], padding: int, text: str, cuts: list[float]
) -> None:
    """Fragments cut anywhere, even inside a multi-byte character, make one frame."""
    message_id = uuid.uuid4().hex
    body = json.dumps({"type": "PING", "payload": {}, "message_id": message_id}, ensure_ascii=False)
    encoded = ("{" + " " * padding + body[1:]).encode()
    sock = pool()
    sock.send(iter(_cut(encoded, cuts)), text=True)
    pong = sock.next_frame()
    assert pong["type"] == "PONG" and pong["message_id"] == message_id
    # A fragmented frame with an unknown payload field (any text) is refused as usual.
    junk = json.dumps({"type": "PING", "payload": {"note": text}}, ensure_ascii=False).encode()
    sock.send(iter(_cut(junk, cuts)), text=True)
    assert sock.next_frame()["payload"]["code"] == "INVALID_MESSAGE"


def _cut(data: bytes, cuts: list[float]) -> list[bytes]:
    """`data` in pieces, cut at these fractions of its length (byte positions: a cut may
    fall inside a multi-byte character)."""
    points = sorted({round(c * len(data)) for c in cuts} - {0, len(data)})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)] or [data]


def test_frame_in_more_than_4096_fragments_closes_the_socket_with_1009(sockets: Callable[[], Socket]) -> None:
    """websockets' own bound on fragments (WEBSOCKETS_MAX_FRAGMENTS), within the size limit."""
    frame = json.dumps({"type": "PING", "payload": {}, "message_id": "many"})
    data = ("{" + " " * (5_000 - len(frame)) + frame[1:]).encode()
    sock = sockets()
    sock.send_until_closed(iter([data[i : i + 1] for i in range(len(data))]), text=True)
    assert sock.close_code() == 1009
    sock.reopen()
    sock.assert_still_serves()


@settings(FUZZ, max_examples=15)
@given(
    size=st.integers(min_value=MAX_FRAME_BYTES + 1, max_value=4 * MAX_FRAME_BYTES),
    fragments=st.integers(min_value=1, max_value=8),
    binary=st.booleans(),
)
def test_fuzz_oversized_frames_whole_or_fragmented_close_the_socket_with_1009(
    pool: Callable[[], Socket], size: int, fragments: int, binary: bool
) -> None:
    frame = json.dumps({"type": "PING", "payload": {}, "message_id": "big"})
    data = ("{" + " " * (size - len(frame)) + frame[1:]).encode()
    assert len(data) == size
    step = -(-size // fragments)
    pieces = [data[i : i + step] for i in range(0, size, step)]
    sock = pool()
    sock.send_until_closed(data if fragments == 1 else iter(pieces), text=not binary)
    assert sock.close_code() == 1009
    sock.reopen()
    sock.assert_still_serves()


@pytest.mark.parametrize("bad", [b'{"type": "PING", "payload": {"x": "\xff"}}', b" " * (MAX_FRAME_BYTES + 1)])
def test_gateway_logs_no_traceback_when_it_closes_a_socket_over_bad_input(
    stack: Any, sockets: Callable[[], Socket], bad: bytes
) -> None:
    before = tracebacks(stack)
    sock = sockets()
    sock.send_until_closed(bad, text=True)
    assert sock.close_code() in (1007, 1009)
    time.sleep(0.5)
    assert not (tracebacks(stack) - before)


@pytest.mark.parametrize(
    "raw",
    [
        '{"type": "PING", "payload": {}, "message_id": "s1", "x\\ud800": 1}',
        '{"type": "LEAVE_SESSION", "payload": {"session_id": "ABCDEF", "\\udfff": 1}, "message_id": "s2"}',
        '{"type": "NOPE", "payload": {}, "message_id": "\\ud800"}',
    ],
    ids=["envelope-key", "payload-key", "message-id"],
)
def test_frame_with_a_lone_surrogate_gets_invalid_message_and_the_socket_keeps_serving(
    sockets: Callable[[], Socket], raw: str
) -> None:
    sock = sockets()
    sock.send(raw)
    reply = sock.next_frame()
    assert reply["type"] == "ERROR" and reply["payload"]["code"] == "INVALID_MESSAGE"
    sock.assert_still_serves()
