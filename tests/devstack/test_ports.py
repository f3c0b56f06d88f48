"""A stack refuses to start when a port it needs is taken, and says by whom."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest

from devstack.endpoints import Endpoint
from devstack.ports import PortTaken, check_ports_free, holder
from devstack.processes import free_port


@pytest.fixture
def listener() -> Iterator[Endpoint]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield Endpoint("127.0.0.1", sock.getsockname()[1])


def test_a_taken_port_is_named_with_its_service_and_the_process_that_holds_it(listener: Endpoint) -> None:
    free = Endpoint("127.0.0.1", free_port())
    with pytest.raises(PortTaken) as refused:
        check_ports_free({"firestore": free, "gateway": listener}, "emulator.json")
    message = str(refused.value)
    assert f"{listener.address} (gateway) is taken by pid {os.getpid()}: " in message
    assert "pytest" in message  # this process's command line
    assert "firestore" not in message
    assert "change the ports in emulator.json" in message


def test_free_ports_pass() -> None:
    check_ports_free({"gateway": Endpoint("127.0.0.1", free_port())}, "emulator.json")


def test_a_port_no_one_listens_on_has_no_holder() -> None:
    assert holder(free_port()) is None
