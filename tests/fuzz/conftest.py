"""What the fuzz properties share: sockets to the gateway (sync client, paced under the
rate limit), a host over HTTP, and a check that nothing crashed while a property ran.

The sockets open with the game's handshake (bots.client.open_raw_sync) and then send what
a property draws as it is: bytes, fragments, text the protocol's encoder would not write
(`send_frame` keeps json.dumps' ASCII escapes, so lone surrogates reach the gateway)."""

from __future__ import annotations

import contextlib
import itertools
import json
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection

from bots.client import open_raw_sync

# Examples per property: bounded, so that the fuzz suite stays within a minute or two.
FUZZ = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    print_blob=True,
)
SEND_INTERVAL_S = 1 / 15  # under the gateway's 20 frames/s per socket
CHILDREN = ("gateway", "on_command", "flush_leaderboard", "advance_question", "sessions_api")


def sign_up(auth_url: str) -> tuple[str, str]:
    response = httpx.post(
        f"{auth_url}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=local",
        json={"returnSecureToken": True},
        timeout=10,
    )
    response.raise_for_status()
    body = response.json()
    return body["localId"], body["idToken"]


class Socket:
    """One gateway connection; frames are read in order, sends are paced."""

    def __init__(self, url: str, token: str, uid: str) -> None:
        self.url, self.token, self.uid = url, token, uid
        self.ws: ClientConnection = self._open()
        self.sent_at = 0.0

    def _open(self) -> ClientConnection:
        return open_raw_sync(self.url, self.token)

    def reopen(self) -> None:
        with contextlib.suppress(Exception):
            self.ws.close()
        self.ws = self._open()

    def send(self, data: Any, text: bool | None = None) -> None:
        wait = self.sent_at + SEND_INTERVAL_S - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self.sent_at = time.monotonic()
        self.ws.send(data, text=text)

    def send_frame(self, frame_type: str, payload: Any, message_id: str | None = None) -> str:
        message_id = message_id or uuid.uuid4().hex
        self.send(json.dumps({"type": frame_type, "payload": payload, "message_id": message_id}))
        return message_id

    def next_frame(self, timeout_s: float = 10, skip: tuple[str, ...] = ()) -> dict[str, Any]:
        """The next server frame not of a type in `skip` (events of a joined session)."""
        deadline = time.monotonic() + timeout_s
        while True:
            raw = self.ws.recv(timeout=max(0.01, deadline - time.monotonic()))
            frame = json.loads(raw)
            assert isinstance(frame, dict), raw
            if frame.get("type") not in skip:
                return frame

    def reply_to(self, message_id: str, timeout_s: float = 15) -> dict[str, Any]:
        """The first ERROR (or other non-ACK frame) echoing `message_id`."""
        deadline = time.monotonic() + timeout_s
        while True:
            frame = self.next_frame(max(0.01, deadline - time.monotonic()))
            if frame.get("message_id") == message_id and frame["type"] != "ACK":
                return frame

    def assert_still_serves(self) -> None:
        """A PING after the garbage still gets its PONG, on the same socket."""
        message_id = self.send_frame("PING", {})
        while True:
            frame = self.next_frame(5)
            if frame["type"] == "PONG":
                assert frame["message_id"] == message_id
                return

    def send_until_closed(self, data: Any, text: bool | None = None) -> None:
        """Send what the server may close the socket over before it is all sent."""
        with contextlib.suppress(ConnectionClosed):
            self.send(data, text=text)

    def close_code(self, timeout_s: float = 5) -> int | None:
        """Wait for the server to close this socket; the code of its close frame."""
        deadline = time.monotonic() + timeout_s
        with contextlib.suppress(ConnectionClosed, TimeoutError):
            while time.monotonic() < deadline:
                self.ws.recv(timeout=max(0.01, deadline - time.monotonic()))
        return self.ws.close_code

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ws.close()


@pytest.fixture
def ws_url(stack: Any) -> str:
    return f"ws://{stack.endpoints['gateway'].address}/ws"


@pytest.fixture
def auth_url(stack: Any) -> str:
    return str(stack.endpoints["auth"].url)


@pytest.fixture
def sockets(ws_url: str, auth_url: str) -> Iterator[Callable[[], Socket]]:
    """A factory of sockets, each for a new user; all closed at the end."""
    made: list[Socket] = []

    def make() -> Socket:
        uid, token = sign_up(auth_url)
        socket = Socket(ws_url, token, uid)
        made.append(socket)
        return socket

    yield make
    for socket in made:
        socket.close()


@pytest.fixture
def pool(sockets: Callable[[], Socket]) -> Callable[[], Socket]:
    """Round-robin over three sockets (one property's examples share them): three times
    the frames per second within the per-socket rate limit."""
    cycle = itertools.cycle([sockets() for _ in range(3)])

    def next_open() -> Socket:
        socket = next(cycle)
        if socket.ws.close_code is not None:  # closed by an earlier example (or its shrinking)
            socket.reopen()
        return socket

    return next_open


class HttpHost:
    def __init__(self, api_url: str, token: str) -> None:
        self.http = httpx.Client(base_url=api_url, headers={"Authorization": f"Bearer {token}"}, timeout=15)

    def create(self, quiz_id: str = "vocab-101") -> str:
        response = self.http.post("/api/v1/sessions", json={"quiz_id": quiz_id, "auto_advance": False})
        response.raise_for_status()
        return str(response.json()["session_id"])

    def step(self, session_id: str, verb: str) -> dict[str, Any]:
        response = self.http.post(f"/api/v1/sessions/{session_id}/{verb}")
        response.raise_for_status()
        return dict(response.json())


@pytest.fixture
def http_host(stack: Any, auth_url: str) -> Iterator[HttpHost]:
    _, token = sign_up(auth_url)
    host = HttpHost(stack.endpoints["sessions_api"].url, token)
    yield host
    host.http.close()


@pytest.fixture
def firestore_db(stack: Any) -> Any:
    from google.cloud import firestore

    from devstack.stack import PROJECT_ID

    return firestore.Client(project=PROJECT_ID)


# The gateway's handler lets websockets' ConnectionClosedError escape when it closes a socket
# itself (1007, 1009) or a client drops without a close frame: websockets then logs
# "connection handler failed" with a traceback. Counted apart (see
# test_gateway_logs_no_traceback_when_it_closes_a_socket_over_bad_input); any other traceback fails.
CLOSED_HANDLER = "closed-socket handler traceback"


def tracebacks(stack: Any) -> Counter[str]:
    """Tracebacks in the children's logs, keyed `<child>: <exception's last line>`."""
    found: Counter[str] = Counter()
    for name in CHILDREN:
        for path in stack.log_dir.glob(f"{name}*.log"):
            for line in path.read_text(errors="replace").splitlines():
                if "Traceback" not in line:
                    continue
                try:
                    entry = json.loads(line)
                    last = str(entry.get("exception", "")).strip().splitlines()[-1]
                except (ValueError, IndexError, AttributeError):
                    found[f"{name}: {line[:200]}"] += 1
                    continue
                closed = entry.get("message") == "connection handler failed" and last.startswith(
                    "websockets.exceptions.ConnectionClosedError"
                )
                found[f"{name}: {CLOSED_HANDLER}" if closed else f"{name}: {last[:200]}"] += 1
    return found


@pytest.fixture(autouse=True)
def nothing_crashes(stack: Any) -> Iterator[None]:
    """No new traceback in the gateway's or the functions' logs, every process alive."""
    before = tracebacks(stack)
    yield
    time.sleep(0.5)  # the logs catch up
    new = tracebacks(stack) - before
    crashes = {k: v for k, v in new.items() if not k.endswith(CLOSED_HANDLER)}
    assert not crashes, f"tracebacks appeared: {crashes}; logs in {stack.log_dir}"
    dead = [name for name in CHILDREN if stack.child(name).process.poll() is not None]
    assert not dead, f"exited: {dead}"
