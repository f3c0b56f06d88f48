"""An in-process gateway per test (tests/gateway/harness.py), stopped after it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from tests.gateway.harness import Running, start_gateway, stopped


@pytest.fixture
async def gateway_with() -> AsyncIterator[Callable[..., Awaitable[Running]]]:
    """`await gateway_with(**env)`: a gateway serving with that environment on top of the defaults."""
    started: list[Running] = []

    async def start(**env: str) -> Running:
        running = await start_gateway(**env)
        started.append(running)
        return running

    yield start
    for running in started:
        running.commands.gate.set()  # a publish a test held back must not hold the shutdown
        for ws in running.sockets:
            await ws.close()
        running.gateway.stop()
        await stopped(running)


@pytest.fixture
async def gateway(gateway_with: Callable[..., Awaitable[Running]]) -> Running:
    return await gateway_with()
