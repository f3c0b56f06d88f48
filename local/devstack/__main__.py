"""`make run`: start the local stack on emulator.json's ports until Ctrl-C."""

from __future__ import annotations

import signal
import sys
import threading

from devstack.endpoints import ROOT, load_endpoints
from devstack.processes import StartError
from devstack.stack import Stack


def main() -> int:
    stack = Stack(load_endpoints(), ROOT / ".devstack")
    stack.log_dir.mkdir(exist_ok=True)
    print("Starting the local stack (logs in .devstack/) ...", flush=True)
    try:
        stack.start()
    except StartError as exc:
        print(exc, file=sys.stderr)
        return 1
    e = stack.endpoints
    print(
        f"""
Local stack ready.
  Host API      {e["sessions_api"].url}/api/v1/sessions
  Gateway       ws://{e["gateway"].address}/ws   metrics {stack.gateway_metrics.url}/metrics
  Auth emulator {e["auth"].url}   Firestore {e["firestore"].address}   Pub/Sub {e["pubsub"].address}
  Cloud Tasks   {e["tasks"].address} (local stand-in)
  Commands      pushed to on_command by local/devstack/pusher.py, up to {stack.push_max_in_flight()} at once
Play a scripted session:  make demo
Stop everything:          Ctrl-C
""",
        flush=True,
    )
    stopped = threading.Event()
    # Both set explicitly: a shell's background job starts with SIGINT ignored.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    try:
        while not stopped.wait(1):
            dead = [c.name for c in stack.children if c.process.poll() is not None]
            if dead:
                print(f"Stopped: {', '.join(dead)} exited; see .devstack/{dead[0]}.log", file=sys.stderr)
                return 1
    finally:
        print("Stopping the local stack ...", flush=True)
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
