"""Deeply nested JSON for the fuzz properties (tests/fuzz on the stack, tests/gateway on the
in-process gateway): arrays, objects or both, nested past MAX_JSON_DEPTH up to what a
frame's 10 KiB hold, closed or left open, in any field of any client frame type (the
envelope's too, and a field no frame has). json's decoder recurses once per level: near
1,000 it raises RecursionError, which used to close the socket with 1011."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from vocabquiz.protocol import MAX_FRAME_BYTES
from vocabquiz.protocol.frames import MAX_JSON_DEPTH

VALID: dict[str, dict[str, Any]] = {
    "JOIN_SESSION": {"session_id": "ABCDEF", "username": "Zed"},
    "SUBMIT_ANSWER": {"session_id": "ABCDEF", "question_id": "q1", "answer": "elated", "time_taken_ms": 1200},
    "LEAVE_SESSION": {"session_id": "ABCDEF"},
    "REJOIN": {"session_id": "ABCDEF"},
    "WATCH_SESSION": {"session_id": "ABCDEF"},
    "PING": {},
}
ENVELOPE_PLACES = ("payload", "type", "message_id", "timestamp", "traceparent", "extra")
_SLOT = "__deep_value__"  # where the nested text goes in a frame's JSON


def places(frame_type: str) -> list[str]:
    """Where a value can go in a frame of this type: each payload field, an unknown one,
    the payload itself and each envelope field (and an unknown one)."""
    return [f"payload.{name}" for name in (*VALID[frame_type], "extra")] + list(ENVELOPE_PLACES)


# A level opened and closed: an array, an array after an element, an object under a key
# (quotes and brackets in the key are a string's, not nesting).
_ARRAY, _ARRAY_AFTER = ("[", "]"), ("[0,", "]")
_OBJECT_KEYS = st.sampled_from(["a", "", "[{", '"]}', "\\"])
_INNERMOST = st.sampled_from(["1", '"x"', "null", "[]", "{}", '"[[{{"', "true"])


@st.composite
def nested_json(draw: st.DrawFn, budget: int, min_depth: int = MAX_JSON_DEPTH + 1) -> str:
    """JSON text nested `min_depth` deep or more in at most `budget` characters (all
    ASCII: as many bytes): arrays, objects or a repeating mix, closed or left open."""
    shape = draw(st.sampled_from(["arrays", "objects", "mixed"]))
    key = json.dumps(draw(_OBJECT_KEYS))
    obj = ("{" + key + ":", "}")
    if shape == "arrays":
        cycle = [draw(st.sampled_from([_ARRAY, _ARRAY_AFTER]))]
    elif shape == "objects":
        cycle = [obj]
    else:
        cycle = draw(st.lists(st.sampled_from([_ARRAY, _ARRAY_AFTER, obj]), min_size=2, max_size=4))
        cycle[0] = obj  # a mix with an object in it
    closed = draw(st.booleans())
    inner = draw(_INNERMOST)
    costs = [len(opening) + closed * len(closing) for opening, closing in cycle]
    cycles, room = divmod(budget - len(inner), sum(costs))
    most = cycles * len(cycle)
    for cost in costs:  # and what fits of one more round
        if cost > room:
            break
        room -= cost
        most += 1
    assert most >= min_depth, f"no room for a deep value in {budget} characters"
    depth = draw(st.integers(min_value=min_depth, max_value=most))
    levels = [cycle[i % len(cycle)] for i in range(depth)]
    text = "".join(opening for opening, _ in levels) + inner
    if closed:
        text += "".join(closing for _, closing in reversed(levels))
    assert len(text) <= budget
    return text


@st.composite
def deeply_nested_frames(draw: st.DrawFn) -> tuple[str, str, str]:
    """(frame type, place, frame text): a valid frame of a type with a deeply nested value
    at one place, the frame within MAX_FRAME_BYTES."""
    frame_type = draw(st.sampled_from(sorted(VALID)))
    place = draw(st.sampled_from(places(frame_type)))
    frame: dict[str, Any] = {"type": frame_type, "payload": dict(VALID[frame_type]), "message_id": "deep"}
    if place.startswith("payload."):
        frame["payload"][place.removeprefix("payload.")] = _SLOT
    else:
        frame[place] = _SLOT
    skeleton = json.dumps(frame, separators=(",", ":"))
    slot = json.dumps(_SLOT)
    value = draw(nested_json(MAX_FRAME_BYTES - len(skeleton) + len(slot)))
    text = skeleton.replace(slot, value)
    assert len(text.encode()) <= MAX_FRAME_BYTES
    return frame_type, place, text


# The two frames (issue 21): a 6 KB PING whose payload is 3,000 nested arrays, and
# a JOIN_SESSION whose session_id is 1,500 nested objects.
PING_OF_3000_ARRAYS = '{"type":"PING","payload":' + "[" * 3000 + "]" * 3000 + "}"
JOIN_OF_1500_OBJECTS = (
    '{"type":"JOIN_SESSION","payload":{"session_id":'
    + '{"a":' * 1500
    + "1"
    + "}" * 1500
    + ',"username":"Zed"},"message_id":"deep"}'
)
