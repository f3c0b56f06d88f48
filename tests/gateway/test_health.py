"""What the gateway answers on its public port besides sockets and pages, and what it keeps
to localhost: /health/ready from a check made in the background (a flood of probes costs
Pub/Sub nothing), and Prometheus /metrics only on 127.0.0.1, where the sidecar scrapes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx

from tests.gateway.harness import Running


async def ready_status(http: httpx.AsyncClient, running: Running) -> int:
    return (await http.get(f"{running.http}/health/ready")).status_code


async def test_many_readiness_probes_cost_at_most_one_topic_check_per_interval(
    gateway_with: Callable[..., Awaitable[Running]],
) -> None:
    running = await gateway_with(READY_CHECK_INTERVAL_MS="400")
    await asyncio.sleep(0.05)  # the check made at start is done: count from here
    started = time.monotonic()
    checks_before = running.commands.ready_checks
    async with httpx.AsyncClient() as http:
        statuses = [await ready_status(http, running) for _ in range(50)]
        statuses += await asyncio.gather(*(ready_status(http, running) for _ in range(50)))
    elapsed_s = time.monotonic() - started
    assert statuses == [200] * 100
    checks = running.commands.ready_checks - checks_before
    assert checks <= 1 + elapsed_s / 0.4, (checks, elapsed_s)


async def test_readiness_follows_the_topic_check_within_an_interval(
    gateway_with: Callable[..., Awaitable[Running]],
) -> None:
    running = await gateway_with(READY_CHECK_INTERVAL_MS="100")
    async with httpx.AsyncClient() as http:
        assert await ready_status(http, running) == 200
        running.commands.reachable = False  # Pub/Sub stops answering
        await asyncio.sleep(0.3)
        assert await ready_status(http, running) == 503
        running.commands.reachable = True
        await asyncio.sleep(0.3)
        assert await ready_status(http, running) == 200


async def test_readiness_is_503_at_once_when_the_events_stream_is_lost(gateway: Running) -> None:
    async with httpx.AsyncClient() as http:
        assert await ready_status(http, gateway) == 200
        gateway.events.failing_resumes = 1_000  # it stays down
        gateway.events.lose(None)
        assert await ready_status(http, gateway) == 503


async def test_metrics_are_served_on_localhost_and_not_on_the_public_port(gateway: Running) -> None:
    await gateway.connect()
    async with httpx.AsyncClient() as http:
        public = await http.get(f"{gateway.http}/metrics")
        scraped = await http.get(gateway.metrics_url)
    assert public.status_code == 404
    assert "quiz_gateway" not in public.text
    assert scraped.status_code == 200
    assert "quiz_gateway_connections 1.0" in scraped.text
    assert gateway.gateway.metrics_port != gateway.gateway.port
    assert gateway.gateway._metrics_server is not None
    assert gateway.gateway._metrics_server.server_address[0] == "127.0.0.1"


async def test_metrics_port_is_released_when_the_gateway_stops(
    gateway_with: Callable[..., Awaitable[Running]],
) -> None:
    running = await gateway_with()
    running.gateway.stop()
    await asyncio.wait_for(running.task, 10)
    async with httpx.AsyncClient() as http:
        try:
            await http.get(running.metrics_url, timeout=2)
        except httpx.ConnectError:
            return
    raise AssertionError("the metrics port still answers after the gateway stopped")
