"""The log line every component writes: one JSON object in Cloud Logging's structured
shape (severity, message, and the ids that matter), so local and cloud logs read alike."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "severity": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
        }
        entry.update(getattr(record, "json_fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure(level: str = "INFO") -> None:
    """Route the root logger to stdout as JSON lines (Cloud Run and Functions read stdout)."""
    # The lines carry no file or line number; without this, logging walks the stack of
    # every call, and a coroutine that logs keeps its frame object alive as long as it runs.
    logging._srcfile = None
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=level, handlers=[handler], force=True)
