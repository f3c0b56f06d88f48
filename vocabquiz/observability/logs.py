"""The log line every component writes: one JSON object in Cloud Logging's structured
shape (severity, message, the trace, and the ids that matter), so local and cloud logs
read alike and Cloud Logging files each line under its trace."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TextIO

from opentelemetry import trace

# The keys Cloud Logging lifts out of a JSON line into the entry's trace fields.
TRACE_KEY = "logging.googleapis.com/trace"
SPAN_KEY = "logging.googleapis.com/spanId"
SAMPLED_KEY = "logging.googleapis.com/trace_sampled"

# Ids that every line of the current request or task carries (bind()).
_bound: ContextVar[dict[str, Any]] = ContextVar("quiz_log_ids", default={})  # noqa: B039 - never mutated


class JsonFormatter(logging.Formatter):
    def __init__(self, project_id: str = "") -> None:
        super().__init__()
        # Cloud Logging wants the trace as a resource name: projects/<project>/traces/<id>.
        self.trace_prefix = f"projects/{project_id or '-'}/traces/"

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "severity": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
        }
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            entry[TRACE_KEY] = f"{self.trace_prefix}{span.trace_id:032x}"
            entry[SPAN_KEY] = f"{span.span_id:016x}"
            entry[SAMPLED_KEY] = span.trace_flags.sampled
        entry.update(_bound.get())
        entry.update(getattr(record, "json_fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


@contextmanager
def bind(**ids: Any) -> Iterator[None]:
    """Every line logged inside the block (same thread or task) carries these ids."""
    token = _bound.set(_bound.get() | {k: v for k, v in ids.items() if v not in (None, "")})
    try:
        yield
    finally:
        _bound.reset(token)


def configure(level: str = "INFO", project_id: str = "", stream: TextIO | None = None) -> None:
    """Route the root logger to stdout (or `stream`) as JSON lines (Cloud Run and
    Functions read stdout). Call sites pass their fields as `extra={"json_fields": {...}}`."""
    # The lines carry no file or line number; without this, logging walks the stack of
    # every call, and a coroutine that logs keeps its frame object alive as long as it runs.
    logging._srcfile = None
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(JsonFormatter(project_id))
    logging.basicConfig(level=level, handlers=[handler], force=True)
