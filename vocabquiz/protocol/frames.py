"""Frames on the wire: `{"type", "payload", "timestamp", "message_id"}` (seed design §6);
a client frame may add a W3C `traceparent` to have its trace continue through the system.

Client frames are parsed strictly (unknown types or fields are refused) because they
come from the internet; server frames are built here so their shape lives in one place.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from vocabquiz.protocol.types import ServerFrame

MAX_FRAME_BYTES = 10 * 1024  # seed design §12.4
# How deep arrays and objects may nest in JSON a client sends: a frame (2 deep), a quiz file
# or an API body (4). json's decoder recurses once per level and raises RecursionError,
# not ValueError, near 1,000: 6 KB of brackets. Far above any real input, far below that.
MAX_JSON_DEPTH = 32
# The WebSocket subprotocol every client offers; beside it, `bearer.<ID token>` (browsers
# cannot set headers on a WebSocket, so the token rides in the subprotocol list), and a
# browser's App Check token as `appcheck.<token>` (never echoed: the gateway selects
# SUBPROTOCOL only).
SUBPROTOCOL = "quiz.v1"
BEARER_PREFIX = "bearer."
APP_CHECK_PREFIX = "appcheck."
MAX_ANSWER_CHARS = 200
MAX_ID_CHARS = 64
MAX_MESSAGE_ID_CHARS = 64


class ClientType(StrEnum):
    JOIN_SESSION = "JOIN_SESSION"
    SUBMIT_ANSWER = "SUBMIT_ANSWER"
    LEAVE_SESSION = "LEAVE_SESSION"
    REJOIN = "REJOIN"
    # The host's own socket: live participants, answer stats and leaderboards.
    WATCH_SESSION = "WATCH_SESSION"
    PING = "PING"


class ServerType(StrEnum):
    ACK = "ACK"
    SESSION_JOINED = "SESSION_JOINED"
    USER_JOINED = "USER_JOINED"
    USER_LEFT = "USER_LEFT"
    SCORE_UPDATED = "SCORE_UPDATED"
    LEADERBOARD_UPDATED = "LEADERBOARD_UPDATED"
    QUESTION_STARTED = "QUESTION_STARTED"
    QUESTION_ENDED = "QUESTION_ENDED"
    SESSION_ENDED = "SESSION_ENDED"
    # To the host only: answers so far to the open question, once per flush window.
    ANSWER_STATS = "ANSWER_STATS"
    # Several USER_JOINED / USER_LEFT of one session in one pacing gap (a join storm).
    PRESENCE_UPDATED = "PRESENCE_UPDATED"
    ERROR = "ERROR"
    PONG = "PONG"


class ErrorCode(StrEnum):
    INVALID_MESSAGE = "INVALID_MESSAGE"
    INVALID_SESSION = "INVALID_SESSION"
    SESSION_FULL = "SESSION_FULL"
    SESSION_NOT_ACTIVE = "SESSION_NOT_ACTIVE"
    NOT_JOINED = "NOT_JOINED"
    NOT_HOST = "NOT_HOST"
    KICKED = "KICKED"
    INVALID_NAME = "INVALID_NAME"
    NAME_TAKEN = "NAME_TAKEN"
    INVALID_QUESTION = "INVALID_QUESTION"
    QUIZ_EXISTS = "QUIZ_EXISTS"
    QUIZ_PRIVATE = "QUIZ_PRIVATE"
    QUIZ_TOO_LARGE = "QUIZ_TOO_LARGE"
    QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
    QUESTION_CLOSED = "QUESTION_CLOSED"
    ALREADY_ANSWERED = "ALREADY_ANSWERED"
    RATE_LIMITED = "RATE_LIMITED"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    INTERNAL = "INTERNAL"


class ProtocolError(Exception):
    """A frame the server refuses; `code` is stable for clients to act on."""

    def __init__(self, code: ErrorCode, message: str, message_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.message_id = message_id


@dataclass(frozen=True, slots=True)
class ClientFrame:
    type: ClientType
    payload: dict[str, Any]
    message_id: str
    # Optional W3C trace context from the client (vocabquiz/observability/tracing.py); a malformed one
    # is ignored there and the gateway starts a new trace.
    traceparent: str | None = None


# Per type: field -> (python type, required, max length for strings; 0: any length).
_STR = str
_CLIENT_FIELDS: dict[ClientType, dict[str, tuple[type, bool, int]]] = {
    ClientType.JOIN_SESSION: {
        "session_id": (_STR, True, MAX_ID_CHARS),
        # Any string: the name rules judge it (INVALID_NAME, domain/names.py), empty or
        # 10,000 characters alike; the frame's size bounds it.
        "username": (_STR, True, 0),
    },
    ClientType.SUBMIT_ANSWER: {
        "session_id": (_STR, True, MAX_ID_CHARS),
        "question_id": (_STR, True, MAX_ID_CHARS),
        "answer": (_STR, True, MAX_ANSWER_CHARS),
    },
    ClientType.LEAVE_SESSION: {"session_id": (_STR, True, MAX_ID_CHARS)},
    ClientType.REJOIN: {"session_id": (_STR, True, MAX_ID_CHARS)},
    ClientType.WATCH_SESSION: {"session_id": (_STR, True, MAX_ID_CHARS)},
    ClientType.PING: {},
}
# Accepted for compatibility with the seed's clients, whatever their value (a float, a
# negative from a skewed clock), and dropped here: time taken is measured on server clocks.
_IGNORED_FIELDS: dict[ClientType, frozenset[str]] = {ClientType.SUBMIT_ANSWER: frozenset({"time_taken_ms"})}
_ENVELOPE_KEYS = frozenset({"type", "payload", "timestamp", "message_id", "traceparent"})
MAX_TRACEPARENT_CHARS = 64  # a W3C traceparent is 55
# Ids become Firestore document ids and Cloud Tasks names: a "/" or "__x__" there is not
# a refusal but a crash on every redelivery, so ids are refused at the door instead.
_ID_FIELDS = frozenset({"session_id", "question_id"})
ID_PATTERN = re.compile(r"(?!__.*__\Z)[A-Za-z0-9_-]{1,64}")  # __x__ ids are Firestore's


class JsonTooDeep(ValueError):
    """JSON whose arrays and objects nest deeper than `max_depth`: refused unread."""

    def __init__(self, max_depth: int) -> None:
        super().__init__(f"arrays and objects nest deeper than {max_depth} levels")
        self.max_depth = max_depth


def load_json(raw: str | bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """json.loads for JSON from outside: nesting past `max_depth` raises JsonTooDeep (a
    ValueError, as any other JSON that will not do) before the decoder recurses into it."""
    # Bytes decoded as json.loads would (UTF-8, -16 or -32), so the scan reads what it reads.
    text = raw if isinstance(raw, str) else raw.decode(json.detect_encoding(raw), "surrogatepass")
    if _nested_deeper_than(text, max_depth):
        raise JsonTooDeep(max_depth)
    return json.loads(text)


# A JSON string: its brackets do not nest. Up to where text stops being JSON this finds
# the strings json does; past that (a quote no quote closes), what it leaves may hold
# brackets json never reaches: it may overstate the depth of text refused anyway, never
# understate it.
_JSON_STRING = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+"', re.DOTALL)
# What is left of text without its strings, as `_nested_deeper_than` counts it: "(" opens
# a level, ")" closes one, everything else (UTF-8 bytes) dropped.
_LEVELS = bytes.maketrans(b"[{]}", b"(())")
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))


def _nested_deeper_than(text: str, max_depth: int) -> bool:
    """Whether arrays and objects in `text` nest deeper than `max_depth`, in C-speed
    passes over it: ~0.3 CPU-us on a typical 200-byte frame (no more levels can open than
    there are brackets; json.loads takes ~2, parse_client_frame ~10), tens of
    microseconds on a 10 KiB frame of brackets."""
    if text.count("[") + text.count("{") <= max_depth:
        return False  # every real frame: a handful of brackets
    outside = _JSON_STRING.sub("", text).encode("utf-8", "surrogatepass")
    levels = outside.translate(_LEVELS, _NOT_BRACKETS)
    opens = levels.count(b"(")
    if opens <= max_depth:
        return False
    # Closed at the end as much as it opens more than it closes, each pass strips the
    # innermost pairs, which lowers the deepest level by one; so many levels opened in a
    # row are that deep at least. (Past a bracket that closes nothing, where json stops,
    # the count may be higher: never lower.)
    too_deep = b"(" * (max_depth + 1)
    levels += b")" * (2 * opens - len(levels))
    for _ in range(max_depth + 1):
        if too_deep in levels:
            return True
        stripped = levels.replace(b"()", b"")
        if len(stripped) == len(levels):
            return False
        levels = stripped
    return True


def parse_client_frame(raw: str | bytes) -> ClientFrame:
    """Decode and validate one client frame, or raise ProtocolError(INVALID_MESSAGE)."""
    if len(raw) > MAX_FRAME_BYTES:
        raise ProtocolError(ErrorCode.INVALID_MESSAGE, f"Frame exceeds {MAX_FRAME_BYTES} bytes")
    try:
        data = load_json(raw)
    except JsonTooDeep as exc:
        raise ProtocolError(ErrorCode.INVALID_MESSAGE, f"Frame's {exc}") from exc
    except ValueError as exc:  # UnicodeDecodeError is one
        raise ProtocolError(ErrorCode.INVALID_MESSAGE, "Frame is not valid JSON") from exc
    return validate_client_frame(data)


def _encodable(value: Any) -> bool:
    """JSON's \\ud800 escapes decode to lone surrogates, which no UTF-8 store or socket takes."""
    try:
        json.dumps(value, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return False
    return True


def validate_client_frame(data: Any) -> ClientFrame:
    """Validate an already-decoded client frame (the functions re-check what they get)."""
    if not isinstance(data, dict):
        raise ProtocolError(ErrorCode.INVALID_MESSAGE, "Frame must be a JSON object")
    message_id = data.get("message_id")
    if message_id is None:
        message_id = uuid.uuid4().hex
    elif not isinstance(message_id, str) or not ID_PATTERN.fullmatch(message_id):
        raise ProtocolError(
            ErrorCode.INVALID_MESSAGE,
            f"message_id must be 1-{MAX_MESSAGE_ID_CHARS} letters, digits, '-' or '_'",
        )
    if not _encodable(data):
        raise _invalid("Frame holds text that is not valid Unicode", message_id)
    unknown = set(data) - _ENVELOPE_KEYS
    if unknown:
        raise _invalid(f"Unknown field(s): {', '.join(sorted(unknown))}", message_id)
    raw_type = data.get("type")
    if not isinstance(raw_type, str) or raw_type not in ClientType.__members__:
        raise _invalid(f"Unknown message type {str(raw_type)[:40]!r}", message_id)
    frame_type = ClientType(raw_type)
    payload = data.get("payload", {})
    if not isinstance(payload, dict):
        raise _invalid("payload must be a JSON object", message_id)
    payload = _checked_payload(frame_type, payload, message_id)
    traceparent = data.get("traceparent")
    if traceparent is not None and (
        not isinstance(traceparent, str) or len(traceparent) > MAX_TRACEPARENT_CHARS
    ):
        raise _invalid(
            f"traceparent must be a string of at most {MAX_TRACEPARENT_CHARS} characters", message_id
        )
    return ClientFrame(frame_type, payload, message_id, traceparent)


def _checked_payload(frame_type: ClientType, payload: dict[str, Any], message_id: str) -> dict[str, Any]:
    """The payload as the server reads it: ignored fields dropped, the session code in
    capitals (codes are case-insensitive: players type them on phones)."""
    ignored = _IGNORED_FIELDS.get(frame_type, frozenset())
    payload = {name: value for name, value in payload.items() if name not in ignored}
    fields = _CLIENT_FIELDS[frame_type]
    unknown = set(payload) - set(fields)
    if unknown:
        raise _invalid(f"Unknown payload field(s): {', '.join(sorted(unknown))}", message_id)
    for name, (kind, required, max_chars) in fields.items():
        if name not in payload:
            if required:
                raise _invalid(f"payload.{name} is required", message_id)
            continue
        value = payload[name]
        # bool is an int in Python; a JSON true is never a valid number here.
        if not isinstance(value, kind) or isinstance(value, bool):
            raise _invalid(f"payload.{name} must be a {kind.__name__}", message_id)
        if max_chars and isinstance(value, str) and not 0 < len(value) <= max_chars:
            raise _invalid(f"payload.{name} must have 1-{max_chars} characters", message_id)
        if name in _ID_FIELDS and isinstance(value, str) and not ID_PATTERN.fullmatch(value):
            raise _invalid(f"payload.{name} must be letters, digits, '-' or '_'", message_id)
    if "session_id" in payload:
        payload["session_id"] = normalize_session_code(payload["session_id"])
    return payload


def normalize_session_code(text: str) -> str:
    """A session code as stored: codes are drawn in capitals (domain/ids.py) and accepted
    in any case, since players type them on phones. Applied where codes come in: client
    frames here, the host API's paths (service/api.py)."""
    return text.upper()


def _invalid(message: str, message_id: str) -> ProtocolError:
    return ProtocolError(ErrorCode.INVALID_MESSAGE, message, message_id)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def format_timestamp(epoch_ms: int) -> str:
    """RFC 3339 UTC with milliseconds, e.g. 2025-11-16T10:30:00.123Z."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"


def parse_timestamp_ms(text: str) -> int:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return round(moment.timestamp() * 1000)


def server_frame(
    frame_type: ServerType,
    payload: Mapping[str, Any],
    *,
    message_id: str | None = None,
    at_ms: int | None = None,
) -> ServerFrame:
    # Type first and payload last, as the gateway relies on: it reads the type from the
    # front of an encoded frame, and splices a player's rank in at the end of a board.
    return {
        "type": frame_type.value,
        "timestamp": format_timestamp(now_ms() if at_ms is None else at_ms),
        "message_id": message_id or uuid.uuid4().hex,
        "payload": payload,
    }


def error_frame(code: ErrorCode, message: str, *, message_id: str | None = None) -> ServerFrame:
    """ERROR frame; `message_id` echoes the client frame it refuses, when known."""
    recoverable = code not in (ErrorCode.INVALID_SESSION, ErrorCode.KICKED, ErrorCode.SESSION_FULL)
    return server_frame(
        ServerType.ERROR,
        {"code": code.value, "message": message, "recoverable": recoverable},
        message_id=message_id,
    )


def presence_update(frames: Sequence[Mapping[str, Any]]) -> ServerFrame:
    """One PRESENCE_UPDATED for several USER_JOINED / USER_LEFT frames of a session, in
    order: `changes` holds each frame's payload with its `type`, and `participant_count`
    is the last one's."""
    changes = [{"type": f["type"], **f["payload"]} for f in frames]
    count = next((c["participant_count"] for c in reversed(changes) if "participant_count" in c), None)
    return server_frame(ServerType.PRESENCE_UPDATED, {"participant_count": count, "changes": changes})


def expand_presence(frame: Mapping[str, Any]) -> list[dict[str, Any]]:
    """For clients: the USER_JOINED / USER_LEFT frames a PRESENCE_UPDATED stands for."""
    expanded = []
    for change in frame["payload"]["changes"]:
        payload = {k: v for k, v in change.items() if k != "type"}
        expanded.append({**frame, "type": change["type"], "payload": payload})
    return expanded


def encode_frame(frame: Mapping[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)


def decode_server_frame(raw: str | bytes) -> dict[str, Any]:
    """For clients (bots, tests): a server frame as a dict, with its type checked."""
    frame = json.loads(raw)
    if not isinstance(frame, dict) or frame.get("type") not in ServerType.__members__:
        raise ProtocolError(ErrorCode.INVALID_MESSAGE, f"Not a server frame: {str(raw)[:80]}")
    return frame
