"""Before a stack starts: every port it will listen on must be free. A port something else
holds is named with the holder (pid and command, when /proc tells), so a second `make run`
beside a running one stops at once and touches nothing of the first one's."""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator, Mapping
from pathlib import Path

from devstack.endpoints import Endpoint
from devstack.processes import StartError

LISTEN = "0A"  # the TCP state /proc/net/tcp gives a listening socket


class PortTaken(StartError):
    """Ports the stack needs are held by another process; the message names each."""


def port_free(endpoint: Endpoint) -> bool:
    """True if a server could bind the address now. SO_REUSEADDR, as the servers set it:
    a closed connection's TIME_WAIT does not count, a listener does."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((endpoint.host, endpoint.port))
        except OSError:
            return False
    return True


def _listening_inodes(port: int, proc: Path) -> set[str]:
    inodes = set()
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            for line in (proc / "net" / table).read_text().splitlines()[1:]:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == LISTEN and int(local.rsplit(":", 1)[1], 16) == port:
                    inodes.add(inode)
    return inodes


def _pids_holding(inodes: set[str], proc: Path) -> Iterator[int]:
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (entry / "fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in wanted:
                        yield int(entry.name)
                        break


def holder(port: int, proc: Path = Path("/proc")) -> str | None:
    """'pid 1234: python -m gateway' for the process listening on `port`, if /proc says."""
    inodes = _listening_inodes(port, proc)
    if not inodes:
        return None
    for pid in sorted(_pids_holding(inodes, proc)):
        with contextlib.suppress(OSError):
            argv = (proc / str(pid) / "cmdline").read_bytes().rstrip(b"\0").split(b"\0")
            command = " ".join(a.decode(errors="replace") for a in argv)
            return f"pid {pid}: {command[:200]}"
    return None


def check_ports_free(endpoints: Mapping[str, Endpoint], config: str) -> None:
    """Refuse to start when any endpoint's port is taken (`config`: where the ports come
    from, for the message)."""
    taken = [(name, e) for name, e in endpoints.items() if not port_free(e)]
    if not taken:
        return
    lines = []
    for name, e in taken:
        who = holder(e.port)
        lines.append(f"  - {e.address} ({name}) is taken" + (f" by {who}" if who else ""))
    raise PortTaken(
        "Cannot start the local stack: ports it needs are in use (nothing was started):\n"
        + "\n".join(lines)
        + f"\nIs another `make run` up? Stop it (Ctrl-C in its terminal), or change the ports in {config}."
    )
