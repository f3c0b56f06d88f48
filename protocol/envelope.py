"""How frames travel over Pub/Sub between the gateway and the functions.

Commands (`quiz-commands`): data is the client frame as received; attributes carry what
the gateway vouches for. Events (`quiz-events`): data is the server frame to deliver;
attributes say to whom. Attribute values are strings, as Pub/Sub requires.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from protocol.frames import ID_PATTERN, encode_frame

# Command attributes, stamped by the gateway; a client can never set them.
ATTR_UID = "uid"
ATTR_RECEIVED_AT_MS = "received_at_ms"
ATTR_CONNECTION_ID = "connection_id"
ATTR_GATEWAY_ID = "gateway_id"
# "1" on a LEAVE_SESSION the gateway publishes for a socket that closed without leaving:
# the player is away unless they have since come back on another connection.
ATTR_DISCONNECTED = "disconnected"

# Both topics: the W3C trace context of the frame (protocol/tracing.py), so one trace
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

# A LEADERBOARD_UPDATED event carries every participant's rank (uid -> rank) under this
# payload key. The gateway strips it, encodes the shared frame once, and adds each
# socket's own `your_rank`: one event, not N frames of N entries.
RANKS_KEY = "ranks"


@dataclass(frozen=True, slots=True)
class Command:
    """A client frame as the functions receive it, with the gateway's stamps."""

    frame: dict[str, Any]
    uid: str
    received_at_ms: int
    connection_id: str
    disconnected: bool = False


@dataclass(frozen=True, slots=True)
class Event:
    """A server frame and where it goes."""

    session_id: str
    frame: dict[str, Any]
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


def command_from_message(data: bytes, attributes: dict[str, str]) -> Command:
    """Decode a `quiz-commands` message; raises KeyError/ValueError when malformed."""
    frame = json.loads(data)
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
    )
