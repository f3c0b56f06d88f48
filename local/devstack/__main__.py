"""`make run`: start the local stack on emulator.json's ports until Ctrl-C."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from devstack.endpoints import CONFIG_VAR, ROOT, config_path, load_endpoints
from devstack.processes import StartError
from devstack.stack import Stack

LOG_DIR_VAR = "DEVSTACK_LOG_DIR"


def ready_banner(stack: Stack) -> str:
    """What to open first (the pages), then what the stack is made of."""
    e = stack.endpoints
    pages = e["gateway"].url
    return f"""
Local stack ready.
  Host page     {pages}/host.html   host a session: pick a quiz, show the code, start
  Player page   {pages}/            players join here with the session code
  Host API      {e["sessions_api"].url}/api/v1/sessions
  Gateway       ws://{e["gateway"].address}/ws   metrics {stack.gateway_metrics.url}/metrics
  Auth emulator {e["auth"].url}   Firestore {e["firestore"].address}   Pub/Sub {e["pubsub"].address}
  Cloud Tasks   {e["tasks"].address} (local stand-in)
  Commands      pushed to on_command by local/devstack/pusher.py, up to {stack.push_max_in_flight()} at once
Play a scripted session:  make demo
Stop everything:          Ctrl-C
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    parser.add_argument(
        "--config",
        type=Path,
        default=config_path(),
        help=f"the ports (default: ${CONFIG_VAR}, else emulator.json)",
    )
    parser.add_argument(
        "--log-dir",
        type=Path,
        default=Path(os.environ.get(LOG_DIR_VAR) or ROOT / ".devstack"),
        help=f"one log per service (default: ${LOG_DIR_VAR}, else .devstack)",
    )
    args = parser.parse_args(argv)
    stack = Stack(load_endpoints(args.config), args.log_dir, ports_source=str(args.config))
    print(f"Starting the local stack (logs in {args.log_dir}/) ...", flush=True)
    try:
        stack.start()
    except StartError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(ready_banner(stack), flush=True)
    stopped = threading.Event()
    # Both set explicitly: a shell's background job starts with SIGINT ignored.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    try:
        while not stopped.wait(1):
            dead = [c for c in stack.children if c.process.poll() is not None]
            if dead:
                print(
                    f"Stopped: {', '.join(c.name for c in dead)} exited; see {dead[0].log_path}",
                    file=sys.stderr,
                )
                return 1
    finally:
        print("Stopping the local stack ...", flush=True)
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
