"""The wire protocol: every frame type, its payload rules, and the error codes.

Gateway, functions, bots and tests all import this one module, so a frame means the
same thing on every hop. Pure Python: no I/O, no third-party imports.
"""

from vocabquiz.protocol.frames import (
    MAX_ANSWER_CHARS,
    MAX_FRAME_BYTES,
    ClientFrame,
    ClientType,
    ErrorCode,
    ProtocolError,
    ServerType,
    decode_server_frame,
    encode_frame,
    error_frame,
    format_timestamp,
    now_ms,
    parse_client_frame,
    parse_timestamp_ms,
    server_frame,
    validate_client_frame,
)

__all__ = [
    "MAX_ANSWER_CHARS",
    "MAX_FRAME_BYTES",
    "ClientFrame",
    "ClientType",
    "ErrorCode",
    "ProtocolError",
    "ServerType",
    "decode_server_frame",
    "encode_frame",
    "error_frame",
    "format_timestamp",
    "now_ms",
    "parse_client_frame",
    "parse_timestamp_ms",
    "server_frame",
    "validate_client_frame",
]
