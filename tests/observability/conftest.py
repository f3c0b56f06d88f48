"""The observability tests run their own stack, with spans written to each process's
log as JSON lines (OTEL_TRACES_EXPORTER=console), so a test can see the spans of a trace
as well as its log lines."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import REVEAL_PAUSE_MS


@pytest.fixture(scope="package")
def stack() -> Iterator[object]:
    from devstack.stack import running_stack

    env = {"REVEAL_PAUSE_MS": str(REVEAL_PAUSE_MS), "OTEL_TRACES_EXPORTER": "console"}
    with running_stack(extra_env=env) as running:
        yield running
