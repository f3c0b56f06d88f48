"""Shared type names for frames on the wire.

A server frame is built once, by `frames.server_frame` (or a builder over it in the
domain's messages), and never edited after: every key is read-only to the type checker,
and its payload a read-only mapping. A frame that needs another field is built again."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypedDict

if TYPE_CHECKING:
    from typing_extensions import ReadOnly


class ServerFrame(TypedDict):
    """`{"type", "timestamp", "message_id", "payload"}` in this order (boards.py relies on
    `type` first and `payload` last)."""

    type: ReadOnly[str]
    timestamp: ReadOnly[str]
    message_id: ReadOnly[str]
    payload: ReadOnly[Mapping[str, Any]]
