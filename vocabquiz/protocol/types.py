"""Shared type names for frames on the wire."""

from __future__ import annotations

from typing import Any

# A server frame as built by `frames.server_frame`: type, timestamp, message_id, payload.
ServerFrame = dict[str, Any]
