"""Test harness for the Cloud Tasks emulator: the emulator as a subprocess,
an HTTP receiver that records deliveries, and small request builders."""

from __future__ import annotations

import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from google.cloud import tasks_v2
from google.protobuf import duration_pb2, timestamp_pb2

ROOT = Path(__file__).resolve().parents[2]
LOCATION = "projects/test-project/locations/us-central1"


# ---- emulator process ---------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class EmulatorProcess:
    address: str
    proc: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 5.0) -> int:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return self.proc.returncode


@contextmanager
def run_emulator(log_path: Path, *args: str) -> Iterator[EmulatorProcess]:
    port = free_port()
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tasks_emulator", "--host", "127.0.0.1", "--port", str(port), *args],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,  # its own process group, killed as a whole
        )
    emulator = EmulatorProcess(f"127.0.0.1:{port}", proc, log_path)
    try:
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"emulator exited early:\n{emulator.log()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"emulator never listened:\n{emulator.log()}") from None
                time.sleep(0.05)
        yield emulator
    finally:
        emulator.stop()


# ---- HTTP receiver --------------------------------------------------------------


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes
    at: float  # wall clock, seconds


@dataclass
class _Script:
    failures: int = 0
    fail_status: int = 500
    delay: float = 0.0
    active: int = 0
    max_active: int = 0


@dataclass
class Receiver:
    port: int = 0
    received: list[Received] = field(default_factory=list)
    scripts: dict[str, _Script] = field(default_factory=dict)
    lock: threading.Condition = field(default_factory=threading.Condition)

    def new_path(self) -> str:
        return f"/{uuid.uuid4().hex}"

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def script(self, path: str) -> _Script:
        with self.lock:
            return self.scripts.setdefault(path, _Script())

    def fail(self, path: str, times: int, status: int = 500) -> None:
        script = self.script(path)
        script.failures, script.fail_status = times, status

    def stall(self, path: str, seconds: float) -> None:
        self.script(path).delay = seconds

    def requests(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]

    def wait_for(self, path: str, count: int, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                got = [r for r in self.received if r.path == path]
                if len(got) >= count:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(got)} of {count} requests arrived at {path}")
                self.lock.wait(left)

    def handle(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        at = time.time()
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        path = handler.path
        record = Received(handler.command, path, {k.lower(): v for k, v in handler.headers.items()}, body, at)
        script = self.script(path)
        with self.lock:
            self.received.append(record)
            script.active += 1
            script.max_active = max(script.max_active, script.active)
            status = 200
            if script.failures > 0:
                script.failures -= 1
                status = script.fail_status
            self.lock.notify_all()
        if script.delay:
            time.sleep(script.delay)
        with self.lock:
            script.active -= 1
        try:
            handler.send_response(status)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
        except OSError:
            pass  # the emulator gave up on us (dispatch deadline)


def serve_receiver() -> tuple[Receiver, http.server.ThreadingHTTPServer]:
    """Start a receiver on a free port (stop it with ``server.shutdown()``)."""
    receiver = Receiver()
    server = _Server(("127.0.0.1", 0), _handler_class(receiver))
    receiver.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver, server


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # The default backlog of 5 makes a burst of new connections wait for SYN
    # retransmits (1 s+), which would be blamed on the emulator.
    request_queue_size = 1024


def _handler_class(receiver: Receiver) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the emulator pools connections

        def do_any(self) -> None:
            receiver.handle(self)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_any

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


# ---- helpers ----------------------------------------------------------------------


def seconds(value: float) -> duration_pb2.Duration:
    return duration_pb2.Duration(seconds=int(value), nanos=round(value % 1 * 1e9))


def timestamp(epoch_seconds: float) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromNanoseconds(int(epoch_seconds * 1e9) // 1000 * 1000)
    return ts


def ts_seconds(ts: object) -> float:
    """Epoch seconds of a proto-plus timestamp field (a datetime)."""
    return float(ts.timestamp())  # type: ignore[attr-defined]


def eventually(check: Callable[[], bool], timeout: float = 5.0, interval: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)


QueueFactory = Callable[..., str]


def queue_with(
    name: str,
    *,
    min_backoff: float = 0.05,
    max_backoff: float = 1.0,
    max_doublings: int = 16,
    max_attempts: int = 100,
    max_concurrent_dispatches: int = 0,
    max_dispatches_per_second: float = 0.0,
) -> tasks_v2.Queue:
    """A queue message; retries default to a fast 0.05 s backoff for tests."""
    return tasks_v2.Queue(
        name=name,
        retry_config=tasks_v2.RetryConfig(
            min_backoff=seconds(min_backoff),
            max_backoff=seconds(max_backoff),
            max_doublings=max_doublings,
            max_attempts=max_attempts,
        ),
        rate_limits=tasks_v2.RateLimits(
            max_concurrent_dispatches=max_concurrent_dispatches,
            max_dispatches_per_second=max_dispatches_per_second,
        ),
    )


def http_task(
    url: str,
    *,
    name: str = "",
    at: float | None = None,
    body: bytes = b"",
    method: tasks_v2.HttpMethod = tasks_v2.HttpMethod.POST,
    headers: dict[str, str] | None = None,
) -> tasks_v2.Task:
    task = tasks_v2.Task(
        name=name,
        http_request=tasks_v2.HttpRequest(url=url, http_method=method, body=body, headers=headers or {}),
    )
    if at is not None:
        task.schedule_time = timestamp(at)
    return task


# A dispatcher that does nothing but wait for each ETA and POST: what this machine allows
# right now, to measure the emulator's lateness against (see the lateness test).
_REFERENCE_DISPATCHER = """
import http.client, json, sys, threading, time
port, path, etas, lanes = json.loads(sys.argv[1])
def lane(mine):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    for eta in mine:
        time.sleep(max(0.0, eta - time.time()))
        conn.request("POST", path, body=b"", headers={"X-CloudTasks-TaskETA": repr(eta)})
        conn.getresponse().read()
threads = [threading.Thread(target=lane, args=(sorted(etas)[i::lanes],)) for i in range(lanes)]
for t in threads: t.start()
for t in threads: t.join()
"""


def start_reference_dispatcher(
    receiver: Receiver, path: str, etas: list[float], lanes: int = 8
) -> subprocess.Popen[bytes]:
    """POST to `path` at each ETA from a process of its own, as the emulator is."""
    argv = [sys.executable, "-c", _REFERENCE_DISPATCHER, json.dumps([receiver.port, path, etas, lanes])]
    return subprocess.Popen(argv)


def run_queue_wait_s(pid: int) -> float:
    """How long the process's threads have waited for a CPU, in total (/proc schedstat's
    run_delay): time the kernel, not the process, made it late. 0 where /proc does not say."""
    total_ns = 0
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            total_ns += int((task / "schedstat").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total_ns / 1e9
