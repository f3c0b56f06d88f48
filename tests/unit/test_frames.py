"""The wire protocol: strict parsing of client frames, stable shapes of server frames."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vocabquiz.protocol import (
    MAX_FRAME_BYTES,
    ClientType,
    ErrorCode,
    ProtocolError,
    error_frame,
    format_timestamp,
    parse_client_frame,
    parse_timestamp_ms,
)
from vocabquiz.protocol.frames import normalize_session_code


def frame(type_: str, payload: object, **extra: object) -> str:
    return json.dumps({"type": type_, "payload": payload, **extra})


def test_valid_submit_answer_is_parsed_with_its_message_id() -> None:
    parsed = parse_client_frame(
        frame("SUBMIT_ANSWER", {"session_id": "S", "question_id": "q1", "answer": "x"}, message_id="m1")
    )
    assert (parsed.type, parsed.message_id) == (ClientType.SUBMIT_ANSWER, "m1")


def test_a_clients_time_taken_is_accepted_whatever_its_value_and_dropped() -> None:
    answer = {"session_id": "S", "question_id": "q", "answer": "x"}
    for sent in (3500, 0, -1, 10**12, 3500.5, -0.25, True, "3500", None, [1], {"ms": 1}):
        parsed = parse_client_frame(frame("SUBMIT_ANSWER", {**answer, "time_taken_ms": sent}))
        assert parsed.payload == answer, sent  # server clocks measure time taken


def test_a_time_taken_is_no_field_of_other_frames() -> None:
    with pytest.raises(ProtocolError) as refused:
        parse_client_frame(frame("JOIN_SESSION", {"session_id": "S", "username": "x", "time_taken_ms": 1}))
    assert refused.value.code is ErrorCode.INVALID_MESSAGE


@pytest.mark.parametrize("username", ["", " ", "x" * 33, "x" * 201, "é" * 1500])
def test_a_username_of_any_length_is_left_to_the_name_rules(username: str) -> None:
    parsed = parse_client_frame(frame("JOIN_SESSION", {"session_id": "S", "username": username}))
    assert parsed.payload["username"] == username


@pytest.mark.parametrize(
    "frame_type", ["JOIN_SESSION", "SUBMIT_ANSWER", "LEAVE_SESSION", "REJOIN", "WATCH_SESSION"]
)
def test_a_session_code_is_read_in_capitals_whatever_case_it_came_in(frame_type: str) -> None:
    payload = {
        "JOIN_SESSION": {"username": "Ann"},
        "SUBMIT_ANSWER": {"question_id": "q1", "answer": "x"},
    }.get(frame_type, {})
    for sent in ("c46f89", "C46f89", "C46F89"):
        parsed = parse_client_frame(frame(frame_type, {"session_id": sent, **payload}))
        assert parsed.payload == {"session_id": "C46F89", **payload}
    assert normalize_session_code("c46f89") == "C46F89"


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "[1, 2]",
        frame("HACK", {}),
        frame("PING", {}, extra="field"),
        frame("JOIN_SESSION", {"session_id": "S"}),
        frame("JOIN_SESSION", {"session_id": "S", "username": 7}),
        frame("JOIN_SESSION", {"session_id": "S", "username": None}),
        frame("JOIN_SESSION", {"session_id": 7, "username": "x"}),
        frame("JOIN_SESSION", {"session_id": "S", "username": "x", "uid": "someone-else"}),
        frame("SUBMIT_ANSWER", {"session_id": "S", "question_id": "q", "answer": "x" * 201}),
        frame("PING", []),
        json.dumps({"type": "PING", "payload": {}, "message_id": 5}),
        b"\xff\xfe",
    ],
)
def test_malformed_frames_are_refused_as_invalid_message(raw: str | bytes) -> None:
    with pytest.raises(ProtocolError) as refused:
        parse_client_frame(raw)
    assert refused.value.code is ErrorCode.INVALID_MESSAGE


def test_frame_over_the_size_cap_is_refused() -> None:
    with pytest.raises(ProtocolError):
        parse_client_frame(" " * (MAX_FRAME_BYTES + 1))


def test_refusal_echoes_the_client_message_id() -> None:
    with pytest.raises(ProtocolError) as refused:
        parse_client_frame(frame("JOIN_SESSION", {}, message_id="abc"))
    assert refused.value.message_id == "abc"


def test_error_frame_says_whether_the_client_can_recover() -> None:
    assert error_frame(ErrorCode.RATE_LIMITED, "slow")["payload"]["recoverable"] is True
    assert error_frame(ErrorCode.KICKED, "bye")["payload"]["recoverable"] is False


@given(st.integers(min_value=0, max_value=4_102_444_800_000))
def test_timestamps_round_trip_to_the_millisecond(epoch_ms: int) -> None:
    assert parse_timestamp_ms(format_timestamp(epoch_ms)) == epoch_ms


@given(st.text(max_size=300) | st.binary(max_size=300))
def test_parser_never_raises_anything_but_protocol_error(raw: str | bytes) -> None:
    with contextlib.suppress(ProtocolError):
        parse_client_frame(raw)


def test_token_past_its_expiry_is_refused_even_where_firebase_admin_skips_the_check() -> None:
    from vocabquiz.protocol.tokens import TokenExpired, require_unexpired

    require_unexpired({"exp": 1_000}, now_s=999)
    for claims in ({"exp": 1_000}, {}, {"exp": "later"}):
        with pytest.raises(TokenExpired):
            require_unexpired(claims, now_s=1_000)


@pytest.mark.parametrize("session_id", ["a/b", "__x__", ".", "..", "sp ace", "é"])
def test_ids_that_cannot_name_a_document_are_refused_at_the_door(session_id: str) -> None:
    with pytest.raises(ProtocolError) as refused:
        parse_client_frame(frame("JOIN_SESSION", {"session_id": session_id, "username": "x"}))
    assert refused.value.code is ErrorCode.INVALID_MESSAGE


def test_lone_surrogates_are_refused_not_stored() -> None:
    raw = '{"type":"SUBMIT_ANSWER","payload":{"session_id":"S","question_id":"q","answer":"caf\\ud800"}}'
    with pytest.raises(ProtocolError) as refused:
        parse_client_frame(raw)
    assert refused.value.code is ErrorCode.INVALID_MESSAGE
