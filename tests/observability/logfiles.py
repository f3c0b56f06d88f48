"""Reading the local stack's logs (one JSON line per entry, one file per process) the
way docs/observability.md tells a developer to: by trace id."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

TRACE_KEY = "logging.googleapis.com/trace"

Entry = dict[str, Any]


def entries(path: Path) -> list[Entry]:
    """Every JSON line of a log file; lines that are not JSON objects (a library's
    stray print) are skipped."""
    found: list[Entry] = []
    if not path.exists():
        return found
    for line in path.read_text(errors="replace").splitlines():
        if not line.startswith("{"):
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            found.append(entry)
    return found


def trace_id(entry: Entry) -> str | None:
    """The 32-hex trace id of an entry (its Cloud Logging trace field's last part)."""
    value = entry.get(TRACE_KEY)
    return value.rsplit("/", 1)[-1] if isinstance(value, str) else None


def wait_for_entry(path: Path, match: Callable[[Entry], bool], timeout_s: float = 10) -> Entry:
    deadline = time.monotonic() + timeout_s
    while True:
        for entry in entries(path):
            if match(entry):
                return entry
        if time.monotonic() > deadline:
            tail = [e.get("message") for e in entries(path)[-15:]]
            raise AssertionError(f"no matching line in {path.name} within {timeout_s} s; last: {tail}")
        time.sleep(0.1)
