"""How frames travel over Pub/Sub between the gateway and the functions.

Commands (`quiz-commands`): data is the client frame as received; attributes carry what
the gateway vouches for. A batch (attribute `batch`) packs several such commands of one
session into one message: a JSON array of `{"attributes": {...}, "frame": {...}}`.
Events (`quiz-events`): data is the server frame to deliver; attributes say to whom. A
bundle (attribute `bundle`) packs frames for several users of one session, one line each:
`<uid> <frame>`; the gateway splits it. Attribute values are strings, as Pub/Sub requires.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from vocabquiz.protocol.frames import ID_PATTERN, MAX_JSON_DEPTH, ServerType, encode_frame, load_json
from vocabquiz.protocol.types import ServerFrame

# Command attributes, stamped by the gateway; a client can never set them.
ATTR_UID = "uid"
ATTR_RECEIVED_AT_MS = "received_at_ms"
ATTR_CONNECTION_ID = "connection_id"
ATTR_GATEWAY_ID = "gateway_id"
# "1" on a LEAVE_SESSION the gateway publishes for a socket that closed without leaving:
# the player is away unless they have since come back on another connection.
ATTR_DISCONNECTED = "disconnected"
# "1" on a message that packs several commands (encode_command_batch).
ATTR_BATCH = "batch"

# Both topics: the W3C trace context of the frame (vocabquiz/observability/tracing.py), so one trace
# follows it from the gateway through the functions and their tasks back to the sockets.
ATTR_TRACEPARENT = "traceparent"

# Event attributes: the session whose sockets get the frame, optionally narrowed to
# one user or one connection.
ATTR_SESSION_ID = "session_id"
ATTR_TARGET_UID = "target_uid"
ATTR_TARGET_CONNECTION = "target_connection"
# Events the gateway acts on besides delivering: a socket joins or leaves a room.
ATTR_ROOM = "room"
ROOM_ENTER = "enter"
ROOM_LEAVE = "leave"
# "1" on an event that packs frames for several users (encode_bundle).
ATTR_BUNDLE = "bundle"

# A LEADERBOARD_UPDATED event carries every participant's rank (uid -> rank) under this
# payload key. The gateway strips it, encodes the shared frame once, and adds each
# socket's own `your_rank`: one event, not N frames of N entries.
RANKS_KEY = "ranks"

# How deep a command message may nest: a client frame as deep as the gateway lets one be,
# inside a batch's array and its part's object. The gateway publishes frames it has
# validated (2 deep); this keeps a message that is not one from making the decoder
# recurse until it raises RecursionError, which no retry would fix.
MAX_COMMAND_DEPTH = MAX_JSON_DEPTH + 2

# Server frame types published without the session's ordering key (Event.ordered).
UNORDERED_TYPES = frozenset(
    {ServerType.SCORE_UPDATED, ServerType.LEADERBOARD_UPDATED, ServerType.ANSWER_STATS}
)


@dataclass(frozen=True, slots=True)
class Command:
    """A client frame as the functions receive it, with the gateway's stamps."""

    frame: dict[str, Any]
    uid: str
    received_at_ms: int
    connection_id: str
    disconnected: bool = False
    # The W3C trace context the gateway stamped: handling continues this trace.
    traceparent: str | None = None

    @property
    def session_id(self) -> str:
        payload = self.frame.get("payload")
        return str(payload.get("session_id", "")) if isinstance(payload, dict) else ""

    @property
    def trace_carrier(self) -> dict[str, str]:
        return {ATTR_TRACEPARENT: self.traceparent} if self.traceparent else {}


@dataclass(frozen=True, slots=True)
class Event:
    """A server frame and where it goes."""

    session_id: str
    frame: ServerFrame
    target_uid: str | None = None
    target_connection: str | None = None
    room: str | None = None

    def attributes(self) -> dict[str, str]:
        attrs = {ATTR_SESSION_ID: self.session_id}
        if self.target_uid:
            attrs[ATTR_TARGET_UID] = self.target_uid
        if self.target_connection:
            attrs[ATTR_TARGET_CONNECTION] = self.target_connection
        if self.room:
            attrs[ATTR_ROOM] = self.room
        return attrs

    def data(self) -> bytes:
        return encode_frame(self.frame).encode()

    @property
    def ordered(self) -> bool:
        """Whether the event must reach sockets in publish order with the session's other
        ordered events (the session's ordering key). Scores and boards need not: each
        carries its own order (a player's answers; a board's version), and one key
        delivers a few dozen messages a second at most."""
        return self.room is not None or self.frame.get("type") not in UNORDERED_TYPES

    @property
    def bundleable(self) -> bool:
        """One of many per-user frames a batch produces: they travel as one bundle."""
        return not self.ordered and self.target_uid is not None and self.target_connection is None


def encode_command(frame: bytes, attributes: dict[str, str]) -> bytes:
    """One command of a batch: the encoded client frame with the gateway's stamps."""
    return b'{"attributes":%s,"frame":%s}' % (json.dumps(attributes).encode(), frame)


def encode_command_batch(commands: list[bytes]) -> bytes:
    """The data of a batch message, from `encode_command` outputs (never re-encoded)."""
    return b"[%s]" % b",".join(commands)


def commands_from_message(
    data: bytes, attributes: dict[str, str]
) -> tuple[list[Command], list[tuple[dict[str, Any], str]]]:
    """Decode a `quiz-commands` message, single or batch: (the commands, and each part
    that cannot be one with why). Raises ValueError when the message as a whole is not a
    command or a batch (JSON nested past MAX_COMMAND_DEPTH is neither); a bad part spoils
    only itself."""
    if attributes.get(ATTR_BATCH) != "1":
        return [command_from_message(data, attributes)], []
    parts = load_json(data, MAX_COMMAND_DEPTH)
    if not isinstance(parts, list):
        raise ValueError("a command batch is not a JSON array")
    commands: list[Command] = []
    refused: list[tuple[dict[str, Any], str]] = []
    for part in parts:
        try:
            if not isinstance(part, dict) or not isinstance(part.get("attributes"), dict):
                raise ValueError("a batch part is not {attributes, frame}")
            commands.append(_command(part.get("frame"), part["attributes"]))
        except (KeyError, ValueError, TypeError) as exc:
            refused.append((part if isinstance(part, dict) else {}, str(exc)))
    return commands, refused


def command_from_message(data: bytes, attributes: dict[str, str]) -> Command:
    """Decode a single-command `quiz-commands` message; raises KeyError/ValueError when
    malformed."""
    return _command(load_json(data, MAX_COMMAND_DEPTH), attributes)


def _command(frame: Any, attributes: dict[str, str]) -> Command:
    if not isinstance(frame, dict):
        raise ValueError("command data is not a JSON object")
    uid = attributes[ATTR_UID]
    if not ID_PATTERN.fullmatch(uid):  # it names documents: "a/b" would fail on every retry
        raise ValueError(f"uid {uid[:80]!r} cannot name a document")
    return Command(
        frame=frame,
        uid=uid,
        received_at_ms=int(attributes[ATTR_RECEIVED_AT_MS]),
        connection_id=attributes.get(ATTR_CONNECTION_ID, ""),
        disconnected=attributes.get(ATTR_DISCONNECTED) == "1",
        traceparent=attributes.get(ATTR_TRACEPARENT),
    )


def encode_bundle(frames: list[tuple[str, bytes]]) -> bytes:
    """The data of a bundle event: one `<uid> <encoded frame>` line per user. Encoded
    frames hold no raw newline (JSON escapes it) and uids are protocol ids (no spaces)."""
    return b"\n".join(b"%s %s" % (uid.encode(), frame) for uid, frame in frames)


def split_bundle(data: bytes) -> list[tuple[str, bytes]]:
    """(uid, encoded frame) per line of a bundle event."""
    pairs = []
    for line in data.split(b"\n"):
        uid, _, frame = line.partition(b" ")
        if frame:
            pairs.append((uid.decode(), frame))
    return pairs
