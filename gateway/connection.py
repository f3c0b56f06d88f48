"""A gateway socket: websockets' server connection plus who it is, set at the handshake."""

from __future__ import annotations

import time
import uuid
from typing import Any

from websockets.asyncio.server import ServerConnection

RESTART_CLOSE = (1012, "Service restarting")  # reconnect, to this instance or another


class Connection(ServerConnection):
    """A socket plus who it is (set at the handshake). What the core keeps of its
    client lives in the server's `handle`, from the first frame on: an idle socket holds
    none. `opened_ns` (a monotonic clock) tells the fan-out which sockets opened after an
    event went out, so never had it."""

    __slots__ = ("connection_id", "opened_ns", "uid")

    def setup(self, uid: str) -> None:
        self.uid = uid
        self.connection_id = uuid.uuid4().hex
        self.opened_ns = time.monotonic_ns()

    @property
    def closed_to_reconnect(self) -> bool:
        """Closed by this gateway with 1012 (SIGTERM, a lost events stream): its player is
        reconnecting, not leaving."""
        sent = self.protocol.close_sent
        return sent is not None and sent.code == RESTART_CLOSE[0]

    def ids(self, **more: Any) -> dict[str, Any]:
        """The socket's ids for a lifecycle log line (built then: a dict kept per socket costs memory)."""
        return {"uid": self.uid, "connection_id": self.connection_id, **more}
