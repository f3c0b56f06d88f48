"""What the bench reads from the functions' logs (no stack: log files written by hand)."""

from __future__ import annotations

import json
from pathlib import Path

from bench.e2e.stack import BenchStack
from devstack.endpoints import FUNCTIONS


def _line(message: str, **fields: object) -> str:
    return json.dumps({"severity": "INFO", "message": message, **fields}) + "\n"


def test_function_lines_are_the_hops_and_invocations_written_since_the_offsets(tmp_path: Path) -> None:
    for name in FUNCTIONS:
        (tmp_path / f"{name}.log").write_text(_line("invocation", function=name, firestore_rpcs=1))
    stack = BenchStack(endpoints={}, log_dir=tmp_path)
    _, offsets = stack.function_lines()
    with (tmp_path / "on_command.log").open("a") as log:
        log.write(_line("bench hop", fn="on_command", total_ms=3.0))
        log.write(_line("something else", note="invocation"))
        log.write('not json "invocation"\n')
        log.write(_line("invocation", function="on_command", firestore_rpcs=2))
        log.write('{"message": "invocation", "function": "on_co')  # still being written
    lines, after = stack.function_lines(offsets)
    assert [(line["message"], line.get("firestore_rpcs")) for line in lines] == [
        ("bench hop", None),
        ("invocation", 2),
    ]
    with (tmp_path / "on_command.log").open("a") as log:
        log.write('mmand", "firestore_rpcs": 5}\n')
    rest, _ = stack.function_lines(after)
    assert [line["firestore_rpcs"] for line in rest] == [5]
