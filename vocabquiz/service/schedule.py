"""What the service asks Cloud Tasks for: a leaderboard flush per (session, window) and
the question timers. A task's name is derived from what it does and when, so Cloud Tasks'
refusal of a duplicate name (ALREADY_EXISTS) is what batches flushes and de-duplicates
timers."""

from __future__ import annotations

from vocabquiz.domain.ids import stable_hash, task_id
from vocabquiz.service.config import Config
from vocabquiz.service.ports import TaskRequest

FLUSH_KIND, SNAPSHOT_KIND = "lb", "snap"  # a flush task's kind: in its name, spans and logs


def flush_request(config: Config, session_id: str, window: int, snapshot: bool = False) -> TaskRequest:
    kind = SNAPSHOT_KIND if snapshot else FLUSH_KIND
    window_ms = config.snapshot_window_ms if snapshot else config.flush_window_ms
    queue = f"{config.flush_queue_prefix}-{stable_hash(session_id) % config.flush_queue_count}"
    return TaskRequest(
        queue=queue,
        task_id=task_id(kind, session_id, window),
        url=config.flush_url,
        body={"session_id": session_id, "window": window, "snapshot": snapshot},
        due_ms=(window + 1) * window_ms,
        kind=kind,
    )


def timer_request(config: Config, session_id: str, action: str, index: int, due_ms: int) -> TaskRequest:
    return TaskRequest(
        queue=config.timer_queue,
        task_id=task_id(action, session_id, index),
        url=config.timer_url,
        body={"session_id": session_id, "action": action, "index": index},
        due_ms=due_ms,
        kind=action,
    )
