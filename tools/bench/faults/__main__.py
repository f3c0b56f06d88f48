"""`python -m bench.faults` (`make bench-faults`): a ledger run on a local stack of its own;
exits 1 when an invariant is violated."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import asdict

import bench.faults
from bench.faults.ledger import Ledger
from bench.faults.options import options_from_args
from devstack.stack import running_stack


def main() -> None:
    options, json_path = options_from_args(bench.faults.__doc__ or "")
    started = time.monotonic()
    print("Starting a local stack ...", flush=True)
    with running_stack() as stack:
        print(f"  stack up in {time.monotonic() - started:.0f} s (logs: {stack.log_dir})", flush=True)
        report = asyncio.run(Ledger(stack, options).run())
    print(report.table())
    if json_path:
        json_path.write_text(json.dumps(asdict(report), indent=2, default=str))
    violations = report.violations()
    if violations:
        print(f"FAILED: {violations}")
        sys.exit(1)
    print("OK: every acknowledged answer scored exactly once")


if __name__ == "__main__":
    main()
