"""JSON from outside, bounded by depth as well as bytes: a client frame, a command the
gateway relayed and a quiz file nested past MAX_JSON_DEPTH are refused unread, with the
error each caller already handles (INVALID_MESSAGE, ValueError, QuizFileError), never the
RecursionError json's decoder raises near 1,000 levels."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.fuzz.nesting import JOIN_OF_1500_OBJECTS, PING_OF_3000_ARRAYS, deeply_nested_frames, nested_json
from vocabquiz.domain.quizfile import QuizFileError, load_quiz_text
from vocabquiz.protocol import ClientType, ErrorCode, ProtocolError, parse_client_frame
from vocabquiz.protocol.envelope import (
    ATTR_BATCH,
    ATTR_RECEIVED_AT_MS,
    ATTR_UID,
    MAX_COMMAND_DEPTH,
    commands_from_message,
    encode_command,
    encode_command_batch,
)
from vocabquiz.protocol.frames import MAX_JSON_DEPTH, JsonTooDeep, load_json

STAMPS = {ATTR_UID: "ann", ATTR_RECEIVED_AT_MS: "1"}


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    return 0


# Strings full of what a scan could mistake for nesting: brackets, quotes, backslashes.
TRICKY_TEXT = st.text(st.sampled_from('[]{}"\\:,aé\u2028'), max_size=6)
JSON_VALUES = st.recursive(
    st.none() | st.integers() | TRICKY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TRICKY_TEXT, inner, max_size=3),
    max_leaves=60,
)


@settings(max_examples=400, deadline=None)
@given(value=JSON_VALUES, ascii_only=st.booleans(), indent=st.sampled_from([None, 0, 2]))
def test_json_is_read_up_to_its_exact_depth_and_refused_one_level_below(
    value: Any, ascii_only: bool, indent: int | None
) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only, indent=indent)
    depth = _depth(value)
    assert load_json(text, max_depth=depth) == value
    assert load_json(text.encode("utf-16"), max_depth=depth) == value
    if depth:
        with pytest.raises(JsonTooDeep):
            load_json(text, max_depth=depth - 1)


def _levels_json_opens(text: str) -> int:
    """How deep json's decoder goes in `text` before it stops, at its end or at the first
    thing that is not JSON: the deepest level of brackets outside strings up to there."""
    try:
        json.loads(text)
        end = len(text)
    except json.JSONDecodeError as exc:
        end = exc.pos + 1
    depth = deepest = 0
    in_string = escaped = False
    for char in text[:end]:
        if in_string:
            escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


@settings(max_examples=1000, deadline=None)
@given(text=st.text(st.sampled_from('[]{}[{"\\:,1 '), max_size=120), limit=st.integers(1, 12))
@example(text='{"a": "x' + "[" * 40, limit=32)  # a string left open
@example(text="]" + "[" * 40, limit=32)  # past a bracket that closes nothing
def test_text_that_is_not_json_is_never_let_deeper_than_the_limit(text: str, limit: int) -> None:
    """Whatever the text, nothing json's decoder would recurse past `limit` gets to it."""
    try:
        load_json(text, max_depth=limit)
    except JsonTooDeep:
        return
    except ValueError:
        pass
    assert _levels_json_opens(text) <= limit


@pytest.mark.parametrize("raw", [PING_OF_3000_ARRAYS, JOIN_OF_1500_OBJECTS], ids=["ping", "join"])
def test_the_issues_deep_frames_are_invalid_message(raw: str) -> None:
    with pytest.raises(ProtocolError) as refused:
        parse_client_frame(raw)
    assert refused.value.code is ErrorCode.INVALID_MESSAGE
    assert refused.value.message == f"Frame's arrays and objects nest deeper than {MAX_JSON_DEPTH} levels"


@settings(max_examples=300, deadline=None)
@given(case=deeply_nested_frames())
def test_deep_nesting_anywhere_in_any_frame_is_invalid_message(case: tuple[str, str, str]) -> None:
    with pytest.raises(ProtocolError) as refused:
        parse_client_frame(case[2])
    assert refused.value.code is ErrorCode.INVALID_MESSAGE


def test_deep_nesting_in_a_binary_frame_in_any_unicode_encoding_is_invalid_message() -> None:
    for encoding in ("utf-8", "utf-16-le", "utf-16-be", "utf-32"):
        with pytest.raises(ProtocolError) as refused:
            parse_client_frame(("[" * 1200).encode(encoding))
        assert "deeper than" in refused.value.message, encoding


def test_brackets_inside_strings_are_text_not_nesting() -> None:
    name = '[{"' * 800 + "\\" * 2
    raw = json.dumps({"type": "JOIN_SESSION", "payload": {"session_id": "S1", "username": name}})
    frame = parse_client_frame(raw)
    assert (frame.type, frame.payload["username"]) == (ClientType.JOIN_SESSION, name)


@settings(max_examples=50, deadline=None)
@given(deep=nested_json(budget=9_000, min_depth=MAX_COMMAND_DEPTH))
def test_a_relayed_command_nested_too_deep_is_a_malformed_message_not_a_crash(deep: str) -> None:
    """The functions get a ValueError (dropped as poison), never a RecursionError (an
    invocation that fails on every redelivery), alone or in a batch."""
    frame = b'{"type":"PING","payload":' + deep.encode() + b"}"
    with pytest.raises(ValueError, match="deeper than"):
        commands_from_message(frame, STAMPS)
    part = encode_command(frame, STAMPS)
    with pytest.raises(ValueError, match="deeper than"):
        commands_from_message(encode_command_batch([part]), {ATTR_BATCH: "1"})


def test_a_batch_of_frames_as_deep_as_the_gateway_lets_through_still_decodes() -> None:
    nested: Any = "x"
    for _ in range(MAX_JSON_DEPTH - 2):  # a frame's object and its payload's, then these
        nested = [nested]
    frame = {"type": "PING", "payload": {"note": nested}, "message_id": "m1"}
    assert _depth(frame) == MAX_JSON_DEPTH and MAX_COMMAND_DEPTH == MAX_JSON_DEPTH + 2
    batch = encode_command_batch([encode_command(json.dumps(frame).encode(), STAMPS)] * 2)
    commands, refused = commands_from_message(batch, {ATTR_BATCH: "1"})
    assert [c.frame for c in commands] == [frame, frame] and refused == []


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 990, 3000])
def test_a_quiz_file_nested_too_deep_is_a_quiz_file_error(depth: int) -> None:
    quiz = {"id": "deep", "title": "Deep", "questions": [], "tags": "SLOT"}
    text = json.dumps(quiz).replace('"SLOT"', "[" * depth + "]" * depth)
    with pytest.raises(QuizFileError) as refused:
        load_quiz_text(text, "deep.json")
    assert (
        str(refused.value)
        == f"deep.json: not a quiz: arrays and objects nest deeper than {MAX_JSON_DEPTH} levels"
    )


def test_a_quiz_file_as_deep_as_the_format_goes_is_read() -> None:
    question = {
        "id": "q1",
        "kind": "choice",
        "text": "Glad?",
        "options": ["[yes]", "{no}"],
        "accepted": ["[yes]"],
    }
    quiz = load_quiz_text(json.dumps({"id": "ok", "title": "Ok", "questions": [question]}), "ok.json")
    assert quiz.questions[0].options == ("[yes]", "{no}")
