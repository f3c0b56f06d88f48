"""The three measurements, written once for every server under test.

(a) idle: RSS delta of the server process per held socket;
(b) fan-out: frames/s delivered at the clients for a saturating stream of one message to
    a room (K messages sent back to back; rate = frames / (last frame - first frame), so
    Pub/Sub's delivery latency is excluded), plus one-event latency, trigger -> last socket;
(c) the gateway at Cloud Run size: its CPU while 100 sessions get 10 leaderboards/s each.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bench.gateway.common import (
    bench_uid,
    cpu_s,
    group_cpu_s,
    machine_cpu,
    rss_kib,
    session_c_of,
)
from bench.gateway.control import ClientPool
from bench.gateway.frames import BOARD_MARKER, leaderboard_event, session_joined
from bench.gateway.stack import BenchStack
from protocol.envelope import ATTR_ROOM, ATTR_SESSION_ID, ATTR_TARGET_CONNECTION, ROOM_ENTER

Trigger = Callable[[str, int], Awaitable[Any]]  # (room, count): send `count` messages to a room


@dataclass
class Target:
    name: str
    pid: int
    marker: str  # how the clients recognise the stream message
    trigger: Trigger


class Window:
    """CPU of the server, the clients and the whole machine over one measurement."""

    def __init__(self, server_pid: int, client_pids: list[int]) -> None:
        self.server_pid, self.client_pids = server_pid, client_pids
        self.t0 = time.monotonic()
        self.server0 = cpu_s(server_pid)
        self.clients0 = sum(cpu_s(p) for p in client_pids)
        self.machine0 = machine_cpu()

    def close(self, end: float | None = None) -> dict[str, float]:
        wall = (end or time.monotonic()) - self.t0
        busy, total = machine_cpu()
        cores = (total - self.machine0[1]) and (busy - self.machine0[0]) / (total - self.machine0[1])
        return {
            "wall_s": wall,
            "server_cpu_pct": 100 * (cpu_s(self.server_pid) - self.server0) / wall,
            "clients_cpu_pct": 100 * (sum(cpu_s(p) for p in self.client_pids) - self.clients0) / wall,
            "machine_busy_pct_of_all_cores": 100 * cores,
        }


async def settled_rss(pid: int, max_s: float = 8.0) -> int:
    """RSS once it stops moving (two samples 0.5 s apart within 0.5 %)."""
    previous = rss_kib(pid)
    deadline = time.monotonic() + max_s
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        current = rss_kib(pid)
        if abs(current - previous) <= previous * 0.005:
            return current
        previous = current
    return previous


async def connect(pool: ClientPool, total: int, concurrency: int) -> dict[str, Any]:
    replies = await pool.all("connect", timeout_s=600, total=total, concurrency=concurrency)
    failed = sum(r["failed"] for r in replies)
    return {
        "connected": sum(r["connected"] for r in replies),
        "failed": failed,
        "seconds": max(r["seconds"] for r in replies),
    }


async def idle_memory(pool: ClientPool, pid: int, sockets: int, concurrency: int) -> dict[str, Any]:
    # Warm up first: the first handshakes load code and start thread pools once.
    await connect(pool, 64, concurrency)
    await pool.all("close", keep=0, settle_s=1.0)
    before = await settled_rss(pid)
    opened = await connect(pool, sockets, concurrency)
    after = await settled_rss(pid)
    held = opened["connected"]
    return {
        **opened,
        "rss_before_kib": before,
        "rss_after_kib": after,
        "kib_per_socket": (after - before) / held if held else None,
    }


async def _stream(pool: ClientPool, target: Target, room: str, size: int, count: int, timeout_s: float) -> dict[str, Any]:
    await pool.all("reset", marker=target.marker)
    expected = [
        {"hits": pool.share(size, i) * count, "wait_s": timeout_s, "below": size}
        for i in range(len(pool.clients))
    ]
    window = Window(target.pid, pool.pids)
    waiting = asyncio.create_task(pool.each("wait", expected, timeout_s + 30))
    started = time.monotonic()
    await target.trigger(room, count)
    replies = await waiting
    seen = [r for r in replies if r["hits"]]
    hits = sum(r["hits"] for r in replies)
    first = min((r["first"] for r in seen), default=started)
    last = max((r["last"] for r in seen), default=started)
    return {
        "frames": hits,
        "expected": size * count,
        "min_per_socket": min(r["min_per_socket"] for r in replies),
        "frames_per_s": hits / (last - first) if last > first else None,
        "trigger_to_last_ms": 1000 * (last - started),
        "trigger_to_first_ms": 1000 * (first - started),
        **window.close(last),
    }


async def fanout(
    pool: ClientPool, target: Target, room: str, size: int, count: int, reps: int, latency_reps: int
) -> dict[str, Any]:
    timeout_s = max(60.0, size * count / 2000)  # generous: the slowest server at 2,000 frames/s
    latencies = [
        (await _stream(pool, target, room, size, 1, 30))["trigger_to_last_ms"] for _ in range(latency_reps)
    ]
    runs = [await _stream(pool, target, room, size, count, timeout_s) for _ in range(reps)]
    rates = [r["frames_per_s"] or 0.0 for r in runs]
    return {
        "sockets": size,
        "messages": count,
        "frames_per_s": statistics.median(rates),
        "frames_per_s_runs": rates,
        "delivered_fraction": sum(r["frames"] for r in runs) / sum(r["expected"] for r in runs),
        "one_event_to_last_ms_median": statistics.median(latencies) if latencies else None,
        "one_event_to_last_ms_runs": latencies,
        "runs": runs,
    }


# -- the gateway's rooms, entered the honest way -------------------------------------


async def gateway_join(stack: BenchStack, pool: ClientPool, sockets: int) -> dict[str, str]:
    """Every socket g < sockets sends JOIN_SESSION; the gateway publishes it with the
    socket's connection id, which the bench pulls from quiz-commands."""
    await pool.all("reset", marker="\0")
    acks = await pool.all("join", timeout_s=180, below=sockets, session_id="bench", wait_s=120)
    ids = await asyncio.to_thread(stack.connection_ids, {bench_uid(g) for g in range(sockets)}, 120)
    if len(ids) < sockets:
        raise RuntimeError(f"connection ids for {len(ids)} of {sockets} sockets (acks: {acks})")
    return ids


async def gateway_enter(
    stack: BenchStack, pool: ClientPool, ids: dict[str, str], rooms_of: Callable[[int], list[str]], sockets: int
) -> int:
    """Publish one SESSION_JOINED (room=enter, target_connection) per socket and room,
    as the functions do on a join; wait until every socket has received its own."""
    await pool.all("reset", marker="\0")
    futures = []
    per_client = [0] * len(pool.clients)
    for g in range(sockets):
        uid = bench_uid(g)
        for room in rooms_of(g):
            attrs = {ATTR_SESSION_ID: room, ATTR_TARGET_CONNECTION: ids[uid], ATTR_ROOM: ROOM_ENTER}
            futures.append(stack.publish(session_joined(room, uid), attrs))
            per_client[g % len(pool.clients)] += 1
    await asyncio.to_thread(stack.wait_published, futures)
    replies = await pool.each(
        "wait_type", [{"kind": "SESSION_JOINED", "count": n, "wait_s": 120} for n in per_client], 180
    )
    seen = sum(r["seen"] for r in replies)
    if seen < len(futures):
        raise RuntimeError(f"only {seen} of {len(futures)} room entries reached their sockets")
    return seen


def gateway_trigger(stack: BenchStack, message: bytes) -> Trigger:
    async def trigger(room: str, count: int) -> None:
        def publish_all() -> None:
            futures = [stack.publish(message, {ATTR_SESSION_ID: room}, ordering_key=room) for _ in range(count)]
            stack.wait_published(futures)

        await asyncio.to_thread(publish_all)

    return trigger


async def cloud_run_load(
    stack: BenchStack,
    pool: ClientPool,
    gateway_pid: int,
    emulator_pgid: int,
    sockets: int,
    per_session_hz: float,
    warm_s: float,
    measure_s: float,
) -> dict[str, Any]:
    """(c): `sockets` sockets in 100 sessions; each session gets `per_session_hz`
    LEADERBOARD_UPDATED events/s, published as functions/game.py publishes them."""
    members: dict[str, list[str]] = {}
    for g in range(sockets):
        members.setdefault(session_c_of(g), []).append(bench_uid(g))
    versions = 10
    events = {
        s: [leaderboard_event(s, v, uids, seed=1000 * v + int(s[1:])) for v in range(versions)]
        for s, uids in members.items()
    }
    sizes = [len(e) for evs in events.values() for e in evs]
    await pool.all("reset", marker=BOARD_MARKER)
    loop = asyncio.get_running_loop()
    tick = 1 / per_session_hz
    start = loop.time()
    futures: list[object] = []
    window: Window | None = None
    emulator0 = 0.0
    published = published_at_window = 0
    n = 0
    while True:
        now = loop.time()
        if window is None and now - start >= warm_s:
            window, emulator0, published_at_window = Window(gateway_pid, pool.pids), group_cpu_s(emulator_pgid), published
        if now - start >= warm_s + measure_s:
            break
        for s, evs in events.items():
            futures.append(stack.publish(evs[n % versions], {ATTR_SESSION_ID: s}, ordering_key=s))
            published += 1
        n += 1
        await asyncio.sleep(max(0.0, start + n * tick - loop.time()))
    assert window is not None
    measured = window.close()
    emulator_pct = 100 * (group_cpu_s(emulator_pgid) - emulator0) / measured["wall_s"]
    await asyncio.to_thread(stack.wait_published, futures)
    replies = await pool.all("wait", timeout_s=60, wait_s=30, hits=0, quiet_s=1.0)
    frames = sum(r["hits"] for r in replies)
    return {
        "sockets": sockets,
        "sessions": len(members),
        "leaderboards_per_s_per_session": per_session_hz,
        "event_bytes": statistics.median(sizes),
        "published": published,
        "published_in_window": published - published_at_window,
        "frames_delivered": frames,
        "frames_per_s_per_socket": frames / sockets / (warm_s + measure_s),
        "gateway_cpu_pct": measured["server_cpu_pct"],
        "emulator_cpu_pct": emulator_pct,
        **{k: v for k, v in measured.items() if k != "server_cpu_pct"},
    }

